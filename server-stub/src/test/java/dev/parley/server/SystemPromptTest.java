package dev.parley.server;

import static dev.parley.server.testing.DatabaseDump.dump;
import static dev.parley.server.testing.DatabaseDump.update;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.Credentials;
import dev.parley.protocol.Message;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.protocol.Session;
import dev.parley.protocol.SessionsPage;
import dev.parley.protocol.SyncPage;
import dev.parley.server.internal.store.Dialect;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's system prompt (SPEC §4, §5.0): pushed with its own time and resolved last writer wins independently of
 * the title, delivered by sync and the sessions list, counted nowhere, and added to databases of the version before
 * without changing a row they hold. Runs on the dialect of the build's execution (SQLite, then PostgreSQL).
 */
class SystemPromptTest {
    @TempDir
    Path dir;

    @Test
    void titleAndSystemPromptEachResolveLastWriterWinsByTheirOwnTime() throws Exception {
        try (TestServer server = TestServer.start(dir)) {
            String token = server.signUp("ada@example.com").accessToken();
            String id = TestIds.next();
            Instant t0 = server.now().minusSeconds(600);

            assertThat(push(server, token, row(id, "A", t0, "Be brief.", t0, t0))).isEqualTo(Outcome.INSERTED);
            assertStored(server, token, id, "A", t0, "Be brief.", t0);

            // A newer title with an older prompt: only the title changes.
            assertThat(push(server, token, row(id, "B", t0.plusSeconds(10), "Older prompt", t0.minusSeconds(5), t0)))
                    .isEqualTo(Outcome.UPDATED);
            assertStored(server, token, id, "B", t0.plusSeconds(10), "Be brief.", t0);

            // An older title with a newer prompt: only the prompt changes.
            assertThat(push(server, token, row(id, "C", t0.plusSeconds(5), "Answer in French.", t0.plusSeconds(20),
                    t0))).isEqualTo(Outcome.UPDATED);
            assertStored(server, token, id, "B", t0.plusSeconds(10), "Answer in French.", t0.plusSeconds(20));

            // The same edits again, and both older: nothing changes.
            assertThat(push(server, token, row(id, "B", t0.plusSeconds(10), "Answer in French.", t0.plusSeconds(20),
                    t0))).isEqualTo(Outcome.UNCHANGED);
            assertThat(push(server, token, row(id, "Z", t0.plusSeconds(1), "Stale", t0.plusSeconds(1), t0)))
                    .isEqualTo(Outcome.UNCHANGED);
            assertStored(server, token, id, "B", t0.plusSeconds(10), "Answer in French.", t0.plusSeconds(20));
            assertThat(server.mismatches()).isEmpty();
        }
    }

    @Test
    void aSystemPromptWithoutItsTimeIsIgnoredAndAnEmptyOneClearsIt() throws Exception {
        try (TestServer server = TestServer.start(dir)) {
            String token = server.signUp("ada@example.com").accessToken();
            String id = TestIds.next();
            Instant t0 = server.now().minusSeconds(600);
            push(server, token, row(id, "Trip", t0, "Be a travel agent.", t0, t0));

            assertThat(push(server, token, row(id, "Trip", t0, "No time, no edit", null, t0)))
                    .isEqualTo(Outcome.UNCHANGED);
            assertStored(server, token, id, "Trip", t0, "Be a travel agent.", t0);

            assertThat(push(server, token, row(id, "Trip", t0, "", t0.plusSeconds(30), t0)))
                    .isEqualTo(Outcome.UPDATED);
            assertStored(server, token, id, "Trip", t0, null, t0.plusSeconds(30));

            // The clear keeps its time, so an edit made before it, arriving late, does not bring a prompt back.
            assertThat(push(server, token, row(id, "Trip", t0, "Late edit", t0.plusSeconds(25), t0)))
                    .isEqualTo(Outcome.UNCHANGED);
            assertStored(server, token, id, "Trip", t0, null, t0.plusSeconds(30));

            // A new session pushed with a prompt but without its time holds none.
            String other = TestIds.next();
            assertThat(push(server, token, row(other, "Other", t0, "Ignored", null, t0))).isEqualTo(Outcome.INSERTED);
            assertStored(server, token, other, "Other", t0, null, null);
        }
    }

    @Test
    void aSystemPromptEditIsDeliveredBySyncAndCountsNothing() throws Exception {
        try (TestServer server = TestServer.start(dir)) {
            String token = server.signUp("ada@example.com").accessToken();
            String id = TestIds.next();
            Instant t0 = server.now().minusSeconds(600);
            Message question = userMessage(id, "Where to in May?", 5, t0.plusSeconds(1));
            server.push(token, List.of(row(id, "Trip", t0, null, null, t0)), List.of(question));
            SyncPage first = sync(server, token, "");
            String usageBefore = usage(server);
            long messagesBefore = server.queryLong("SELECT message_count FROM chat_sessions WHERE id = '" + id + "'");

            assertThat(push(server, token, row(id, "Trip", t0, "Be a travel agent.", t0.plusSeconds(60), t0)))
                    .isEqualTo(Outcome.UPDATED);
            SyncPage after = sync(server, token, first.nextCursor());

            assertThat(after.messages()).isEmpty();
            assertThat(after.sessions()).singleElement().satisfies(s -> {
                assertThat(s.id()).isEqualTo(id);
                assertThat(s.systemPrompt()).isEqualTo("Be a travel agent.");
                assertThat(s.systemPromptUpdatedAt()).isEqualTo(t0.plusSeconds(60));
                assertThat(s.messageCount()).isEqualTo(1L);
            });
            assertThat(Long.parseLong(after.nextCursor())).isGreaterThan(Long.parseLong(first.nextCursor()));
            assertThat(usage(server)).isEqualTo(usageBefore);
            assertThat(server.queryLong("SELECT message_count FROM chat_sessions WHERE id = '" + id + "'"))
                    .isEqualTo(messagesBefore);
            assertThat(server.mismatches()).isEmpty();
            // An edit that loses changes nothing, so nothing new is synced.
            push(server, token, row(id, "Trip", t0, "Older", t0.plusSeconds(59), t0));
            assertThat(sync(server, token, after.nextCursor()).sessions()).isEmpty();
        }
    }

    @Test
    void deletingASessionPurgesItsSystemPrompt() throws Exception {
        try (TestServer server = TestServer.start(dir)) {
            String token = server.signUp("ada@example.com").accessToken();
            String id = TestIds.next();
            Instant t0 = server.now().minusSeconds(600);
            push(server, token, row(id, "Private", t0, "My secret persona", t0, t0));

            assertThat(server.api.delete("/api/chat/sessions/" + id, token).status()).isEqualTo(204);

            assertThat(server.queryString("SELECT system_prompt FROM chat_sessions WHERE id = '" + id + "'")).isNull();
            Session synced = sync(server, token, "").sessions().get(0);
            assertThat(synced.deletedAt()).isNotNull();
            assertThat(synced.systemPrompt()).isNull();
        }
    }

    /**
     * A database of the version before system prompts (Flyway V4), holding users, sessions (one deleted), replies and
     * a failed message, migrates in place when a server starts on it: every row it held reads back identically,
     * counters included, the new columns are empty, and the API serves the old rows with no system prompt.
     */
    @Test
    void aVersion4DatabaseMigratesInPlaceAndItsRowsReadBackIdentically() throws Exception {
        String url = TestDatabases.emptyDatabase(dir, "v4");
        Flyway.configure().locations(Dialect.of(url).migrations()).target("4").dataSource(url, null, null).load()
                .migrate();
        Instant t0 = Instant.parse("2026-11-20T09:00:00.000Z");
        String userId = TestIds.next();
        String live = TestIds.next();
        String deleted = TestIds.next();
        String question = TestIds.next();
        try (Connection c = DriverManager.getConnection(url)) {
            writeVersion4Rows(c, userId, live, deleted, question, t0);
        }
        Map<String, List<Map<String, Object>>> before = dump(url);
        assertThat(before.get("chat_messages")).hasSize(4);
        assertThat(before.get("user_usage_daily")).isNotEmpty();

        try (ParleyServer server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(url).build())) {
            Map<String, List<Map<String, Object>>> after = dump(url);
            for (Map<String, Object> session : after.get("chat_sessions")) {
                assertThat(session.remove("system_prompt")).isNull();
                assertThat(session.remove("system_prompt_updated_at")).isNull();
            }
            // Later migrations state each row's parent (BranchesMigrationTest) and mark it written through Parley
            // (ImportedHistoryTest); nothing else of a row changes.
            after.get("chat_messages").forEach(message -> message.remove("parent_id"));
            assertThat(after.get("chat_messages")).allSatisfy(m -> assertThat(m.remove("origin")).isEqualTo("chat"));
            assertThat(after).isEqualTo(before);
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(AnalyticsVerifier.verify(c)).isEmpty();
            }

            HttpApi api = new HttpApi(server.url());
            HttpApi.Response signIn = api.post("/api/auth/signin", new Credentials("old@example.com", PASSWORD), null);
            assertThat(signIn.status()).as("%s", signIn).isEqualTo(200);
            String token = signIn.json().path("accessToken").asText();
            SyncPage page = api.get("/api/chat/sync", token).as(SyncPage.class);
            assertThat(page.sessions()).extracting(Session::id).containsExactlyInAnyOrder(live, deleted);
            assertThat(page.sessions()).allSatisfy(s -> {
                assertThat(s.systemPrompt()).isNull();
                assertThat(s.systemPromptUpdatedAt()).isNull();
            });
            Session trip = page.sessions().stream().filter(s -> s.id().equals(live)).findFirst().orElseThrow();
            assertThat(trip.title()).isEqualTo("Trip to Lisbon");
            assertThat(trip.titleUpdatedAt()).isEqualTo(t0.plusSeconds(5));
            assertThat(trip.messageCount()).isEqualTo(2L);
            assertThat(trip.totalTokens()).isEqualTo(5L + 40L);
            assertThat(page.messages()).extracting(Message::content)
                    .containsExactlyInAnyOrder("Where should I eat?", "Try the bacalhau.", "Lost message", "");
            SessionsPage listed = api.get("/api/chat/sessions", token).as(SessionsPage.class);
            assertThat(listed.sessions()).singleElement().satisfies(s -> {
                assertThat(s.id()).isEqualTo(live);
                assertThat(s.systemPrompt()).isNull();
            });

            // The migrated session takes a system prompt like any other, and still counts nothing for it.
            HttpApi.Response pushed = api.post("/api/chat/messages", Map.of("sessions", List.of(
                    Session.of(live, "Trip to Lisbon", t0.plusSeconds(5), "Be a local guide.", t0.plusSeconds(90),
                            t0, null))), token);
            assertThat(pushed.json().path("sessions").path(0).path("result").asText()).isEqualTo("updated");
            Map<String, List<Map<String, Object>>> edited = dump(url);
            assertThat(edited.get("user_usage_daily")).isEqualTo(before.get("user_usage_daily"));
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(AnalyticsVerifier.verify(c)).isEmpty();
            }
        }
    }

    // ------------------------------------------------------------------ a database of version 4

    private static final String PASSWORD = "an old account's password";

    /** Rows as a server of version 4 wrote them, through plain SQL, so that its triggers did the counting. */
    private static void writeVersion4Rows(Connection c, String userId, String live, String deleted, String question,
                                          Instant t0) throws SQLException {
        String hash = Password.hash(PASSWORD).addRandomSalt(16)
                .with(Argon2Function.getInstance(19_456, 2, 1, 32, Argon2.ID)).getResult();
        long at = t0.toEpochMilli();
        update(c, "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
                userId, "old@example.com", hash, at);
        update(c, "INSERT INTO chat_sessions (id, user_id, title, title_updated_at, created_at, updated_at)"
                + " VALUES (?, ?, ?, ?, ?, ?)", live, userId, "Trip to Lisbon", at + 5_000, at, at + 5_000);
        update(c, "INSERT INTO chat_sessions (id, user_id, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                deleted, userId, "Gone", at + 1_000, at + 1_000);
        String insert = "INSERT INTO chat_messages (id, session_id, user_id, role, content, model, input_tokens,"
                + " output_tokens, total_tokens, user_message_id, message_timestamp, elapsed_ms, error_message,"
                + " completion_id, finish_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                + " ?, ?, ?, ?, ?)";
        update(c, insert, question, live, userId, "user", "Where should I eat?", "parley-local", 5L, 0L, 5L, null,
                at + 10_000, null, null, null, null, at + 10_000, at + 10_000);
        update(c, insert, TestIds.next(), live, userId, "assistant", "Try the bacalhau.", "parley-local", 0L, 40L,
                40L, question, at + 11_000, 900L, null, "cmpl-1", "stop", at + 11_000, at + 11_000);
        update(c, insert, TestIds.next(), live, userId, "user", "Lost message", "parley-local", 0L, 0L, 0L, null,
                at + 12_000, null, "the model provider answered HTTP 503", null, null, at + 12_000, at + 12_000);
        update(c, insert, TestIds.next(), deleted, userId, "user", "Forget this", "parley-local", 3L, 0L, 3L, null,
                at + 2_000, null, null, null, null, at + 2_000, at + 2_000);
        // Deleted as version 4 deletes: a tombstone, and the messages' content purged.
        update(c, "UPDATE chat_sessions SET deleted_at = ?, updated_at = ?, last_message_preview = '' WHERE id = ?",
                at + 3_000, at + 3_000, deleted);
        update(c, "UPDATE chat_messages SET content = '', purged = TRUE, updated_at = ? WHERE session_id = ?",
                at + 3_000, deleted);
    }

    // ------------------------------------------------------------------ helpers

    private static Session row(String id, String title, Instant titleAt, String prompt, Instant promptAt,
                               Instant createdAt) {
        return Session.of(id, title, titleAt, prompt, promptAt, createdAt, null);
    }

    private static Outcome push(TestServer server, String token, Session session) {
        RowResult result = server.push(token, List.of(session), List.of()).sessions().get(0);
        assertThat(result.accepted()).as("%s", result).isTrue();
        return result.result();
    }

    /** The session as the sessions list and a full sync both give it. */
    private static void assertStored(TestServer server, String token, String id, String title, Instant titleAt,
                                     String prompt, Instant promptAt) {
        Session listed = server.api.get("/api/chat/sessions", token).as(SessionsPage.class).sessions().stream()
                .filter(s -> s.id().equals(id)).findFirst().orElseThrow();
        Session synced = sync(server, token, "").sessions().stream().filter(s -> s.id().equals(id)).findFirst()
                .orElseThrow();
        for (Session s : List.of(listed, synced)) {
            assertThat(s.title()).isEqualTo(title);
            assertThat(s.titleUpdatedAt()).isEqualTo(titleAt);
            assertThat(s.systemPrompt()).isEqualTo(prompt);
            assertThat(s.systemPromptUpdatedAt()).isEqualTo(promptAt);
        }
    }

    private static SyncPage sync(TestServer server, String token, String cursor) {
        HttpApi.Response response = server.api.get("/api/chat/sync?cursor=" + cursor, token);
        assertThat(response.status()).as("%s", response).isEqualTo(200);
        return response.as(SyncPage.class);
    }

    /** Every usage figure of every day, as one text. */
    private static String usage(TestServer server) throws SQLException {
        return String.join("|", server.queryStrings("SELECT user_id || ':' || usage_date || ':' || messages_sent"
                + " || ':' || messages_received || ':' || input_tokens || ':' || output_tokens || ':' || total_tokens"
                + " || ':' || sessions_created || ':' || generation_ms || ':' || models_used FROM user_usage_daily"
                + " ORDER BY user_id, usage_date"));
    }
}
