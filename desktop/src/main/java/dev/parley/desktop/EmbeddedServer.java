package dev.parley.desktop;

import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The server the app starts for itself when no server URL is configured: loopback only, a random free port, a
 * SQLite file in the data directory and the offline model, so that a first run needs no setup.
 */
public final class EmbeddedServer implements AutoCloseable {
    private final ParleyServer server;

    private EmbeddedServer(ParleyServer server) {
        this.server = server;
    }

    public static EmbeddedServer start(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory " + dataDir, e);
        }
        return new EmbeddedServer(ParleyServer.start(ServerConfig.builder()
                .host("127.0.0.1")
                .port(0)
                .databaseUrl("jdbc:sqlite:" + dataDir.resolve("embedded-server.db").toAbsolutePath())
                .build()));
    }

    public String url() {
        return server.url();
    }

    @Override
    public void close() {
        server.close();
    }
}
