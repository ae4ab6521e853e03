package dev.parley.client.testing;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.server.AnalyticsVerifier;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import dev.parley.server.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * A real Parley server on a random loopback port, over a real SQLite file (or, with {@code -Dparley.test.dialect=
 * postgresql}, a PostgreSQL database), behind a {@link FaultProxy}; clients
 * made here talk to it through the proxy. Close it after the test.
 */
public final class Backend implements AutoCloseable {
    public final Path dir;
    public final String dbUrl;
    public final ParleyServer server;
    public final FaultProxy proxy;
    private final List<FaultProxy> extraProxies = new java.util.ArrayList<>();
    private final List<ParleyServer> otherProcesses = new java.util.ArrayList<>();

    public Backend(Path dir) throws IOException {
        this(dir, b -> b);
    }

    public Backend(Path dir, java.util.function.UnaryOperator<ServerConfig.Builder> customize) throws IOException {
        this.dir = dir;
        this.dbUrl = TestDatabases.urlFor(dir);
        this.server = ParleyServer.start(customize.apply(ServerConfig.builder().port(0).databaseUrl(dbUrl)).build());
        this.proxy = new FaultProxy(server.port());
    }

    /** A client with its own data directory {@code name}, talking through the proxy, with fast backoff. */
    public ChatClient client(String name) {
        return ChatClient.open(config(name));
    }

    /** A client with its own data directory {@code name}, talking through its own {@code proxy}. */
    public ChatClient client(String name, FaultProxy ownProxy) {
        return ChatClient.open(config(name, ownProxy));
    }

    /**
     * A client as {@link #client(String, FaultProxy)} that holds no live change stream: it pulls only at start, at
     * sign-in and when asked, for tests of what a pull merges.
     */
    public ChatClient clientWithoutLiveSync(String name, FaultProxy ownProxy) {
        ClientConfig config = config(name, ownProxy);
        return ChatClient.open(ClientConfig.builder(config.dataDir(), config.serverUrl())
                .backoff(config.backoffInitial(), config.backoffMax()).httpTimeout(config.httpTimeout())
                .liveSync(false).build());
    }

    /** Another proxy to the same server, so that one device can go offline alone. Closed with the backend. */
    public FaultProxy newProxy() throws IOException {
        FaultProxy extra = new FaultProxy(server.port());
        extraProxies.add(extra);
        return extra;
    }

    /**
     * Another server process on this backend's database, as a second machine of one deployment; closed with the
     * backend. {@code customize} sees a builder with a random port and the database set.
     */
    public ParleyServer anotherProcess(java.util.function.UnaryOperator<ServerConfig.Builder> customize) {
        ParleyServer other = ParleyServer.start(customize.apply(ServerConfig.builder().port(0).databaseUrl(dbUrl))
                .build());
        otherProcesses.add(other);
        return other;
    }

    /** A proxy to {@code process} (one of {@link #anotherProcess}); closed with the backend. */
    public FaultProxy proxyTo(ParleyServer process) throws IOException {
        FaultProxy extra = new FaultProxy(process.port());
        extraProxies.add(extra);
        return extra;
    }

    public ClientConfig config(String name) {
        return config(name, proxy);
    }

    public ClientConfig config(String name, FaultProxy via) {
        return config(name, via, Clock.systemUTC());
    }

    /** A client's settings as {@link #config(String, FaultProxy)}, its message times from {@code clock}. */
    public ClientConfig config(String name, FaultProxy via, Clock clock) {
        return ClientConfig.builder(dir.resolve(name), via.url())
                .backoff(Duration.ofMillis(50), Duration.ofMillis(400))
                .httpTimeout(Duration.ofSeconds(20))
                .clock(clock)
                .liveBackoffMax(Duration.ofSeconds(1))
                .build();
    }

    /**
     * A clock that runs at the pace of real time from the latest noon (UTC) that has passed, so that what a test
     * writes in a few seconds falls on one UTC date, however close to midnight it runs. For a server and its clients
     * alike.
     */
    public static Clock fromLastNoon() {
        Instant now = Instant.now();
        Instant noon = now.truncatedTo(ChronoUnit.DAYS).plus(Duration.ofHours(12));
        if (noon.isAfter(now)) {
            noon = noon.minus(Duration.ofDays(1));
        }
        return Clock.offset(Clock.systemUTC(), Duration.between(now, noon));
    }

    /**
     * Copies device {@code from}'s files to a new data directory {@code to} as a crash would leave them: the store
     * as of its last commit (a consistent snapshot taken with {@code VACUUM INTO} while the device runs; with
     * {@code synchronous=FULL} that is what survives a kill) and its token file. The device itself keeps running.
     */
    public void copyAsACrashLeavesIt(String from, String to) throws IOException, SQLException {
        Path source = dir.resolve(from);
        Path target = Files.createDirectories(dir.resolve(to));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + source.resolve("parley-client.db"));
             PreparedStatement vacuum = c.prepareStatement("VACUUM INTO ?")) {
            vacuum.setString(1, target.resolve("parley-client.db").toString());
            vacuum.execute();
        }
        Path tokens = source.resolve("account.json");
        if (Files.exists(tokens)) {
            Files.copy(tokens, target.resolve("account.json"), StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    public long queryLong(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    public List<AnalyticsVerifier.Mismatch> mismatches() throws SQLException {
        return AnalyticsVerifier.verify(dbUrl);
    }

    /** Waits up to {@code timeout} for {@code condition}; fails the test when it never holds. */
    public static void await(Duration timeout, String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    @Override
    public void close() throws IOException {
        for (FaultProxy extra : extraProxies) {
            extra.close();
        }
        proxy.close();
        otherProcesses.forEach(ParleyServer::close);
        server.close();
    }
}
