package dev.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.SyncState;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import dev.parley.protocol.UsageResponse.UsageDay;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Usage counted from the local store follows the server's counting rules (SPEC §4.1): failed, system and unfinished
 * rows count nothing, days are UTC dates of the message time, and only the rows of the account asked for count.
 */
class LocalUsageTest {
    private static final LocalDate FROM = LocalDate.parse("2026-02-28");
    private static final LocalDate TO = LocalDate.parse("2026-03-03");

    @TempDir
    Path dir;

    LocalDatabase db;
    final LocalSessions sessions = new LocalSessions();
    final LocalMessages messages = new LocalMessages();

    @BeforeEach
    void open() {
        db = LocalDatabase.open(dir.resolve("parley-client.db"));
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void onlyAnsweredMessagesOfTheAccountCountOnTheUtcDateOfTheirTime() {
        session("s1", "u1", "2026-03-01T10:00:00Z", false);
        user("q1", "s1", "u1", "2026-03-01T10:00:01Z", "model-a", 5, null);
        reply("r1", "s1", "u1", "2026-03-01T10:00:02Z", "model-a", 7, 30L);
        user("q2", "s1", "u1", "2026-03-01T11:00:00Z", "model-a", 0, "The model failed.");
        user("q3", "s1", "u1", "2026-03-01T12:00:00Z", "model-a", 0, null);
        db.inTransaction(c -> {
            messages.setSending(c, "q3", true); // its reply is being written: nothing counts yet
            return null;
        });
        put(Message.builder("sys", "s1", Role.SYSTEM).content("Be brief.").model("model-a").tokens(9, 0)
                .messageTimestamp(Instant.parse("2026-03-01T12:30:00Z")).build(), "u1");
        user("q4", "s1", "u1", "2026-03-01T23:59:59.999Z", "model-b", 2, null);
        reply("r4", "s1", "u1", "2026-03-02T00:00:00Z", "model-b", 4, 10L);
        user("q8", "s1", "u1", "2026-03-04T00:00:00Z", "model-a", 3, null); // after the period
        session("s2", "u1", "2026-03-02T23:59:59.999Z", true); // deleted: usage is history, as on the server
        user("q5", "s2", "u1", "2026-03-02T08:00:00Z", "model-a", 1, null);
        session("s3", "u2", "2026-03-01T09:00:00Z", false); // another account's
        user("q6", "s3", "u2", "2026-03-01T09:00:01Z", "model-a", 100, null);
        session("s4", null, "2026-03-01T08:00:00Z", false); // written signed out
        user("q7", "s4", null, "2026-03-01T08:00:01Z", "model-a", 50, null);

        List<UsageDay> account = db.inTransaction(c -> new LocalUsage().days(c, "u1", FROM, TO));
        List<UsageDay> signedOut = db.inTransaction(c -> new LocalUsage().days(c, null, FROM, TO));

        assertThat(account).containsExactly(
                new UsageDay(LocalDate.parse("2026-03-01"), 2, 1, 7, 7, 14, Map.of("model-a", 2L, "model-b", 1L), 1,
                        30),
                new UsageDay(LocalDate.parse("2026-03-02"), 1, 1, 1, 4, 5, Map.of("model-a", 1L, "model-b", 1L), 1,
                        10));
        assertThat(signedOut).containsExactly(
                new UsageDay(LocalDate.parse("2026-03-01"), 1, 0, 50, 0, 50, Map.of("model-a", 1L), 1, 0));
    }

    @Test
    void aPeriodWithoutActivityHasNoDays() {
        session("s1", "u1", "2026-03-01T10:00:00Z", false);
        user("q1", "s1", "u1", "2026-03-01T10:00:01Z", "model-a", 5, "The model failed.");

        List<UsageDay> later = db.inTransaction(c -> new LocalUsage().days(c, "u1", LocalDate.parse("2026-03-02"), TO));
        List<UsageDay> all = db.inTransaction(c -> new LocalUsage().days(c, "u1", FROM, TO));

        assertThat(later).isEmpty();
        assertThat(all).as("the conversation was created, the failed message counts nothing")
                .containsExactly(new UsageDay(LocalDate.parse("2026-03-01"), 0, 0, 0, 0, 0, Map.of(), 1, 0));
    }

    private void session(String id, String owner, String createdAt, boolean deleted) {
        Instant at = Instant.parse(createdAt);
        db.inTransaction(c -> {
            sessions.put(c, new SessionRow(id, owner, "Chat " + id, at, at, deleted ? at.plusSeconds(60) : null, at,
                    "", owner == null ? SyncState.LOCAL : SyncState.SYNCED, null, null, null));
            return null;
        });
    }

    private void user(String id, String sessionId, String owner, String at, String model, long input, String error) {
        put(Message.builder(id, sessionId, Role.USER).content("question " + id).model(model).tokens(input, 0)
                .messageTimestamp(Instant.parse(at)).errorMessage(error).build(), owner);
    }

    private void reply(String id, String sessionId, String owner, String at, String model, long output,
                       Long elapsedMs) {
        put(Message.builder(id, sessionId, Role.ASSISTANT).content("reply " + id).model(model).tokens(0, output)
                .userMessageId("q" + id.substring(1)).messageTimestamp(Instant.parse(at)).elapsedMs(elapsedMs)
                .build(), owner);
    }

    private void put(Message m, String owner) {
        db.inTransaction(c -> {
            messages.put(c, new MessageRow(m, owner, owner == null ? SyncState.LOCAL : SyncState.SYNCED,
                    m.errorMessage() == null ? null : "upstream_error", m.errorMessage() != null, null, null, null));
            return null;
        });
    }
}
