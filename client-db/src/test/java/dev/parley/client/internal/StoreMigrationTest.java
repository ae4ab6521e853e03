package dev.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.SyncState;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store written by the release before streamed replies (schema V2) is migrated in place when it is opened, and
 * what that release wrote reads back identically: no finish reason on its replies, no reply being written.
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
            assertThat(rows).containsExactly(
                    new MessageRow(new Message("m1", "s1", Role.USER, "What to pack?", "parley-local", 4L, 0L, 4L,
                            null, Instant.ofEpochMilli(2000), null, null, null), "u1", SyncState.SYNCED, null,
                            false, null, null, null),
                    new MessageRow(new Message("r1", "s1", Role.ASSISTANT, "Pack light", "parley-local", 0L, 9L, 9L,
                            "m1", Instant.ofEpochMilli(3000), 120L, null, "cmpl-1"), "u1", SyncState.PENDING, null,
                            false, 7L, null, null));
            List<UnfinishedReplies.Row> growing = db.inTransaction(c -> new UnfinishedReplies().ofSession(c, "s1"));
            List<String> underWay = db.inTransaction(c -> new LocalMessages().sending(c, "u1"));
            assertThat(growing).isEmpty();
            assertThat(underWay).isEmpty();
        }
    }
}
