package dev.parley.server.internal.net;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.io.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a new connection at once when its client address (keyed as {@link ClientAddresses#key}, so an IPv6 /64
 * counts as one client) already holds the most connections allowed. Connections from a trusted proxy are not
 * counted: they carry many clients, told apart only later by {@code X-Forwarded-For}. Jetty's
 * {@code ConnectionLimit} bounds all connections together, which one client could fill for everyone.
 * Thread-safe; added to a connector as a {@link Connection.Listener}.
 */
public final class ConnectionsPerAddress implements Connection.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionsPerAddress.class);
    private final int limit;
    private final ClientAddresses addresses;
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Connection, String> counted = new ConcurrentHashMap<>();

    public ConnectionsPerAddress(int limit, ClientAddresses addresses) {
        this.limit = limit;
        this.addresses = addresses;
    }

    @Override
    public void onOpened(Connection connection) {
        String key = keyOf(connection.getEndPoint().getRemoteSocketAddress());
        if (key == null) {
            return;
        }
        counted.put(connection, key);
        if (open.merge(key, 1, Integer::sum) > limit) {
            LOG.debug("closing a connection from {}: it holds {} already", key, limit);
            connection.getEndPoint().close();
        }
    }

    @Override
    public void onClosed(Connection connection) {
        String key = counted.remove(connection);
        if (key == null) {
            return;
        }
        open.computeIfPresent(key, (k, count) -> count <= 1 ? null : count - 1);
    }

    /** Connections open now from one client key (for tests and diagnostics). */
    int openFrom(String key) {
        return open.getOrDefault(key, 0);
    }

    private String keyOf(SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return null;
        }
        String ip = inet.getAddress().getHostAddress();
        return addresses.isTrustedProxy(ip) ? null : ClientAddresses.key(ip);
    }
}
