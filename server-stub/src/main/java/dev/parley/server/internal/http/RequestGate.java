package dev.parley.server.internal.http;

import dev.parley.protocol.ErrorCode;
import dev.parley.server.ServerConfig;
import dev.parley.server.internal.ApiException;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * What every request must show before a route sees it (SPEC §8). On a server bound to a loopback address, a
 * {@code Host} header naming this machine ({@code 127.0.0.1}, {@code localhost}, {@code [::1]}, any port): a web
 * page whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name, and gets 421. When a launch
 * secret is set (the desktop's embedded server), the {@value ServerConfig.Security#SECRET_HEADER} header equal to
 * it, compared in constant time, else 403 {@code forbidden}.
 *
 * <p>{@code GET /health} needs no secret: it tells whether the server is up and nothing else, and a liveness probe
 * should not have to hold a secret. The Host rule still applies to it. Immutable and thread-safe.
 */
final class RequestGate {
    private final boolean loopbackOnly;
    private final byte[] secret;

    /**
     * @param boundHost the address the server listens on
     * @param launchSecret the secret requests must carry, or {@code null}
     */
    RequestGate(String boundHost, String launchSecret) {
        this.loopbackOnly = isLoopback(boundHost);
        this.secret = launchSecret == null ? null : launchSecret.getBytes(StandardCharsets.UTF_8);
    }

    void check(Context ctx) {
        if (loopbackOnly && !isLoopbackHost(ctx.header("Host"))) {
            throw new MisdirectedRequest();
        }
        if (secret != null && !"/health".equals(ctx.path())) {
            String given = ctx.header(ServerConfig.Security.SECRET_HEADER);
            // MessageDigest.isEqual takes the same time whatever the position of the first difference.
            if (given == null || !MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8))) {
                throw new ApiException(ErrorCode.FORBIDDEN, "This server answers only the app that started it.");
            }
        }
    }

    /** Whether a bind address is a loopback one, so that only this machine can reach the server. */
    static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
    }

    /**
     * Whether a {@code Host} header names this machine. A request without one (HTTP/1.0) passes: every browser
     * sends it, so leaving it out is no way round the rule.
     */
    static boolean isLoopbackHost(String header) {
        if (header == null) {
            return true;
        }
        String h = header.strip().toLowerCase(Locale.ROOT);
        String name;
        String port;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0) {
                return false;
            }
            name = h.substring(0, end + 1);
            port = h.substring(end + 1);
        } else {
            int colon = h.indexOf(':');
            name = colon < 0 ? h : h.substring(0, colon);
            port = colon < 0 ? "" : h.substring(colon);
        }
        if (!port.isEmpty() && !port.matches(":\\d{1,5}")) {
            return false;
        }
        return name.equals("127.0.0.1") || name.equals("localhost") || name.equals("[::1]");
    }

    /** A request for a name this server does not answer to: 421 Misdirected Request. */
    static final class MisdirectedRequest extends RuntimeException {
        MisdirectedRequest() {
            super("This server answers only requests addressed to 127.0.0.1, localhost or [::1].", null, false,
                    false);
        }
    }
}
