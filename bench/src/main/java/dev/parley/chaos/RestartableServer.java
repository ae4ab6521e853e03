package dev.parley.chaos;

import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.time.Duration;
import java.util.function.IntFunction;

/**
 * A real {@link ParleyServer} that can be stopped and started again on the same database and the same loopback
 * port, as an operator's restart (or a crash and a supervisor) would. Thread-safe; the owner closes it.
 */
public final class RestartableServer implements AutoCloseable {
    private final IntFunction<ServerConfig> configForPort;
    private ParleyServer server;
    private int port;

    /** Starts a server on a free port; {@code configForPort} makes the configuration for a given port. */
    public RestartableServer(IntFunction<ServerConfig> configForPort) {
        this.configForPort = configForPort;
        this.server = ParleyServer.start(configForPort.apply(0));
        this.port = server.port();
    }

    public synchronized int port() {
        return port;
    }

    /** The server's own URL, bypassing every proxy. */
    public synchronized String url() {
        return "http://127.0.0.1:" + port;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    /** Replies this server is generating now; 0 while it is stopped. */
    public synchronized int liveGenerations() {
        return server == null ? 0 : server.liveGenerations();
    }

    /** Stops the server; requests in flight are cut. */
    public synchronized void stop() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** Starts the server again on the same port, waiting up to ten seconds for the port to be free. */
    public synchronized void start() {
        if (server != null) {
            return;
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                server = ParleyServer.start(configForPort.apply(port));
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the server could not start again on port " + port, e);
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while restarting the server", interrupted);
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        stop();
    }
}
