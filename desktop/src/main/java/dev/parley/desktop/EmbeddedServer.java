package dev.parley.desktop;

import dev.parley.desktop.models.EmbeddedModels;
import dev.parley.server.ModelProviders;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server the app starts for itself when no server URL is configured: loopback only, a random free port, a
 * SQLite file in the data directory and the models the user set up (the offline model at least), so that a first
 * run needs no setup. Its models can be changed while it runs ({@link #useModels}); a reply being written keeps the
 * model it started with. Closing it lets the replies being written finish first (the window is gone by then), so
 * that a reply is never lost to closing the app: the next start shows it.
 *
 * <p>It answers only this app: every launch makes a new secret (32 random bytes) that each request must carry
 * ({@link #launchSecret()}, given to the app's {@code ClientConfig}), so another program on this machine, or a web
 * page in a browser, cannot use the account signed in here. Thread-safe.
 */
public final class EmbeddedServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedServer.class);

    private static final SecureRandom RANDOM = new SecureRandom();

    private final ParleyServer server;
    private final String launchSecret;
    /** The models in use, closed when the server closes; guarded by this. */
    private EmbeddedModels.Built models;
    private boolean closed;

    private EmbeddedServer(ParleyServer server, String launchSecret, EmbeddedModels.Built models) {
        this.server = server;
        this.launchSecret = launchSecret;
        this.models = models;
    }

    /** The built-in model only. */
    public static EmbeddedServer start(Path dataDir) {
        return start(dataDir, Duration.ZERO);
    }

    /** @param tokenDelay the pause between the built-in model's pieces (a slow model, to watch replies grow) */
    public static EmbeddedServer start(Path dataDir, Duration tokenDelay) {
        return start(dataDir, new EmbeddedModels.Built(ModelProviders.builtIn(tokenDelay)));
    }

    /** A server offering {@code models}, which it owns from now on and closes when it no longer uses them. */
    public static EmbeddedServer start(Path dataDir, EmbeddedModels.Built models) {
        try {
            Files.createDirectories(dataDir);
            String secret = newSecret();
            return new EmbeddedServer(ParleyServer.start(ServerConfig.builder()
                    .host("127.0.0.1")
                    .port(0)
                    .databaseUrl("jdbc:sqlite:" + dataDir.resolve("embedded-server.db").toAbsolutePath())
                    .modelProvider(models.provider())
                    .launchSecret(secret)
                    .build()), secret, models);
        } catch (IOException e) {
            models.close();
            throw new UncheckedIOException("cannot create the data directory " + dataDir, e);
        } catch (RuntimeException e) {
            models.close();
            throw e;
        }
    }

    /**
     * Offers {@code next} from now on, without a restart: the replies being written finish with the models they
     * started with, which are closed once the last of them has ended. The server owns {@code next} from now on.
     */
    public synchronized void useModels(EmbeddedModels.Built next) {
        if (closed) {
            next.close(); // the app is closing: nothing will use them
            return;
        }
        EmbeddedModels.Built previous = models;
        models = next;
        server.useModels(next.provider()).whenComplete((retired, e) -> previous.close());
    }

    public String url() {
        return server.url();
    }

    /** The secret of this launch, which every request to this server must carry; never log it. */
    public String launchSecret() {
        return launchSecret;
    }

    /** 32 bytes from {@link SecureRandom}, base64url without padding (43 characters). */
    static String newSecret() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
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
        synchronized (this) {
            closed = true;
        }
        server.close();
        synchronized (this) {
            models.close();
        }
    }
}
