package dev.parley.client.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback between a client and a server that can fail on purpose: drop every connection (the
 * server looks down) or let requests through and cut the connection before the reply (a lost acknowledgement).
 */
public final class FaultProxy implements AutoCloseable {

    /** What the proxy does with the next connections. */
    public enum Mode {
        /** Forward both ways. */
        PASS,
        /** Close every connection at once: no request reaches the server. */
        DOWN,
        /** Forward the request, swallow the reply and close: the server did the work, the client never hears. */
        CUT_REPLY,
        /** Answer every request with a plain-text 429 page, as a proxy in front of the server might. */
        PROXY_429,
        /**
         * Let the replies to requests already sent come back, but close a connection the moment it carries a new
         * request, and refuse new connections: the network fails just after a request went out.
         */
        NO_NEW_REQUESTS,
        /**
         * Forward both ways, but ask the server for JSON where the client asked for a stream: a server (or a proxy
         * in front of it) that does not stream.
         */
        NO_STREAMS,
        /**
         * Forward both ways, but swallow the reply to the first {@code POST /api/auth/refresh} and close: the server
         * rotated the tokens, the client never heard. Later requests pass.
         */
        CUT_FIRST_REFRESH_REPLY
    }

    private final ServerSocket listener;
    private volatile int upstreamPort;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-proxy");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger cutReplies = new AtomicInteger();
    private final AtomicBoolean refreshCut = new AtomicBoolean();
    private final java.util.Set<Socket> open = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.PASS;

    public FaultProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    public String url() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    /** Switches mode; open connections obey it too (DOWN closes them, CUT_REPLY swallows their next reply). */
    public void mode(Mode mode) {
        this.mode = mode;
        if (mode == Mode.DOWN) {
            for (Socket socket : open) {
                closeQuietly(socket);
            }
        }
    }

    /** Sends the next connections to another server (one that took over the database of the first). */
    public void retarget(int port) {
        this.upstreamPort = port;
    }

    /** Replies swallowed so far in {@link Mode#CUT_REPLY}. */
    public int cutReplies() {
        return cutReplies.get();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Mode now = mode;
                if (now == Mode.DOWN || now == Mode.NO_NEW_REQUESTS) {
                    client.close();
                    continue;
                }
                if (now == Mode.PROXY_429) {
                    threads.execute(() -> answerPlain429(client));
                    continue;
                }
                Socket server = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                open.add(client);
                open.add(server);
                AtomicBoolean cutNextReply = new AtomicBoolean();
                threads.execute(() -> pump(client, server, false, cutNextReply));
                threads.execute(() -> pump(server, client, true, cutNextReply));
            } catch (IOException e) {
                // closed, or one connection failed: keep serving the others
            }
        }
    }

    private static void answerPlain429(Socket client) {
        try (client) {
            byte[] request = new byte[64 * 1024];
            client.getInputStream().read(request); // enough to have received the request line
            client.getOutputStream().write(("HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\n"
                    + "Content-Length: 9\r\nConnection: close\r\n\r\nslow down").getBytes());
            client.getOutputStream().flush();
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private void pump(Socket from, Socket to, boolean reply, AtomicBoolean cutNextReply) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (!reply && mode == Mode.NO_NEW_REQUESTS) {
                    break;
                }
                if (!reply && mode == Mode.CUT_FIRST_REFRESH_REPLY
                        && new String(buffer, 0, n, StandardCharsets.ISO_8859_1).startsWith("POST /api/auth/refresh ")
                        && refreshCut.compareAndSet(false, true)) {
                    cutNextReply.set(true); // set before the request goes on, so its reply is the one cut
                }
                if (reply && (mode == Mode.CUT_REPLY || cutNextReply.get())) {
                    // The server has answered: the request was processed. Cut both sides before the client hears.
                    cutReplies.incrementAndGet();
                    break;
                }
                if (!reply && mode == Mode.NO_STREAMS) {
                    byte[] rewritten = new String(buffer, 0, n, StandardCharsets.ISO_8859_1)
                            .replace("Accept: text/event-stream\r\n", "Accept: application/json\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1);
                    out.write(rewritten);
                } else {
                    out.write(buffer, 0, n);
                }
                out.flush();
            }
        } catch (IOException e) {
            // the other side closed
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        threads.shutdownNow();
    }
}
