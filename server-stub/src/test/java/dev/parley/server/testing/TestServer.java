package dev.parley.server.testing;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import dev.parley.server.AnalyticsVerifier;
import dev.parley.server.AnalyticsVerifier.Mismatch;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * A real server on a random loopback port over a real database, with a scripted model and a movable clock, plus
 * shortcuts for the calls most tests make. The database is the one {@link TestDatabases} gives the directory: a
 * SQLite file in it, or a fresh PostgreSQL database when the build runs the suite on PostgreSQL. Close it after
 * the test.
 */
public final class TestServer implements AutoCloseable {
    public final ScriptedModel model = new ScriptedModel();
    public final MutableClock clock = new MutableClock();
    public final String dbUrl;
    public final ParleyServer server;
    public final HttpApi api;
    /** The connection of the query shortcuts, opened on first use (a new PostgreSQL connection costs a process). */
    private Connection admin;

    private TestServer(Path dir, UnaryOperator<ServerConfig.Builder> customize) {
        this.dbUrl = TestDatabases.urlFor(dir);
        ServerConfig.Builder builder = ServerConfig.builder().port(0).databaseUrl(dbUrl).modelProvider(model)
                .clock(clock);
        this.server = ParleyServer.start(customize.apply(builder).build());
        this.api = new HttpApi(server.url());
    }

    public static TestServer start(Path dir) {
        return new TestServer(dir, b -> b);
    }

    public static TestServer start(Path dir, UnaryOperator<ServerConfig.Builder> customize) {
        return new TestServer(dir, customize);
    }

    /**
     * Starts a second server process on this one's database, as another machine of one deployment would run; the
     * caller closes it. {@code customize} sees a builder with a random port and this database set.
     */
    public ParleyServer anotherProcess(UnaryOperator<ServerConfig.Builder> customize) {
        return ParleyServer.start(customize.apply(ServerConfig.builder().port(0).databaseUrl(dbUrl)).build());
    }

    /** Signs up a new account and returns its tokens. */
    public AuthResponse signUp(String email) {
        HttpApi.Response response = api.post("/api/auth/signup", new Credentials(email, "password-of-" + email), null);
        if (response.status() != 201) {
            throw new AssertionError("sign-up failed: " + response);
        }
        return response.as(AuthResponse.class);
    }

    public HttpApi.Response chat(String token, String sessionId, String messageId, String content) {
        return api.post("/api/chat", new ChatRequest(sessionId, messageId, content, null, now(), null, List.of()),
                token);
    }

    public PushResponse push(String token, List<Session> sessions, List<Message> messages) {
        HttpApi.Response response = api.post("/api/chat/messages", new PushRequest(sessions, messages), token);
        if (response.status() != 200) {
            throw new AssertionError("push failed: " + response);
        }
        return response.as(PushResponse.class);
    }

    public Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    /** Every counter that disagrees with its recomputation; empty when analytics are exact. */
    public synchronized List<Mismatch> mismatches() throws SQLException {
        return AnalyticsVerifier.verify(admin());
    }

    /** The first column of the first row of {@code sql}, as a long. */
    public synchronized long queryLong(String sql) throws SQLException {
        try (Statement s = admin().createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new AssertionError("no row: " + sql);
            }
            return rs.getLong(1);
        }
    }

    /** The first column of the first row of {@code sql}, as text, or null when there is no row. */
    public synchronized String queryString(String sql) throws SQLException {
        try (Statement s = admin().createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** The first column of every row of {@code sql}, as text, in the order the query gives. */
    public synchronized List<String> queryStrings(String sql) throws SQLException {
        try (Statement s = admin().createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        }
    }

    /**
     * The JSON object of counts in the first column of the first row of {@code sql} (such as {@code models_used}),
     * whatever spacing and key order the dialect stores it with; empty when there is no row.
     */
    public Map<String, Long> queryCounts(String sql) throws SQLException {
        String text = queryString(sql);
        return text == null ? Map.of() : counts(text);
    }

    /** A JSON object of counts, as stored in {@code models_used}. */
    public static Map<String, Long> counts(String text) {
        try {
            return HttpApi.JSON.readValue(text, new TypeReference<TreeMap<String, Long>>() {
            });
        } catch (IOException e) {
            throw new AssertionError("not a JSON object of counts: " + text, e);
        }
    }

    /** Runs admin SQL against the server's database, as an operator would. */
    public synchronized void execute(String sql) throws SQLException {
        try (Statement s = admin().createStatement()) {
            s.execute(sql);
        }
    }

    /** Stops the server and closes the query connection; the database stays for whoever looks at it next. */
    @Override
    public void close() {
        try {
            server.close();
        } finally {
            closeAdmin();
        }
    }

    private Connection admin() throws SQLException {
        if (admin == null || admin.isClosed()) {
            admin = DriverManager.getConnection(dbUrl);
        }
        return admin;
    }

    private synchronized void closeAdmin() {
        if (admin != null) {
            try {
                admin.close();
            } catch (SQLException e) {
                // closing a connection the test no longer needs; nothing to do about it
            }
            admin = null;
        }
    }

    // ----------------------------------------------------------------- row factories

    public static Session session(String id, String title, Instant at) {
        return Session.of(id, title, at, at, null);
    }

    public static Message userMessage(String sessionId, String content, long inputTokens, Instant at) {
        return new Message(TestIds.next(), sessionId, Role.USER, content, "parley-local", inputTokens, null, null, null,
                at, null, null, null);
    }

    public static Message failedUserMessage(String sessionId, String content, Instant at, String error) {
        return new Message(TestIds.next(), sessionId, Role.USER, content, "parley-local", 0L, null, null, null, at,
                null, error, null);
    }

    public static Message assistantReply(Message question, String content, long outputTokens, long elapsedMs) {
        return new Message(TestIds.next(), question.sessionId(), Role.ASSISTANT, content, "parley-local", null,
                outputTokens, null, question.id(), question.messageTimestamp().plusMillis(1), elapsedMs, null,
                "cmpl-" + question.id());
    }

    /** {@code m} as a success with {@code inputTokens}: what a retried failed message looks like once answered. */
    public static Message succeeded(Message m, long inputTokens) {
        return new Message(m.id(), m.sessionId(), m.role(), m.content(), m.model(), inputTokens, m.outputTokens(),
                null, m.userMessageId(), m.messageTimestamp(), m.elapsedMs(), null, m.completionId());
    }
}
