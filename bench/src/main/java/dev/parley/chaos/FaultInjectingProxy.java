package dev.parley.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP proxy on loopback between one device and the server that breaks connections on purpose, with odds drawn
 * from a seeded random source. Per connection and per chunk of bytes it may: reset the connection as it is
 * accepted; cut a request part-way (the server never sees all of it); let a request through and swallow the answer
 * (a lost acknowledgement: the server did the work, the client never hears); or delay a chunk. A cut request
 * either closes the connection or, half the time, ends the request early and still lets the server's answer
 * through. It can also be put
 * {@linkplain #offline(boolean) offline}: every connection is refused and the open ones are closed. Every injected
 * fault is counted in the {@link FaultLog}.
 *
 * <p>Thread-safe. The owner closes it, which stops accepting and closes every open connection.
 */
public final class FaultInjectingProxy implements AutoCloseable {

    /**
     * The odds of each fault, per accepted connection ({@code reset}) or per chunk a client sends (the others).
     *
     * @param reset      reset a connection as it is accepted
     * @param cutRequest forward a part of a request chunk, then close both sides
     * @param lostAck    forward a request chunk, then swallow the next answer and close both sides
     * @param delay      hold a chunk (either way) for up to {@code maxDelayMs}
     * @param maxDelayMs the longest delay
     */
    public record Faults(double reset, double cutRequest, double lostAck, double delay, int maxDelayMs) {
        public static final Faults NONE = new Faults(0, 0, 0, 0, 0);
    }

    private final ServerSocket listener;
    private final int upstreamPort;
    private final FaultLog log;
    private final SplittableRandom random;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "chaos-proxy");
        t.setDaemon(true);
        return t;
    });
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile Faults faults = Faults.NONE;
    private volatile boolean offline;

    public FaultInjectingProxy(int upstreamPort, long seed, FaultLog log) throws IOException {
        this.upstreamPort = upstreamPort;
        this.log = log;
        this.random = new SplittableRandom(seed);
        this.listener = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    public String url() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    public void faults(Faults faults) {
        this.faults = faults;
    }

    /** Takes the device's network down (every connection refused, open ones closed) or brings it back. */
    public void offline(boolean down) {
        this.offline = down;
        if (down) {
            open.forEach(FaultInjectingProxy::closeQuietly);
        }
    }

    public boolean isOffline() {
        return offline;
    }

    private synchronized boolean roll(double odds) {
        return odds > 0 && random.nextDouble() < odds;
    }

    private synchronized int below(int bound) {
        return bound <= 0 ? 0 : random.nextInt(bound);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            threads.execute(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        if (offline) {
            closeQuietly(client);
            return;
        }
        if (roll(faults.reset())) {
            log.record(FaultLog.RESET);
            reset(client);
            return;
        }
        Socket server;
        try {
            server = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
        } catch (IOException e) {
            closeQuietly(client); // the server is down (restarting): the client sees a refused connection
            return;
        }
        Connection connection = new Connection(client, server);
        open.add(client);
        open.add(server);
        threads.execute(connection::requests);
        threads.execute(connection::answers);
    }

    /** One proxied connection; {@code swallowNextAnswer} is set when a request chunk was chosen for a lost ack. */
    private final class Connection {
        private final Socket client;
        private final Socket server;
        private volatile boolean swallowNextAnswer;
        private volatile boolean halfClosed;

        Connection(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void requests() {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = client.getInputStream();
                OutputStream out = server.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    Faults now = faults;
                    if (roll(now.cutRequest())) {
                        log.record(FaultLog.CUT_BEFORE_REQUEST);
                        out.write(buffer, 0, below(n));
                        out.flush();
                        if (roll(0.5)) {
                            // Half the time the server hears the end of the request and its answer still gets
                            // through, as when a middlebox ends a request early: the rest of it is dropped.
                            halfClosed = true;
                            server.shutdownOutput();
                            while (in.read(buffer) >= 0) {
                                // discarded
                            }
                        }
                        break;
                    }
                    if (roll(now.lostAck())) {
                        log.record(FaultLog.LOST_ACK);
                        swallowNextAnswer = true;
                    }
                    pause(now);
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                if (!halfClosed) {
                    closeBoth(); // a half-closed connection is closed by the answer's end
                }
            }
        }

        void answers() {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = server.getInputStream(); OutputStream out = client.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (swallowNextAnswer) {
                        break; // the server answered, so it did the work; the client never hears of it
                    }
                    pause(faults);
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                closeBoth();
            }
        }

        private void pause(Faults now) {
            if (roll(now.delay())) {
                log.record(FaultLog.DELAY);
                try {
                    Thread.sleep(below(now.maxDelayMs()) + 1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private void closeBoth() {
            closeQuietly(client);
            closeQuietly(server);
            open.remove(client);
            open.remove(server);
        }
    }

    /** Closes with a TCP reset rather than an orderly close. */
    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // already closed
        }
        open.forEach(FaultInjectingProxy::closeQuietly);
        threads.shutdownNow();
    }
}
