package dev.parley.server.internal.net;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Says which client a request comes from, for every limit kept per client address (anonymous chats, sign-in
 * attempts, open connections): the socket's address, unless that address is one of the trusted proxies
 * ({@code --trusted-proxy CIDR}), in which case the right-most {@code X-Forwarded-For} entry that is not itself a
 * trusted proxy. Entries left of that one were written by the client and prove nothing.
 *
 * <p>The key of an IPv6 address is its /64, since one subscriber usually holds a whole /64 and could otherwise
 * step round every limit by changing the low bits. Immutable and thread-safe.
 */
public final class ClientAddresses {
    private final List<Block> trusted;

    /** @param trustedProxies CIDR blocks such as {@code 10.0.0.0/8} or {@code fd00::/8}; may be empty */
    public ClientAddresses(List<String> trustedProxies) {
        List<Block> blocks = new ArrayList<>();
        for (String cidr : trustedProxies) {
            blocks.add(Block.parse(cidr));
        }
        this.trusted = List.copyOf(blocks);
    }

    /**
     * The key of the client behind a request.
     *
     * @param socketAddress the peer of the connection (an IP literal)
     * @param forwardedFor  the {@code X-Forwarded-For} header, or {@code null}
     */
    public String resolve(String socketAddress, String forwardedFor) {
        byte[] peer = literal(socketAddress);
        if (peer == null) {
            return socketAddress;
        }
        if (forwardedFor != null && isTrusted(peer)) {
            String[] hops = forwardedFor.split(",");
            for (int i = hops.length - 1; i >= 0; i--) {
                byte[] hop = literal(strip(hops[i]));
                if (hop == null) {
                    break; // garbage written by someone: the last proxy's own view stands
                }
                peer = hop;
                if (!isTrusted(hop)) {
                    break;
                }
            }
        }
        return key(peer);
    }

    /** The key of one address: itself for IPv4, its /64 for IPv6 (IPv4-mapped IPv6 is taken as IPv4). */
    public static String key(String address) {
        byte[] bytes = literal(address);
        return bytes == null ? address : key(bytes);
    }

    /** Whether an address (an IP literal) lies in one of the trusted proxies' blocks. */
    public boolean isTrustedProxy(String address) {
        byte[] bytes = literal(address);
        return bytes != null && isTrusted(bytes);
    }

    private boolean isTrusted(byte[] address) {
        for (Block block : trusted) {
            if (block.contains(address)) {
                return true;
            }
        }
        return false;
    }

    private static String key(byte[] address) {
        if (address.length == 4) {
            return (address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff) + "."
                    + (address[3] & 0xff);
        }
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < 8; i += 2) {
            prefix.append(Integer.toHexString(((address[i] & 0xff) << 8) | (address[i + 1] & 0xff))).append(':');
        }
        return prefix.append(":/64").toString();
    }

    /** Strips a port and brackets ({@code [::1]:443}, {@code 1.2.3.4:80}) some proxies add. */
    private static String strip(String hop) {
        String s = hop.strip();
        if (s.startsWith("[")) {
            int end = s.indexOf(']');
            return end < 0 ? s : s.substring(1, end);
        }
        int colon = s.indexOf(':');
        if (colon > 0 && colon == s.lastIndexOf(':') && s.indexOf('.') > 0) {
            return s.substring(0, colon);
        }
        return s;
    }

    /** The bytes of an IP literal, or {@code null} for anything else (never a DNS lookup). */
    static byte[] literal(String text) {
        if (text == null || text.isEmpty() || !text.matches("[0-9A-Fa-f:.%a-zA-Z]+")) {
            return null;
        }
        String s = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        int zone = s.indexOf('%');
        if (zone >= 0) {
            s = s.substring(0, zone);
        }
        boolean ipv4 = s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        if (ipv4) {
            for (String octet : s.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    return null; // not an address, and InetAddress would look it up as a name
                }
            }
        } else if (!(s.contains(":") && s.matches("[0-9A-Fa-f:.]+"))) {
            return null; // a host name: InetAddress would resolve it
        }
        try {
            InetAddress address = InetAddress.getByName(s);
            byte[] bytes = address.getAddress();
            if (address instanceof Inet6Address && isMappedIpv4(bytes)) {
                return new byte[] {bytes[12], bytes[13], bytes[14], bytes[15]};
            }
            return bytes;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static boolean isMappedIpv4(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    /** One CIDR block. */
    private record Block(byte[] network, int prefix) {
        static Block parse(String cidr) {
            int slash = cidr.indexOf('/');
            byte[] network = slash < 0 ? null : literal(cidr.substring(0, slash));
            int prefix = slash < 0 ? -1 : Integer.parseInt(cidr.substring(slash + 1));
            if (network == null || prefix < 0 || prefix > network.length * 8) {
                throw new IllegalArgumentException("--trusted-proxy must be a CIDR block such as 10.0.0.0/8, not '"
                        + cidr + "'");
            }
            return new Block(network, prefix);
        }

        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int whole = prefix / 8;
            for (int i = 0; i < whole; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (address[whole] & mask) == (network[whole] & mask);
        }
    }
}
