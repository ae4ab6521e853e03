package dev.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatParameters;
import dev.parley.client.SyncState;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Message;
import dev.parley.protocol.Origin;
import dev.parley.protocol.Role;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store written by an earlier release is migrated in place when it is opened, and what that release wrote reads
 * back identically: from before streamed replies (schema V2), no finish reason on its replies and no reply being
 * written; from before per-chat settings (schema V3), no system prompt and no chat parameters.
 */
class StoreMigrationTest {
    @TempDir
    Path dir;

    @Test
    void aStoreOfThePreviousReleaseReadsBackIdenticallyAfterTheMigration() throws Exception {
        Path file = dir.resolve("parley-client.db");
        String url = "jdbc:sqlite:" + file;
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/client").target("2").load().migrate();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("INSERT INTO sessions (id, owner, title, title_updated_at, created_at, last_activity_at,"
                    + " last_preview, sync_state) VALUES ('s1', 'u1', 'Lisbon', 1000, 1000, 3000, 'Pack light',"
                    + " 'synced')");
            s.execute("INSERT INTO messages (id, session_id, owner, role, content, model, input_tokens,"
                    + " output_tokens, message_timestamp, sync_state) VALUES ('m1', 's1', 'u1', 'user',"
                    + " 'What to pack?', 'parley-local', 4, 0, 2000, 'synced')");
            s.execute("INSERT INTO messages (id, session_id, owner, role, content, model, input_tokens,"
                    + " output_tokens, user_message_id, message_timestamp, elapsed_ms, completion_id, sync_state,"
                    + " outbox_seq) VALUES ('r1', 's1', 'u1', 'assistant', 'Pack light', 'parley-local', 0, 9,"
                    + " 'm1', 3000, 120, 'cmpl-1', 'pending', 7)");
        }

        try (LocalDatabase db = LocalDatabase.open(file)) {
            List<MessageRow> rows = db.inTransaction(c -> new LocalMessages().ofSession(c, "s1"));
            // Later releases add each row's parent (V5) and mark it written through Parley (V6, origin chat).
            assertThat(rows).containsExactly(
                    new MessageRow(new Message("m1", "s1", Role.USER, "What to pack?", "parley-local", 4L, 0L, 4L,
                            null, Instant.ofEpochMilli(2000), null, null, null).toBuilder().origin(Origin.CHAT)
                            .build(), "u1", SyncState.SYNCED, null,
                            false, null, null, null),
                    new MessageRow(new Message("r1", "s1", Role.ASSISTANT, "Pack light", "parley-local", 0L, 9L, 9L,
                            "m1", Instant.ofEpochMilli(3000), 120L, null, "cmpl-1", null, "m1", Origin.CHAT), "u1",
                            SyncState.PENDING, null,
                            false, 7L, null, null));
            List<UnfinishedReplies.Row> growing = db.inTransaction(c -> new UnfinishedReplies().ofSession(c, "s1"));
            List<String> underWay = db.inTransaction(c -> new LocalMessages().sending(c, "u1"));
            assertThat(growing).isEmpty();
            assertThat(underWay).isEmpty();
        }
    }

    @Test
    void aStoreOfTheStreamingReleaseReadsBackIdenticallyWithNoChatSettings() throws Exception {
        Path file = dir.resolve("parley-client.db");
        String url = "jdbc:sqlite:" + file;
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/client").target("3").load().migrate();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("INSERT INTO sessions (id, owner, title, title_updated_at, created_at, last_activity_at,"
                    + " last_preview, sync_state, outbox_seq) VALUES ('s1', 'u1', 'Lisbon', 1000, 1000, 3000,"
                    + " 'Pack light', 'pending', 6)");
            s.execute("INSERT INTO messages (id, session_id, owner, role, content, model, input_tokens,"
                    + " output_tokens, message_timestamp, sync_state) VALUES ('m1', 's1', 'u1', 'user',"
                    + " 'What to pack?', 'parley-local', 4, 0, 2000, 'synced')");
            s.execute("INSERT INTO messages (id, session_id, owner, role, content, model, input_tokens,"
                    + " output_tokens, user_message_id, message_timestamp, elapsed_ms, completion_id, sync_state,"
                    + " finish_reason) VALUES ('r1', 's1', 'u1', 'assistant', 'Pack light', 'parley-local', 0, 9,"
                    + " 'm1', 3000, 120, 'cmpl-1', 'synced', 'stopped')");
            s.execute("INSERT INTO messages (id, session_id, owner, role, content, model, message_timestamp,"
                    + " sync_state, outbox_seq, sending) VALUES ('m2', 's1', 'u1', 'user', 'And shoes?',"
                    + " 'parley-other', 4000, 'pending', 8, 1)");
            s.execute("INSERT INTO unfinished_replies (message_id, session_id, reply_id, content, started_at)"
                    + " VALUES ('m2', 's1', 'r2', 'Comfortable', 4100)");
        }

        try (LocalDatabase db = LocalDatabase.open(file)) {
            SessionRow session = db.inTransaction(c -> new LocalSessions().find(c, "s1")).orElseThrow();
            List<MessageRow> rows = db.inTransaction(c -> new LocalMessages().ofSession(c, "s1"));
            List<UnfinishedReplies.Row> growing = db.inTransaction(c -> new UnfinishedReplies().ofSession(c, "s1"));
            assertThat(session).isEqualTo(new SessionRow("s1", "u1", "Lisbon", Instant.ofEpochMilli(1000), null, null,
                    Instant.ofEpochMilli(1000), null, Instant.ofEpochMilli(3000), "Pack light", SyncState.PENDING, 6L,
                    null, null));
            assertThat(session.toWire().systemPrompt()).as("no prompt edit to push").isNull();
            ChatParameters parameters = db.inTransaction(c -> new LocalSessions().parameters(c, "s1"));
            Optional<String> lastModel = db.inTransaction(c -> new LocalMessages().lastModel(c, "s1"));
            assertThat(parameters).isEqualTo(ChatParameters.NONE);
            assertThat(rows).extracting(MessageRow::id).containsExactly("m1", "r1", "m2");
            assertThat(rows.get(1).message().finishReason()).isEqualTo(FinishReason.STOPPED);
            assertThat(growing).containsExactly(new UnfinishedReplies.Row("m2", "s1", "r2", "Comfortable",
                    Instant.ofEpochMilli(4100), false));
            assertThat(lastModel).contains("parley-other");
        }
    }

    @Test
    void aStoreOfTheSettingsReleaseGetsParentsAsTheServerFillsThemAndStaysOneLine() throws Exception {
        Path file = dir.resolve("parley-client.db");
        String url = "jdbc:sqlite:" + file;
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/client").target("4").load().migrate();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("INSERT INTO sessions (id, owner, title, created_at, last_activity_at, sync_state)"
                    + " VALUES ('s1', 'u1', 'Lisbon', 1000, 6000, 'synced')");
            s.execute("INSERT INTO sessions (id, owner, title, created_at, last_activity_at, sync_state)"
                    + " VALUES ('s2', 'u1', 'Other', 1000, 1000, 'synced')");
            // Two rows at one time order by id; a failed question stays on the line; another chat is apart.
            s.execute("INSERT INTO messages (id, session_id, owner, role, content, message_timestamp, sync_state)"
                    + " VALUES ('a1', 's1', 'u1', 'user', 'What to pack?', 2000, 'synced'),"
                    + " ('a3', 's1', 'u1', 'user', 'Shoes?', 4000, 'synced'),"
                    + " ('a4', 's1', 'u1', 'user', 'Hat?', 4000, 'synced'),"
                    + " ('o1', 's2', 'u1', 'user', 'Elsewhere', 2500, 'synced')");
            s.execute("INSERT INTO messages (id, session_id, owner, role, content, message_timestamp, sync_state,"
                    + " error_message) VALUES ('a2', 's1', 'u1', 'user', 'Socks?', 3000, 'pending', 'No answer')");
            s.execute("INSERT INTO messages (id, session_id, owner, role, content, user_message_id,"
                    + " message_timestamp, sync_state) VALUES ('b1', 's1', 'u1', 'assistant', 'Light', 'a1', 2500,"
                    + " 'synced'), ('b4', 's1', 'u1', 'assistant', 'A cap', 'a4', 4000, 'synced')");
        }

        try (LocalDatabase db = LocalDatabase.open(file)) {
            List<MessageRow> rows = db.inTransaction(c -> new LocalMessages().ofSession(c, "s1"));
            assertThat(rows).extracting(MessageRow::id).containsExactly("a1", "b1", "a2", "a3", "a4", "b4");
            assertThat(rows).extracting(r -> r.message().parentId())
                    .as("a reply follows its question (b4 though it sorts before a4's time-mate); a question the row"
                            + " before it")
                    .containsExactly(null, "a1", "b1", "a2", "a3", "a4");
            ConversationTree tree = new ConversationTree("s1", rows.stream().map(MessageRow::toLocal).toList(),
                    Map.of());
            assertThat(tree.path()).as("one line, in the order an earlier release showed")
                    .extracting(p -> p.id()).containsExactly("a1", "b1", "a2", "a3", "a4", "b4");
            assertThat(tree.path()).allMatch(p -> p.versions() == 1);
            Optional<MessageRow> other = db.inTransaction(c -> new LocalMessages().find(c, "o1"));
            assertThat(other.orElseThrow().message().parentId()).as("the first turn of its own chat").isNull();
            assertThat(rows.get(2).message().errorMessage()).isEqualTo("No answer");
        }
    }
}
