package dev.parley.server;

import static dev.parley.server.testing.DatabaseDump.dump;
import static dev.parley.server.testing.DatabaseDump.update;
import static dev.parley.server.testing.TestServer.assistantReply;
import static dev.parley.server.testing.TestServer.session;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.protocol.Message;
import dev.parley.protocol.Origin;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.protocol.SyncPage;
import dev.parley.server.internal.store.Dialect;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * History imported from another app (SPEC §4.1): rows with {@code origin: "import"} count in their session's
 * statistics and never in the user's daily usage, keep the origin they were stored with, and come back with it.
 * Runs on the dialect of the build's execution.
 */
class ImportedHistoryTest {
    private static final Instant LAST_YEAR = Instant.parse("2025-03-14T09:26:53.589Z");

    @TempDir
    Path dir;

    TestServer server;
    String token;

    @BeforeEach
    void start() {
        server = TestServer.start(dir);
        token = server.signUp("grace@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void importedRowsCountInTheirSessionButNeverInDailyUsage() throws Exception {
        String sessionId = TestIds.next();
        Message oldQuestion = imported(userMessage(sessionId, "What is a monad?", 5, LAST_YEAR));
        Message oldAnswer = imported(assistantReply(oldQuestion, "A monoid in the category of endofunctors.", 11, 0));
        Message question = userMessage(sessionId, "Say it plainly", 3, server.now());
        Message answer = assistantReply(question, "A way to chain steps.", 6, 40);

        PushResponse result = server.push(token, List.of(session(sessionId, "Monads", LAST_YEAR)),
                List.of(oldQuestion, oldAnswer, question, answer));

        assertThat(result.messages()).extracting(RowResult::result).containsOnly(Outcome.INSERTED);
        assertThat(server.queryLong("SELECT message_count FROM chat_sessions")).isEqualTo(4);
        assertThat(server.queryLong("SELECT total_tokens FROM chat_sessions")).isEqualTo(5 + 11 + 3 + 6);
        assertThat(server.queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.queryLong("SELECT sum(total_tokens) FROM user_usage_daily")).isEqualTo(3 + 6);
        assertThat(server.queryLong("SELECT count(*) FROM user_usage_daily WHERE messages_sent > 0"
                + " OR messages_received > 0")).as("no day of last year gained a message").isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();

        SyncPage page = server.api.get("/api/chat/sync", token).as(SyncPage.class);
        Map<String, Message> synced = page.messages().stream()
                .collect(Collectors.toMap(Message::id, Function.identity()));
        assertThat(synced.get(oldQuestion.id()).origin()).isEqualTo(Origin.IMPORT);
        assertThat(synced.get(oldAnswer.id()).origin()).isEqualTo(Origin.IMPORT);
        assertThat(synced.get(question.id()).origin()).isEqualTo(Origin.CHAT);
    }

    @Test
    void anImportPushedAgainChangesNothingAndARowKeepsTheOriginItWasStoredWith() throws Exception {
        String sessionId = TestIds.next();
        Message oldQuestion = imported(userMessage(sessionId, "Old question", 4, LAST_YEAR));
        Message question = userMessage(sessionId, "New question", 2, server.now());
        server.push(token, List.of(session(sessionId, "Mixed", LAST_YEAR)), List.of(oldQuestion, question));
        String usageBefore = server.queryString("SELECT sum(total_tokens) || '/' || sum(messages_sent)"
                + " FROM user_usage_daily");

        PushResponse again = server.push(token, List.of(),
                List.of(oldQuestion, imported(question), oldQuestion.toBuilder().origin(Origin.CHAT).build()));

        assertThat(again.messages()).extracting(RowResult::result).containsOnly(Outcome.UNCHANGED);
        assertThat(server.queryStrings("SELECT origin FROM chat_messages ORDER BY message_timestamp"))
                .containsExactly("import", "chat");
        assertThat(server.queryString("SELECT sum(total_tokens) || '/' || sum(messages_sent) FROM user_usage_daily"))
                .isEqualTo(usageBefore);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void theDatabaseRefusesToChangeAStoredOrigin() throws Exception {
        String sessionId = TestIds.next();
        server.push(token, List.of(session(sessionId, "Chat", server.now())),
                List.of(userMessage(sessionId, "hello", 2, server.now())));

        assertThatThrownBy(() -> server.execute("UPDATE chat_messages SET origin = 'import'"))
                .isInstanceOf(SQLException.class).hasMessageContaining("origin never changes");
        assertThat(server.queryString("SELECT origin FROM chat_messages")).isEqualTo("chat");
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void anUnknownOriginRejectsItsRowAlone() throws Exception {
        String sessionId = TestIds.next();
        Message good = userMessage(sessionId, "kept", 1, server.now());
        Map<String, Object> bad = Map.of("id", TestIds.next(), "sessionId", sessionId, "role", "user",
                "content", "copied", "messageTimestamp", server.now().toString(), "origin", "copied");

        HttpApi.Response response = server.api.post("/api/chat/messages",
                Map.of("sessions", List.of(), "messages", List.of(good, bad)), token);

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.json().path("messages").path(0).path("result").asText()).isEqualTo("inserted");
        assertThat(response.json().path("messages").path(1).path("result").asText()).isEqualTo("rejected");
        assertThat(response.json().path("messages").path(1).path("code").asText()).isEqualTo("bad_request");
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
    }

    @Test
    void aDatabaseOfThePreviousReleaseMigratesWithEveryRowMarkedChat(@TempDir Path old) throws Exception {
        String url = TestDatabases.emptyDatabase(old, "v8");
        // The release before imports: V8 on PostgreSQL; SQLite, which needs no V8, stops at V7.
        Dialect dialect = Dialect.of(url);
        Flyway.configure().locations(dialect.migrations()).target(dialect == Dialect.POSTGRESQL ? "8" : "7")
                .dataSource(url, null, null).load().migrate();
        long at = LAST_YEAR.toEpochMilli();
        String userId = TestIds.next();
        String sessionId = TestIds.next();
        String question = TestIds.next();
        String answer = TestIds.next();
        try (Connection c = DriverManager.getConnection(url)) {
            update(c, "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)", userId,
                    "eight@example.com", "not a real hash", at);
            update(c, "INSERT INTO chat_sessions (id, user_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    sessionId, userId, "Before imports", at, at);
            update(c, "INSERT INTO chat_messages (id, session_id, user_id, role, content, model, input_tokens,"
                    + " output_tokens, total_tokens, message_timestamp, created_at, updated_at)"
                    + " VALUES (?, ?, ?, 'user', 'Hi', 'parley-local', 2, 0, 2, ?, ?, ?)",
                    question, sessionId, userId, at, at, at);
            update(c, "INSERT INTO chat_messages (id, session_id, user_id, role, content, model, input_tokens,"
                    + " output_tokens, total_tokens, user_message_id, parent_id, message_timestamp, elapsed_ms,"
                    + " created_at, updated_at) VALUES (?, ?, ?, 'assistant', 'Hello!', 'parley-local', 0, 3, 3, ?,"
                    + " ?, ?, 20, ?, ?)", answer, sessionId, userId, question, question, at + 1, at + 1, at + 1);
        }
        Map<String, List<Map<String, Object>>> before = dump(url);

        try (ParleyServer migrated = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(url).build())) {
            Map<String, List<Map<String, Object>>> after = dump(url);
            List<Object> origins = after.get("chat_messages").stream().map(m -> m.remove("origin")).toList();
            assertThat(origins).containsExactly("chat", "chat");
            assertThat(after).as("every row as the previous release wrote it").isEqualTo(before);
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(AnalyticsVerifier.verify(c)).isEmpty();
            }
        }
    }

    private static Message imported(Message m) {
        return m.toBuilder().origin(Origin.IMPORT).build();
    }
}
