package dev.parley.server;

import static dev.parley.server.testing.DatabaseDump.dump;
import static dev.parley.server.testing.DatabaseDump.update;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.Credentials;
import dev.parley.protocol.Message;
import dev.parley.protocol.SyncPage;
import dev.parley.server.internal.store.Dialect;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database of the version before branches (Flyway V6) migrates in place: each row's parent states the order its
 * conversation was shown in, so every old conversation stays one line; nothing else of any row changes, sync clocks
 * included, so no client downloads its history again; and a second reply may now be stored beside an old one. Runs
 * on the dialect of the build's execution.
 */
class BranchesMigrationTest {
    private static final String PASSWORD = "a version 6 account's password";

    @TempDir
    Path dir;

    @Test
    void aVersion6DatabaseGetsLinearParentsAndOtherwiseReadsBackIdentically() throws Exception {
        String url = TestDatabases.emptyDatabase(dir, "v6");
        Flyway.configure().locations(Dialect.of(url).migrations()).target("6").dataSource(url, null, null).load()
                .migrate();
        Instant t0 = Instant.parse("2026-11-28T09:00:00.000Z");
        String userId = TestIds.next();
        String trip = TestIds.next();
        String other = TestIds.next();
        String q1 = TestIds.next();
        String a1 = TestIds.next();
        String q2 = TestIds.next();
        String q3 = TestIds.next();
        String a3 = TestIds.next();
        String lone = TestIds.next();
        try (Connection c = DriverManager.getConnection(url)) {
            long at = t0.toEpochMilli();
            String hash = Password.hash(PASSWORD).addRandomSalt(16)
                    .with(Argon2Function.getInstance(19_456, 2, 1, 32, Argon2.ID)).getResult();
            update(c, "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)", userId,
                    "six@example.com", hash, at);
            for (String session : List.of(trip, other)) {
                update(c, "INSERT INTO chat_sessions (id, user_id, title, created_at, updated_at)"
                        + " VALUES (?, ?, ?, ?, ?)", session, userId, "Chat", at, at);
            }
            // One line as version 6 showed it: a question, its reply, a failed question, a question and its reply.
            insert(c, q1, trip, userId, "user", "Where to?", 4, 0, null, at + 1_000, null);
            insert(c, a1, trip, userId, "assistant", "Lisbon.", 0, 9, q1, at + 2_000, null);
            insert(c, q2, trip, userId, "user", "And food?", 0, 0, null, at + 3_000, "upstream timed out");
            insert(c, q3, trip, userId, "user", "And food, again?", 5, 0, null, at + 4_000, null);
            insert(c, a3, trip, userId, "assistant", "Bacalhau.", 0, 7, q3, at + 5_000, null);
            insert(c, lone, other, userId, "user", "Hello", 1, 0, null, at + 6_000, null);
        }
        Map<String, List<Map<String, Object>>> before = dump(url);

        try (ParleyServer server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(url).build())) {
            Map<String, List<Map<String, Object>>> after = dump(url);
            Map<String, Object> parents = new HashMap<>();
            after.get("chat_messages").forEach(m -> parents.put((String) m.get("id"), m.remove("parent_id")));
            // A later release's column (V9): every row written before it was written through Parley.
            assertThat(after.get("chat_messages")).allSatisfy(m -> assertThat(m.remove("origin")).isEqualTo("chat"));
            assertThat(after).as("every row as version 6 wrote it, sync clocks included").isEqualTo(before);
            Map<String, String> expected = new HashMap<>();
            expected.put(q1, null);
            expected.put(a1, q1);
            expected.put(q2, a1);
            expected.put(q3, q2);
            expected.put(a3, q3);
            expected.put(lone, null);
            assertThat(parents).isEqualTo(expected);
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(AnalyticsVerifier.verify(c)).isEmpty();
            }

            HttpApi api = new HttpApi(server.url());
            String token = api.post("/api/auth/signin", new Credentials("six@example.com", PASSWORD), null).json()
                    .path("accessToken").asText();
            SyncPage page = api.get("/api/chat/sync", token).as(SyncPage.class);
            Map<String, Message> synced = page.messages().stream()
                    .collect(Collectors.toMap(Message::id, Function.identity()));
            assertThat(synced.get(q3).parentId()).isEqualTo(q2);
            assertThat(synced.get(a3).parentId()).isEqualTo(q3);

            // The one-reply index is gone: a second reply to an old question is a sibling, counted once.
            Message sibling = new Message(TestIds.next(), trip, dev.parley.protocol.Role.ASSISTANT, "Sardines.",
                    "parley-local", 0L, 6L, null, q3, t0.plusSeconds(9), 30L, null, null);
            HttpApi.Response pushed = api.post("/api/chat/messages",
                    Map.of("sessions", List.of(), "messages", List.of(sibling)), token);
            assertThat(pushed.json().path("messages").path(0).path("result").asText()).isEqualTo("inserted");
            try (Connection c = DriverManager.getConnection(url)) {
                assertThat(AnalyticsVerifier.verify(c)).isEmpty();
            }
        }
    }

    private static void insert(Connection c, String id, String session, String user, String role, String content,
                               long input, long output, String userMessageId, long at, String error) throws Exception {
        update(c, "INSERT INTO chat_messages (id, session_id, user_id, role, content, model, input_tokens,"
                        + " output_tokens, total_tokens, user_message_id, message_timestamp, elapsed_ms, error_message,"
                        + " completion_id, finish_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                        + " ?, ?, ?, ?, ?, ?, ?)", id, session, user, role, content, "parley-local", input, output,
                input + output, userMessageId, at, role.equals("assistant") ? 100L : null, error, null,
                role.equals("assistant") ? "stop" : null, at, at);
    }
}
