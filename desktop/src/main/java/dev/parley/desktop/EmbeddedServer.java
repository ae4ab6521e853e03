package dev.parley.desktop;

import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server the app starts for itself when no server URL is configured: loopback only, a random free port, a
 * SQLite file in the data directory and the offline model, so that a first run needs no setup. Closing it lets the
 * replies being written finish first (the window is gone by then), so that a reply is never lost to closing the app:
 * the next start shows it.
 */
public final class EmbeddedServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedServer.class);

    private final ParleyServer server;

    private EmbeddedServer(ParleyServer server) {
        this.server = server;
    }

    public static EmbeddedServer start(Path dataDir) {
        return start(dataDir, Duration.ZERO);
    }

    /** @param tokenDelay the pause between the built-in model's pieces (a slow model, to watch replies grow) */
    public static EmbeddedServer start(Path dataDir, Duration tokenDelay) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory " + dataDir, e);
        }
        return new EmbeddedServer(ParleyServer.start(ServerConfig.builder()
                .host("127.0.0.1")
                .port(0)
                .databaseUrl("jdbc:sqlite:" + dataDir.resolve("embedded-server.db").toAbsolutePath())
                .localModelTokenDelay(tokenDelay)
                .build()));
    }

    public String url() {
        return server.url();
    }

    /** Replies being written now. */
    public int liveGenerations() {
        return server.liveGenerations();
    }

    @Override
    public void close() {
        long deadline = System.nanoTime() + ParleyDesktop.FINISH_REPLIES.toNanos();
        if (server.liveGenerations() > 0) {
            LOG.info("finishing {} replies before the embedded server stops", server.liveGenerations());
        }
        try {
            while (server.liveGenerations() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50); // a generation stores itself when it ends; nothing to wake this sooner
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
    }
}
