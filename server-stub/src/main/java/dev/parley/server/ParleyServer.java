package dev.parley.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.Json;
import dev.parley.server.internal.auth.AuthService;
import dev.parley.server.internal.chat.ChatService;
import dev.parley.server.internal.chat.PushService;
import dev.parley.server.internal.chat.SessionService;
import dev.parley.server.internal.chat.SyncService;
import dev.parley.server.internal.chat.UsageService;
import dev.parley.server.internal.http.Api;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.UsageRepository;
import io.javalin.Javalin;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * A running Parley server: database migrated, HTTP listening. {@link #start} returns once requests are accepted.
 * Thread-safe. The caller owns it and closes it, which stops HTTP and closes the database pool.
 */
public final class ParleyServer implements AutoCloseable {
    private final Javalin http;
    private final Database db;
    private final String host;
    private final MeterRegistry meters;

    private ParleyServer(Javalin http, Database db, String host, MeterRegistry meters) {
        this.http = http;
        this.db = db;
        this.host = host;
        this.meters = meters;
    }

    /** Opens the database, applies migrations and starts listening. */
    public static ParleyServer start(ServerConfig config) {
        ObjectMapper json = Json.newMapper();
        Database db = Database.open(config.databaseUrl(), config.databaseUser(), config.databasePassword(),
                config.poolSize());
        MeterRegistry meters = new SimpleMeterRegistry();
        try {
            AuthService auth = new AuthService(db, config.clock(), config.idGenerator(), config.accessTokenTtl(),
                    config.refreshTokenTtl(), config.signInAttemptsPerMinute(), config.signUpAllowed());
            ChatService chat = new ChatService(db, config.modelProvider(), config.clock(), config.idGenerator(),
                    config.claimTtl(), config.anonymousChatsPerMinute());
            Api api = new Api(json, db, config.modelProvider(), auth, chat, new PushService(db, config.clock()),
                    new SyncService(db), new SessionService(db, config.clock()),
                    new UsageService(db, config.clock(), new UsageRepository(db.dialect(), json)), meters);
            Javalin http = Javalin.create(api::configure).start(config.host(), config.port());
            return new ParleyServer(http, db, config.host(), meters);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return http.port();
    }

    /** Base URL such as {@code http://127.0.0.1:8080}. */
    public String url() {
        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        return "http://" + shownHost + ":" + port();
    }

    /**
     * This process's counters, such as the rows its direct-write endpoint received
     * ({@code parley.push.rows}, tagged {@code kind} and {@code result}). Live: they move as requests are served.
     */
    public MeterRegistry meters() {
        return meters;
    }

    @Override
    public void close() {
        try {
            http.stop();
        } finally {
            db.close();
        }
    }
}
