package dev.parley.desktop;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback address of a test's own in front of a server that is stopped and started again: the relay binds port 0
 * once and keeps it until closed, so no other process can take the client's port between a stop and a start (the
 * server itself gets a new port 0 each time). Bytes are passed on unchanged in both directions, as are the ends of
 * connections. While no server is set, each connection is reset as soon as it is accepted: the client sees a
 * transport failure, as with a server that is down.
 *
 * <p>Thread-safe; its daemon threads accept and copy. The test owns it and closes it, which resets every connection.
 */
final class TcpRelay implements AutoCloseable {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final ServerSocket listener;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    /** The server's port on loopback, or 0 while there is none. */
    private volatile int target;

    TcpRelay() throws IOException {
        listener = new ServerSocket(0, 50, LOOPBACK);
        daemon("relay-accept-" + port(), this::acceptAll).start();
    }

    /** The port the client uses; it never changes. */
    int port() {
        return listener.getLocalPort();
    }

    String url() {
        return "http://" + LOOPBACK.getHostAddress() + ":" + port();
    }

    /** Passes new connections on to the server listening on loopback at {@code serverPort}. */
    void forwardTo(int serverPort) {
        target = serverPort;
    }

    /**
     * From now on resets each new connection: nothing answers any more. Connections already open are left to end
     * as the server ends them when it stops.
     */
    void refuse() {
        target = 0;
    }

    @Override
    public void close() throws IOException {
        target = 0;
        listener.close();
        open.forEach(this::reset);
    }

    private void acceptAll() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            int port = target;
            Socket server = port == 0 ? null : connect(port);
            if (server == null) {
                reset(client);
                continue;
            }
            open.add(client);
            open.add(server);
            if (target != port) { // refused or redirected while this one was being connected
                reset(client);
                reset(server);
                continue;
            }
            AtomicInteger ended = new AtomicInteger();
            daemon("relay-up-" + port(), () -> copy(client, server, ended)).start();
            daemon("relay-down-" + port(), () -> copy(server, client, ended)).start();
        }
    }

    private static Socket connect(int port) {
        try {
            return new Socket(LOOPBACK, port);
        } catch (IOException e) {
            return null;
        }
    }

    /** Copies until {@code from} ends, then ends {@code to}'s output likewise; the second direction to end closes. */
    private void copy(Socket from, Socket to, AtomicInteger ended) {
        byte[] buffer = new byte[8192];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // One side was reset or cut: so is the other, as a direct connection would be.
            reset(from);
            reset(to);
            return;
        }
        if (ended.incrementAndGet() == 2) {
            close(from);
            close(to);
        }
    }

    private void close(Socket socket) {
        open.remove(socket);
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }

    private void reset(Socket socket) {
        open.remove(socket);
        try {
            socket.setSoLinger(true, 0); // close with a reset, not an orderly end
        } catch (IOException e) {
            // already closed
        }
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }

    private static Thread daemon(String name, Runnable work) {
        Thread thread = new Thread(work, name);
        thread.setDaemon(true);
        return thread;
    }
}
