package dev.parley.desktop.viewmodel;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** A base URL as typed in Settings (a Parley server's, a model provider's): what is wrong with it, in words. */
final class WebAddress {
    private WebAddress() {
    }

    /**
     * The first problem with {@code url}, or {@code null} when it is an http(s) address with a host and no query
     * or fragment.
     *
     * @param whose   what the address is of, as the messages say it ("The server's address")
     * @param example an address of that kind, for the messages
     * @param missing what to say when nothing is typed
     */
    static String problem(String url, String whose, String example, String missing) {
        String u = url == null ? "" : url.strip();
        if (u.isEmpty()) {
            return missing;
        }
        try {
            URI uri = new URI(u);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                return whose + " must start with http:// or https://.";
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                return whose + " needs a host name, such as " + example + ".";
            }
            if (uri.getQuery() != null || uri.getFragment() != null) {
                return whose + " cannot have a ? or # part.";
            }
        } catch (URISyntaxException e) {
            return "That is not a web address: " + e.getReason() + ".";
        }
        return null;
    }

    /**
     * The host of a plain {@code http://} address that is not this machine (a password sent there could be read on
     * the way), or {@code null} for https, for a loopback host ({@code localhost}, {@code 127.x}, {@code ::1}) and
     * when there is no address. {@code server} may be a label holding the address, such as
     * {@code embedded (http://127.0.0.1:4711)}.
     */
    static String plainRemoteHost(String server) {
        if (server == null) {
            return null;
        }
        String lower = server.toLowerCase(Locale.ROOT);
        int at = lower.indexOf("http://");
        if (at < 0) {
            return null; // https://, or no address at all
        }
        String rest = server.substring(at);
        int end = rest.indexOf(')');
        String url = (end < 0 ? rest : rest.substring(0, end)).strip();
        String host;
        try {
            host = new URI(url).getHost();
        } catch (URISyntaxException e) {
            host = null;
        }
        if (host == null || host.isEmpty()) {
            return url; // unreadable: warn rather than send a password to who knows where
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        boolean loopback = h.equals("localhost") || h.endsWith(".localhost") || h.matches("127(\\.\\d{1,3}){3}")
                || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
        return loopback ? null : host;
    }

    /** {@code url} stripped, without a trailing slash. */
    static String normalized(String url) {
        String u = url.strip();
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }
}
