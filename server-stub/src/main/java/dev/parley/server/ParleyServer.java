package dev.parley.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.Json;
import dev.parley.server.internal.auth.AuthService;
import dev.parley.server.internal.chat.ChatService;
import dev.parley.server.internal.chat.LiveChanges;
import dev.parley.server.internal.chat.PushService;
import dev.parley.server.internal.chat.SessionService;
import dev.parley.server.internal.chat.SyncService;
import dev.parley.server.internal.chat.UsageService;
import dev.parley.server.internal.http.Api;
import dev.parley.server.internal.model.ActiveModels;
import dev.parley.server.internal.net.ClientAddresses;
import dev.parley.server.internal.signal.ChangeSignals;
import dev.parley.server.internal.signal.PollingSignals;
import dev.parley.server.internal.signal.PostgresSignals;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.Dialect;
import dev.parley.server.internal.store.UsageRepository;
import io.javalin.Javalin;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A running Parley server: database migrated, HTTP listening. {@link #start} returns once requests are accepted.
 * Thread-safe. The caller owns it and closes it, which stops HTTP and closes the database pool; it never closes a
 * {@link ModelProvider}, which stays its maker's (see {@link #useModels}).
 */
public final class ParleyServer implements AutoCloseable {
    /** How often a generation's new text is written where other processes read it. */
    private static final Duration FLUSH_EVERY = Duration.ofMillis(150);
    /** How often SQLite's other processes look for changes; PostgreSQL's hear them at once. */
    private static final Duration POLL_EVERY = Duration.ofMillis(100);
    /** PostgreSQL: how often everything is looked at anyway, in case a notification was missed. */
    private static final Duration NOTIFY_FALLBACK = Duration.ofSeconds(1);
    /** How long a wake of the live changes waits for more, so that a burst of commits is read once. */
    static final Duration LIVE_COALESCE = Duration.ofMillis(50);

    private final Javalin http;
    private final Database db;
    private final String host;
    private final boolean https;
    private final MeterRegistry meters;
    private final ChangeSignals signals;
    private final ChatService chat;
    private final LiveChanges liveChanges;
    private final Api api;
    private final ActiveModels models;

    private ParleyServer(Javalin http, Database db, String host, boolean https, MeterRegistry meters,
                         ChangeSignals signals, ChatService chat, LiveChanges liveChanges, Api api,
                         ActiveModels models) {
        this.http = http;
        this.https = https;
        this.db = db;
        this.host = host;
        this.meters = meters;
        this.signals = signals;
        this.chat = chat;
        this.liveChanges = liveChanges;
        this.api = api;
        this.models = models;
    }

    /** Opens the database, applies migrations and starts listening. */
    public static ParleyServer start(ServerConfig config) {
        ObjectMapper json = Json.newMapper();
        Database db = Database.open(config.databaseUrl(), config.databaseUser(), config.databasePassword(),
                config.poolSize());
        MeterRegistry meters = new SimpleMeterRegistry();
        ChangeSignals signals = db.dialect() == Dialect.POSTGRESQL
                ? new PostgresSignals(db::openDedicated, NOTIFY_FALLBACK) : new PollingSignals(POLL_EVERY);
        ActiveModels models = new ActiveModels(config.modelProvider());
        ChatService chat = null;
        LiveChanges liveChanges = new LiveChanges(db, signals, config.clock(), json, LIVE_COALESCE);
        Api api = null;
        ClientAddresses addresses = new ClientAddresses(config.security().trustedProxies());
        try {
            AuthService auth = new AuthService(db, config.clock(), config.idGenerator(), config.accessTokenTtl(),
                    config.refreshTokenTtl(), config.signInAttemptsPerMinute(), config.signUpAllowed(),
                    config.security().passwordHashesAtOnce());
            chat = new ChatService(db, models, signals, config.clock(), config.idGenerator(),
                    config.claimTtl(), FLUSH_EVERY, config.anonymousChatsPerMinute(), json,
                    config.security().dailyTokenBudget());
            api = new Api(json, db, models, auth, chat, liveChanges, new PushService(db, config.clock()),
                    new SyncService(db), new SessionService(db, config.clock()),
                    new UsageService(db, config.clock(), new UsageRepository(db.dialect(), json)), meters,
                    config.streamKeepAlive(), addresses, config.host(), config.port(), config.security());
            Javalin http = Javalin.create(api::configure).start();
            return new ParleyServer(http, db, config.host(), config.security().tlsEnabled(), meters, signals, chat,
                    liveChanges, api, models);
        } catch (RuntimeException e) {
            if (api != null) {
                api.close();
            }
            if (chat != null) {
                chat.close();
            }
            liveChanges.close();
            signals.close();
            db.close();
            throw e;
        }
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return http.port();
    }

    /** Base URL such as {@code http://127.0.0.1:8080}, or {@code https://…} when serving TLS. */
    public String url() {
        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        return (https ? "https://" : "http://") + shownHost + ":" + port();
    }

    /**
     * This process's counters, such as the rows its direct-write endpoint received
     * ({@code parley.push.rows}, tagged {@code kind} and {@code result}). Live: they move as requests are served.
     */
    public MeterRegistry meters() {
        return meters;
    }

    /**
     * Gives the running server other models, such as the ones a user just chose in the settings. From the moment
     * this returns, every new exchange, {@code GET /api/models} and the check of a request's model id use
     * {@code next}. An exchange that began before keeps its provider to the end: its reply goes on streaming from
     * it and is stored once, as always. Callable from any thread; it does not block.
     *
     * <p>Ownership: the server closes neither provider. The returned future completes with the replaced provider
     * once no reply that began on it is still being generated (at once when none is); the caller may then close
     * it. It completes on the thread that ended the last such reply, so whatever runs on it should be quick.
     *
     * @param next the provider to answer with from now on; not the one in use
     * @throws IllegalArgumentException when {@code next} is the provider in use already
     */
    public CompletableFuture<ModelProvider> useModels(ModelProvider next) {
        return models.use(next);
    }

    /** Replies this process is generating now. */
    public int liveGenerations() {
        return chat.liveGenerations();
    }

    /** Live change streams (SPEC §5.5) this process holds open now. */
    public int liveChangeListeners() {
        return liveChanges.subscriptions();
    }

    /**
     * Ends the open streams (their clients re-attach elsewhere), stops HTTP, then the generations still running
     * here: they store nothing, and their claims lapse, so each of their messages can be sent again; then the
     * database.
     */
    @Override
    public void close() {
        try {
            api.close();
            http.stop();
        } finally {
            try {
                chat.close();
                liveChanges.close();
                signals.close();
            } finally {
                db.close();
            }
        }
    }
}
