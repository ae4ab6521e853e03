package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.server.ParleyServer;
import dev.parley.server.testing.PacedModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live sync (SPEC §6) between two devices of one account on two server processes that share a database: device A
 * talks to process 1, device B to process 2, and B does nothing but listen. Runs on SQLite and, in the client's
 * PostgreSQL run, on PostgreSQL.
 */
class LiveSyncTest {
    private static final String EMAIL = "grace@example.com";
    private static final String PASSWORD = "correct horse battery";
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** What the issue asks of a message sent on one device: on the other within 2 s, with nothing done there. */
    private static final Duration LIVE = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private final PacedModel model = new PacedModel();
    private Backend backend;
    private FaultProxy netB;
    private ChatClient deviceA;
    private ChatClient deviceB;
    private final List<RemoteReply> seenOnB = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = new Backend(dir, config -> config.modelProvider(model));
        ParleyServer second = backend.anotherProcess(config -> config.modelProvider(model));
        netB = backend.proxyTo(second);
        deviceA = backend.client("device-a");
        deviceA.signUp(EMAIL, PASSWORD);
        deviceB = backend.client("device-b", netB);
        deviceB.addListener(new ChatListener() {
            @Override
            public void remoteReply(RemoteReply reply) {
                seenOnB.add(reply);
            }
        });
        deviceB.signIn(EMAIL, PASSWORD);
        Backend.await(WAIT, "device B live", () -> deviceB.liveState() == LiveState.LIVE);
    }

    @AfterEach
    void stop() throws Exception {
        deviceA.close();
        deviceB.close();
        backend.close();
    }

    @Test
    void aMessageSentOnOneDeviceIsInTheOtherDevicesStoreWithinTwoSeconds() throws Exception {
        LocalSession session = deviceA.newSession("Sent from A");
        answered(deviceA.send(session.id(), "Hello from A", null), "Hello from B's side");

        Backend.await(LIVE, "A's exchange on device B", () -> deviceB.messages(session.id()).size() == 2);
        assertThat(deviceB.session(session.id()).orElseThrow().title()).isEqualTo("Sent from A");
        assertThat(deviceB.messages(session.id())).extracting(m -> m.message().content())
                .containsExactly("Hello from A", "Hello from B's side");
        assertThat(deviceB.messages(session.id())).allSatisfy(m -> assertThat(m.syncState())
                .isEqualTo(SyncState.SYNCED));
        assertCountedOnce(1);
    }

    @Test
    void aRenameAndADeleteOnOneDeviceReachTheOther() throws Exception {
        LocalSession session = deviceA.newSession("First name");
        answered(deviceA.send(session.id(), "Keep this", null), "Kept");
        Backend.await(WAIT, "the conversation on B", () -> deviceB.session(session.id()).isPresent());

        deviceA.rename(session.id(), "Second name");
        Backend.await(LIVE, "the rename on B", () -> deviceB.session(session.id()).orElseThrow().title()
                .equals("Second name"));

        deviceA.delete(session.id());
        Backend.await(LIVE, "the delete on B", () -> deviceB.session(session.id()).orElseThrow().deletedAt() != null);
        assertThat(deviceB.sessions(null, null, 10)).extracting(LocalSession::id).doesNotContain(session.id());
        assertCountedOnce(1);
    }

    @Test
    void aReplyBeingWrittenOnOneDeviceIsSeenGrowingOnTheOther() throws Exception {
        LocalSession session = deviceA.newSession("Watched");
        answered(deviceA.send(session.id(), "First question", null), "First answer");
        Backend.await(WAIT, "the first turn on B", () -> deviceB.messages(session.id()).size() == 2);
        deviceB.showing(session.id());

        Exchange second = deviceA.send(session.id(), "Tell me more", null);
        PacedModel.Reply reply = model.awaitReply();
        reply.emit("More ");
        Backend.await(WAIT, "the growing reply on B", () -> lastSeen().filter(r -> r.text().equals("More "))
                .isPresent());
        reply.emit("and more.");
        Backend.await(WAIT, "more of it on B", () -> lastSeen().filter(r -> r.text().equals("More and more."))
                .isPresent());
        RemoteReply growing = lastSeen().orElseThrow();
        assertThat(growing.sessionId()).isEqualTo(session.id());
        assertThat(growing.questionId()).isEqualTo(second.messageId());
        assertThat(growing.question()).isEqualTo("Tell me more");
        assertThat(growing.replyId()).isEqualTo(second.replyId());
        assertThat(growing.ended()).isFalse();

        reply.finish();
        Backend.await(WAIT, "the end on B", () -> lastSeen().filter(RemoteReply::ended).isPresent());
        Backend.await(WAIT, "the stored reply on B", () -> deviceB.messages(session.id()).size() == 4);
        assertThat(deviceB.messages(session.id()).get(3).message().content()).isEqualTo("More and more.");
        assertThat(seenOnB).extracting(RemoteReply::replyId).containsOnly(second.replyId());
        assertThat(second.outcome().get(20, TimeUnit.SECONDS)).isNotNull();
        assertCountedOnce(2);
    }

    @Test
    void aStreamDroppedByTheNetworkReconnectsAndMissesNothing() throws Exception {
        long pullsBefore = deviceB.liveSync().pulls();
        netB.mode(Mode.DOWN); // closes B's open event stream, and refuses it while down
        Backend.await(WAIT, "B reconnecting", () -> deviceB.liveState() == LiveState.RECONNECTING);

        LocalSession session = deviceA.newSession("While B was away");
        answered(deviceA.send(session.id(), "Did you get this?", null), "Yes, later");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            LocalSession more = deviceA.newSession("Away " + i);
            deviceA.rename(more.id(), "Away " + i + " renamed");
            names.add(more.id());
        }
        Backend.await(WAIT, "A's rows on the server", () -> deviceA.syncStatus().unsent() == 0);
        assertThat(deviceB.session(session.id())).isEmpty();

        netB.mode(Mode.PASS);
        Backend.await(WAIT, "B live again", () -> deviceB.liveState() == LiveState.LIVE);
        Backend.await(WAIT, "what B missed", () -> deviceB.messages(session.id()).size() == 2
                && names.stream().allMatch(id -> deviceB.session(id).isPresent()));
        assertThat(deviceB.messages(session.id())).extracting(m -> m.message().content())
                .containsExactly("Did you get this?", "Yes, later");
        assertThat(names).allSatisfy(id -> assertThat(deviceB.session(id).orElseThrow().title()).endsWith("renamed"));
        assertThat(deviceB.liveSync().pulls()).isGreaterThan(pullsBefore);
        assertCountedOnce(1);
    }

    @Test
    void aFollowedReplySurvivesTheNetworkDroppingMidReply() throws Exception {
        LocalSession session = deviceA.newSession("Through a tunnel");
        answered(deviceA.send(session.id(), "Before", null), "Fine");
        Backend.await(WAIT, "the first turn on B", () -> deviceB.messages(session.id()).size() == 2);
        deviceB.showing(session.id());

        Exchange second = deviceA.send(session.id(), "Keep going", null);
        PacedModel.Reply reply = model.awaitReply();
        reply.emit("Part one, ");
        Backend.await(WAIT, "the first part on B", () -> lastSeen().filter(r -> r.text().equals("Part one, "))
                .isPresent());
        netB.mode(Mode.DOWN); // B's follow and its event stream break
        reply.emit("part two.");
        netB.mode(Mode.PASS);

        Backend.await(WAIT, "the rest on B, from where it broke", () -> lastSeen()
                .filter(r -> r.text().equals("Part one, part two.")).isPresent());
        reply.finish();
        Backend.await(WAIT, "the end on B", () -> lastSeen().filter(RemoteReply::ended).isPresent());
        assertThat(lastSeen().orElseThrow().text()).isEqualTo("Part one, part two.");
        assertThat(second.outcome().get(20, TimeUnit.SECONDS)).isNotNull();
        Backend.await(WAIT, "the stored reply on B", () -> deviceB.messages(session.id()).size() == 4);
    }

    @Test
    void signingOutStopsTheStreamAndAnotherAccountIsFollowedAfterItsSignIn() throws Exception {
        deviceB.signOut();
        Backend.await(WAIT, "B off", () -> deviceB.liveState() == LiveState.OFF);
        ChatClient other = backend.client("device-c");
        try {
            other.signUp("ada@example.com", PASSWORD);
            deviceB.signIn("ada@example.com", PASSWORD);
            Backend.await(WAIT, "B live for Ada", () -> deviceB.liveState() == LiveState.LIVE);

            LocalSession graces = deviceA.newSession("Grace's, not for Ada");
            deviceA.rename(graces.id(), "Grace's, renamed");
            LocalSession adas = other.newSession("Ada's");
            other.rename(adas.id(), "Ada's, renamed");

            Backend.await(LIVE, "Ada's change on B", () -> deviceB.session(adas.id())
                    .map(s -> s.title().equals("Ada's, renamed")).orElse(false));
            Backend.await(WAIT, "Grace's on the server", () -> deviceA.syncStatus().unsent() == 0);
            assertThat(deviceB.session(graces.id())).as("another account's conversation").isEmpty();
        } finally {
            other.close();
        }
    }

    @Test
    void withoutALiveStreamTheWindowComingBackPulls() throws Exception {
        ChatClient quiet = backend.clientWithoutLiveSync("device-quiet", backend.proxy);
        try {
            quiet.signIn(EMAIL, PASSWORD);
            assertThat(quiet.liveState()).isEqualTo(LiveState.OFF);
            LocalSession session = deviceA.newSession("Seen on focus");
            deviceA.rename(session.id(), "Seen on focus!");
            Backend.await(WAIT, "A's rows on the server", () -> deviceA.syncStatus().unsent() == 0);
            assertThat(quiet.session(session.id())).isEmpty();

            quiet.windowFocused();

            Backend.await(WAIT, "the pull on focus", () -> quiet.session(session.id())
                    .map(s -> s.title().equals("Seen on focus!")).orElse(false));
        } finally {
            quiet.close();
        }
    }

    @Test
    void aCommitStormReachesEveryDeviceWithOnePullPerChangeHeardAndCountsNothing() throws Exception {
        List<ChatClient> watchers = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                ChatClient watcher = backend.client("watcher-" + i, netB);
                watcher.signIn(EMAIL, PASSWORD);
                watchers.add(watcher);
            }
            watchers.add(deviceB);
            for (ChatClient watcher : watchers) {
                Backend.await(WAIT, "every watcher live", () -> watcher.liveState() == LiveState.LIVE);
            }
            long sentBefore = backend.queryLong("SELECT coalesce(sum(messages_sent), 0) FROM user_usage_daily");

            List<LocalSession> storm = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                LocalSession session = deviceA.newSession("Storm " + i);
                deviceA.rename(session.id(), "Storm " + i + "!");
                storm.add(session);
            }
            Backend.await(WAIT, "the storm on the server", () -> deviceA.syncStatus().unsent() == 0);
            for (ChatClient watcher : watchers) {
                Backend.await(WAIT, "the storm on every watcher", () -> storm.stream()
                        .allMatch(s -> watcher.session(s.id()).map(l -> l.title().endsWith("!")).orElse(false)));
            }

            for (ChatClient watcher : watchers) {
                assertThat(watcher.sessions(null, null, 100)).extracting(LocalSession::id, LocalSession::title)
                        .isEqualTo(deviceA.sessions(null, null, 100).stream()
                                .map(s -> org.assertj.core.groups.Tuple.tuple(s.id(), s.title())).toList());
                // Each change heard asks for at most one pull; a burst heard once is pulled once.
                assertThat(watcher.liveSync().pulls()).isPositive()
                        .isLessThanOrEqualTo(watcher.liveSync().changesHeard());
            }
            assertThat(backend.queryLong("SELECT coalesce(sum(messages_sent), 0) FROM user_usage_daily"))
                    .as("live sync counts nothing").isEqualTo(sentBefore);
            assertThat(backend.mismatches()).isEmpty();
        } finally {
            watchers.stream().filter(w -> w != deviceB).forEach(ChatClient::close);
        }
    }

    // ----------------------------------------------------------------- helpers

    /** Lets the paced model answer {@code exchange} with {@code text} and waits for its end on device A. */
    private void answered(Exchange exchange, String text) throws Exception {
        model.awaitReply().emit(text).finish();
        assertThat(exchange.outcome().get(20, TimeUnit.SECONDS)).isNotNull();
        Backend.await(WAIT, "A's exchange stored", () -> deviceA.messages(exchange.sessionId()).stream()
                .allMatch(m -> m.syncState() == SyncState.SYNCED));
    }

    private java.util.Optional<RemoteReply> lastSeen() {
        return seenOnB.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(seenOnB.get(seenOnB.size() - 1));
    }

    private void assertCountedOnce(long exchanges) throws Exception {
        assertThat(backend.mismatches()).isEmpty();
        assertThat(backend.queryLong("SELECT coalesce(sum(messages_sent), 0) FROM user_usage_daily"))
                .isEqualTo(exchanges);
        assertThat(backend.queryLong("SELECT coalesce(sum(messages_received), 0) FROM user_usage_daily"))
                .isEqualTo(exchanges);
    }
}
