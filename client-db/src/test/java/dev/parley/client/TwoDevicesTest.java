package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy;
import dev.parley.client.testing.FaultProxy.Mode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two devices (two local stores) of one account, each behind its own proxy so that either can go offline alone:
 * they converge after sign-in and pull, titles resolve last-writer-wins, and a delete on one is never undone by
 * the other's late edits. The devices pull only when told to (no live sync), so that each pull's effect is seen.
 */
class TwoDevicesTest {
    private static final String EMAIL = "ada@example.com";
    private static final String PASSWORD = "correct horse battery";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    Backend backend;
    FaultProxy netA;
    FaultProxy netB;
    ChatClient deviceA;
    ChatClient deviceB;

    @BeforeEach
    void start() throws Exception {
        backend = new Backend(dir);
        netA = backend.newProxy();
        netB = backend.newProxy();
        deviceA = backend.clientWithoutLiveSync("device-a", netA);
        deviceA.signUp(EMAIL, PASSWORD);
    }

    @AfterEach
    void stop() throws Exception {
        deviceA.close();
        if (deviceB != null) {
            deviceB.close();
        }
        backend.close();
    }

    @Test
    void secondDeviceSeesTheSameHistoryAfterSignInAndNewMessagesAfterPull() throws Exception {
        LocalSession lisbon = deviceA.newSession("Trip to Lisbon");
        LocalSession bread = deviceA.newSession("Sourdough");
        chat(deviceA, lisbon, "Where should we eat?");
        chat(deviceA, bread, "How long should it proof?");
        chat(deviceA, lisbon, "And on Sunday?");
        awaitDrained(deviceA);

        deviceB = backend.clientWithoutLiveSync("device-b", netB);
        deviceB.signIn(EMAIL, PASSWORD);

        assertThat(titles(deviceB)).isEqualTo(titles(deviceA))
                .containsExactly(tuple(lisbon.id(), "Trip to Lisbon"), tuple(bread.id(), "Sourdough"));
        assertThat(contents(deviceB, lisbon)).isEqualTo(contents(deviceA, lisbon)).hasSize(4);
        assertThat(contents(deviceB, bread)).isEqualTo(contents(deviceA, bread)).hasSize(2);
        assertThat(deviceB.messages(lisbon.id()))
                .allSatisfy(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));

        chat(deviceA, bread, "Overnight in the fridge?");
        int merged = deviceB.pullNow().get(20, TimeUnit.SECONDS);

        assertThat(merged).isPositive();
        assertThat(contents(deviceB, bread)).isEqualTo(contents(deviceA, bread)).hasSize(4);
        assertThat(contents(deviceB, bread)).extracting(row -> row.toList().get(1))
                .contains("Overnight in the fridge?");
        assertThat(titles(deviceB)).isEqualTo(titles(deviceA));
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(8);
        assertThat(backend.queryLong("SELECT count(DISTINCT id) FROM chat_messages")).isEqualTo(8);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions")).isEqualTo(2);
        assertThat(backend.queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(4);
        assertThat(backend.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(4);
        assertThat(backend.queryLong("SELECT sum(sessions_created) FROM user_usage_daily")).isEqualTo(2);
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void offlineRenameLosesToALaterRenameOnTheOtherDevice() throws Exception {
        LocalSession session = sharedSession();
        netA.mode(Mode.DOWN);

        deviceA.rename(session.id(), "From A");
        awaitClockPast(deviceA.session(session.id()).orElseThrow().titleUpdatedAt());
        deviceB.rename(session.id(), "From B");
        awaitDrained(deviceB);
        assertThat(serverTitle(session)).isEqualTo("From B");

        reconnect(deviceA, netA);
        deviceB.pullNow().get(20, TimeUnit.SECONDS);

        assertThat(deviceA.session(session.id()).orElseThrow().title()).isEqualTo("From B");
        assertThat(deviceB.session(session.id()).orElseThrow().title()).isEqualTo("From B");
        assertThat(serverTitle(session)).isEqualTo("From B");
        assertThat(deviceA.syncStatus().unsent()).isZero();
        assertThat(deviceA.session(session.id()).orElseThrow().syncState()).isEqualTo(SyncState.SYNCED);
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void laterOfflineRenameWinsOverAnEarlierRenameOnTheOtherDevice() throws Exception {
        LocalSession session = sharedSession();
        deviceB.rename(session.id(), "From B");
        awaitDrained(deviceB);
        Instant renamedOnB = deviceB.session(session.id()).orElseThrow().titleUpdatedAt();
        netA.mode(Mode.DOWN);

        awaitClockPast(renamedOnB);
        deviceA.rename(session.id(), "From A");
        assertThat(serverTitle(session)).isEqualTo("From B");

        reconnect(deviceA, netA);
        deviceB.pullNow().get(20, TimeUnit.SECONDS);

        assertThat(deviceA.session(session.id()).orElseThrow().title()).isEqualTo("From A");
        assertThat(deviceB.session(session.id()).orElseThrow().title()).isEqualTo("From A");
        assertThat(serverTitle(session)).isEqualTo("From A");
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void deleteOnOneDeviceIsNotUndoneByLateOfflineEditsOnTheOther() throws Exception {
        LocalSession session = sharedSession();
        long sentBefore = backend.queryLong("SELECT sum(messages_sent) FROM user_usage_daily");
        long sessionsBefore = backend.queryLong("SELECT sum(sessions_created) FROM user_usage_daily");
        long messagesBefore = backend.queryLong("SELECT count(*) FROM chat_messages");
        netB.mode(Mode.DOWN);

        deviceA.delete(session.id());
        awaitDrained(deviceA);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions WHERE deleted_at IS NOT NULL")).isEqualTo(1);

        deviceB.rename(session.id(), "Renamed on B");
        Exchange.Outcome late = deviceB.send(session.id(), "Written on B after the delete", null).outcome()
                .get(20, TimeUnit.SECONDS);
        assertThat(late.userMessage().syncState()).isEqualTo(SyncState.PENDING);

        reconnect(deviceB, netB);

        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions WHERE deleted_at IS NOT NULL")).isEqualTo(1);
        assertThat(serverTitle(session)).isEqualTo("Shared");
        assertThat(deviceB.sessions(null, null, 100)).extracting(LocalSession::id).doesNotContain(session.id());
        assertThat(deviceB.session(session.id()).orElseThrow().deletedAt()).isNotNull();
        assertThat(deviceB.rejectedMessages()).extracting(LocalMessage::id).containsExactly(late.userMessage().id());
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE id = '" + late.userMessage().id() + "'"))
                .isZero();
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(messagesBefore);
        assertThat(backend.queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(sentBefore);
        assertThat(backend.queryLong("SELECT sum(sessions_created) FROM user_usage_daily")).isEqualTo(sessionsBefore);
        assertThat(backend.mismatches()).isEmpty();
    }

    /** A session with one exchange, created on A and known (synced) on B; both devices online and drained. */
    private LocalSession sharedSession() throws Exception {
        LocalSession session = deviceA.newSession("Shared");
        chat(deviceA, session, "Hello from A");
        awaitDrained(deviceA);
        deviceB = backend.clientWithoutLiveSync("device-b", netB);
        deviceB.signIn(EMAIL, PASSWORD);
        assertThat(deviceB.session(session.id())).get().extracting(LocalSession::title).isEqualTo("Shared");
        return session;
    }

    private static void chat(ChatClient device, LocalSession session, String text) throws Exception {
        Exchange.Outcome outcome = device.send(session.id(), text, null).outcome().get(20, TimeUnit.SECONDS);
        assertThat(outcome.reply()).as("reply to '%s'", text).isNotNull();
    }

    private static void awaitDrained(ChatClient device) throws Exception {
        Backend.await(WAIT, "the outbox to drain", () -> device.syncStatus().unsent() == 0);
    }

    /** Titles decide by millisecond timestamps: make sure the next write is strictly later. */
    private static void awaitClockPast(Instant instant) throws Exception {
        Backend.await(WAIT, "the clock to pass " + instant, () -> Instant.now().toEpochMilli() > instant.toEpochMilli());
    }

    private static void reconnect(ChatClient device, FaultProxy net) throws Exception {
        net.mode(Mode.PASS);
        device.connectivityRegained();
        awaitDrained(device); // the first try may hit a pooled connection the outage closed; the loop retries
        device.pullNow().get(20, TimeUnit.SECONDS);
    }

    private static List<org.assertj.core.groups.Tuple> titles(ChatClient device) {
        return device.sessions(null, null, 100).stream().map(s -> tuple(s.id(), s.title())).toList();
    }

    private static List<org.assertj.core.groups.Tuple> contents(ChatClient device, LocalSession session) {
        return device.messages(session.id()).stream().map(m -> tuple(m.id(), m.message().content())).toList();
    }

    private String serverTitle(LocalSession session) throws SQLException {
        try (Connection c = DriverManager.getConnection(backend.dbUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT title FROM chat_sessions WHERE id = '" + session.id() + "'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
