package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.HeldModel;
import dev.parley.client.testing.RecordingModel;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Role;
import dev.parley.server.testing.PacedModel;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conversations as trees on the client (SPEC §4.3, §5.4, §6), against a real server: regenerated replies are
 * siblings, shown newest first with their versions, and this device's choice of version steers the path; an edit is
 * a sibling question whose model sees its own branch only; regenerates and edits made offline are kept and delivered
 * (an edit by the push loop, a regenerate by Try again under the same reply id); a second device shows the same
 * path; a regenerate under way when the client dies is re-attached to by its reply id.
 */
class BranchesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void regeneratedRepliesAreSiblingsAndTheChosenVersionSteersThePath() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(new RecordingModel()));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            String session = client.newSession("Versions").id();
            Exchange.Outcome first = finished(client.send(session, "name a colour", null));
            Exchange second = client.regenerate(first.reply().id(), null);
            assertThat(second.replyId()).as("the reply is named by the client from the start")
                    .isNotNull().isNotEqualTo(first.reply().id());
            assertThat(finished(second).reply().id()).isEqualTo(second.replyId());
            Exchange.Outcome third = finished(client.regenerate(first.reply().id(), RecordingModel.OTHER_MODEL));
            Exchange.Outcome followUp = finished(client.send(session, "why that one?", null));

            List<PathMessage> path = client.path(session);
            assertThat(path).extracting(PathMessage::id).containsExactly(first.userMessage().id(),
                    third.reply().id(), followUp.userMessage().id(), followUp.reply().id());
            assertThat(path.get(1).siblingIds()).containsExactly(first.reply().id(), second.replyId(),
                    third.reply().id());
            assertThat(path.get(1).version()).isEqualTo(3);
            assertThat(path.get(1).versions()).isEqualTo(3);
            assertThat(third.reply().message().model()).isEqualTo(RecordingModel.OTHER_MODEL);
            assertThat(followUp.userMessage().message().parentId()).as("a send follows the path")
                    .isEqualTo(third.reply().id());

            client.showVersion(first.reply().id());
            List<PathMessage> flipped = client.path(session);
            assertThat(flipped).extracting(PathMessage::id)
                    .containsExactly(first.userMessage().id(), first.reply().id());
            assertThat(flipped.get(1).version()).isEqualTo(1);
            assertThat(flipped.get(1).nextVersion()).contains(second.replyId());
            client.showVersion(third.reply().id());
            assertThat(client.messages(session)).extracting(LocalMessage::id)
                    .as("back to the third version, and on to what follows it")
                    .containsExactly(first.userMessage().id(), third.reply().id(), followUp.userMessage().id(),
                            followUp.reply().id());
            assertThat(client.allMessages(session)).hasSize(6);

            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'"
                    + " AND user_message_id = '" + first.userMessage().id() + "'")).isEqualTo(3);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE id = '" + second.replyId()
                    + "' AND parent_id = '" + first.userMessage().id() + "'")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(4);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void anEditIsASiblingQuestionAndTheModelSeesItsBranchOnly() throws Exception {
        RecordingModel model = new RecordingModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            String session = client.newSession("Edits").id();
            Exchange.Outcome q1 = finished(client.send(session, "first question", null));
            Exchange.Outcome q2 = finished(client.send(session, "second question", null));

            Exchange.Outcome edited = finished(client.edit(q2.userMessage().id(), "second, said better", null));

            assertThat(edited.userMessage().id()).isNotEqualTo(q2.userMessage().id());
            assertThat(edited.userMessage().message().parentId()).isEqualTo(q1.reply().id());
            assertThat(model.lastRequest().messages()).extracting(ContextMessage::role, ContextMessage::content)
                    .as("the new branch only: neither the old question nor its reply")
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(Role.USER, "first question"),
                            org.assertj.core.groups.Tuple.tuple(Role.ASSISTANT, q1.reply().message().content()),
                            org.assertj.core.groups.Tuple.tuple(Role.USER, "second, said better"));
            List<PathMessage> path = client.path(session);
            assertThat(path).extracting(PathMessage::id).containsExactly(q1.userMessage().id(), q1.reply().id(),
                    edited.userMessage().id(), edited.reply().id());
            assertThat(path.get(2).siblingIds()).containsExactly(q2.userMessage().id(), edited.userMessage().id());
            assertThat(client.allMessages(session)).extracting(LocalMessage::id)
                    .as("the old branch stays as it was").contains(q2.userMessage().id(), q2.reply().id());

            Exchange.Outcome firstEdited = finished(client.edit(q1.userMessage().id(), "first, again", null));
            assertThat(firstEdited.userMessage().message().parentId()).as("an edit of a first turn is a root")
                    .isNull();
            assertThat(model.lastRequest().messages()).extracting(ContextMessage::content)
                    .containsExactly("first, again");
            assertThat(client.path(session).get(0).siblingIds()).hasSize(2);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE id = '"
                    + edited.userMessage().id() + "' AND parent_id = '" + q1.reply().id() + "'")).isEqualTo(1);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void anOfflineRegenerateFailsInPlaceAndTryAgainRegeneratesUnderTheSameId() throws Exception {
        RecordingModel model = new RecordingModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            String session = client.newSession("Offline").id();
            Exchange.Outcome first = finished(client.send(session, "a question", null));

            backend.proxy.mode(Mode.DOWN);
            Exchange.Outcome failed = client.regenerate(first.reply().id(), null).outcome().get(40, TimeUnit.SECONDS);
            assertThat(failed.reply().failed()).isTrue();
            assertThat(failed.reply().errorCode()).isEqualTo(LocalMessage.OFFLINE);
            assertThat(failed.reply().retryable()).isTrue();
            assertThat(failed.userMessage().failed()).as("the question stays answered").isFalse();
            PathMessage shown = client.path(session).get(1);
            assertThat(shown.id()).isEqualTo(failed.reply().id());
            assertThat(shown.message().failed()).isTrue();
            assertThat(shown.siblingIds()).containsExactly(first.reply().id(), failed.reply().id());
            assertThat(client.syncStatus().unsent()).as("a failed regenerate is never pushed").isZero();

            backend.proxy.mode(Mode.PASS);
            Exchange.Outcome retried = finished(client.retry(failed.reply().id()));
            assertThat(retried.reply().id()).isEqualTo(failed.reply().id());
            assertThat(retried.reply().failed()).isFalse();
            assertThat(client.path(session)).extracting(PathMessage::id)
                    .containsExactly(first.userMessage().id(), failed.reply().id());
            assertThat(client.path(session).get(1).message().failed()).isFalse();
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'"))
                    .isEqualTo(2);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void aRegenerateWhoseAnswerWasLostIsReplayedByTryAgainAndBilledOnce() throws Exception {
        RecordingModel model = new RecordingModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             // No live sync: its pull could bring the stored reply before the test's Try again replays it.
             ChatClient client = backend.clientWithoutLiveSync("device", backend.proxy)) {
            client.signUp("ada@example.com", "correct horse battery");
            String session = client.newSession("Lost").id();
            Exchange.Outcome first = finished(client.send(session, "a question", null));

            backend.proxy.mode(Mode.CUT_REPLY); // the server answers; the client never hears
            Exchange lost = client.regenerate(first.reply().id(), null);
            assertThat(lost.outcome().get(40, TimeUnit.SECONDS).reply().failed()).isTrue();
            int calls = model.requests().size();

            backend.proxy.mode(Mode.PASS);
            Exchange.Outcome retried = finished(client.retry(lost.replyId()));
            assertThat(retried.reply().id()).isEqualTo(lost.replyId());
            assertThat(model.requests()).as("replayed, not generated again").hasSize(calls);
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(2);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void anOfflineEditIsPushedLaterAndPushedAgainIsUnchanged() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(new RecordingModel()))) {
            String session;
            String editId;
            String parent;
            try (ChatClient client = backend.client("device")) {
                client.signUp("ada@example.com", "correct horse battery");
                session = client.newSession("Offline edit").id();
                Exchange.Outcome q1 = finished(client.send(session, "one", null));
                Exchange.Outcome q2 = finished(client.send(session, "two", null));
                parent = q1.reply().id();

                backend.proxy.mode(Mode.DOWN);
                Exchange.Outcome edited = client.edit(q2.userMessage().id(), "two, edited", null).outcome()
                        .get(40, TimeUnit.SECONDS);
                editId = edited.userMessage().id();
                assertThat(edited.userMessage().failed()).isTrue();
                assertThat(edited.userMessage().syncState()).isEqualTo(SyncState.PENDING);
                assertThat(client.path(session).get(2).id()).as("shown in its place, with Try again")
                        .isEqualTo(editId);

                backend.proxy.mode(Mode.PASS);
                Backend.await(WAIT, "the edit to be pushed", () -> client.messages(session).get(2).syncState()
                        == SyncState.SYNCED);
            }
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE id = '" + editId
                    + "' AND parent_id = '" + parent + "' AND error_message IS NOT NULL")).isEqualTo(1);
            long sent = backend.queryLong("SELECT messages_sent FROM user_usage_daily");

            // As a lost acknowledgement leaves it: pending again, so it is pushed a second time.
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:"
                    + dir.resolve("device").resolve("parley-client.db")); Statement s = c.createStatement()) {
                s.execute("UPDATE messages SET sync_state = 'pending', outbox_seq = 999 WHERE id = '" + editId + "'");
            }
            try (ChatClient again = backend.client("device")) {
                assertThat(again.pushNow().get(20, TimeUnit.SECONDS)).isTrue();
                assertThat(again.messages(session).get(2).syncState()).isEqualTo(SyncState.SYNCED);
                assertThat(again.messages(session).get(2).id()).isEqualTo(editId);
            }
            assertThat(backend.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(sent);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void anotherDeviceOfTheAccountShowsTheSamePath() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(new RecordingModel()));
             ChatClient phone = backend.client("phone")) {
            phone.signUp("ada@example.com", "correct horse battery");
            String session = phone.newSession("Shared").id();
            Exchange.Outcome q1 = finished(phone.send(session, "one", null));
            finished(phone.regenerate(q1.reply().id(), null));
            Exchange.Outcome q2 = finished(phone.send(session, "two", null));
            finished(phone.edit(q2.userMessage().id(), "two, edited", null));
            Backend.await(WAIT, "the phone's outbox to empty", () -> phone.syncStatus().unsent() == 0);

            try (ChatClient laptop = backend.client("laptop")) {
                laptop.signIn("ada@example.com", "correct horse battery");
                Backend.await(WAIT, "the history", () -> laptop.allMessages(session).size() == 7);
                assertThat(laptop.path(session)).isEqualTo(phone.path(session));
                assertThat(laptop.path(session).get(1).versions()).isEqualTo(2);

                laptop.showVersion(q1.reply().id());
                assertThat(laptop.path(session)).hasSize(2);
                assertThat(phone.path(session)).as("a choice is the device's own").hasSize(4);
            }
        }
    }

    @Test
    void aSignedOutRegenerateAsksAnonymouslyAndIsPushedAtSignIn() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(new RecordingModel()));
             ChatClient client = backend.client("device")) {
            String session = client.newSession("Anonymous").id();
            Exchange.Outcome first = finished(client.send(session, "a question", null));
            Exchange regenerate = client.regenerate(first.reply().id(), null);
            Exchange.Outcome second = finished(regenerate);
            assertThat(second.reply().id()).isEqualTo(regenerate.replyId());
            assertThat(second.reply().syncState()).isEqualTo(SyncState.LOCAL);
            assertThat(client.path(session).get(1).siblingIds()).containsExactly(first.reply().id(),
                    second.reply().id());

            client.signUp("ada@example.com", "correct horse battery");
            Backend.await(WAIT, "the upload", () -> client.syncStatus().unsent() == 0
                    && client.allMessages(session).stream().allMatch(m -> m.syncState() == SyncState.SYNCED));
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'"))
                    .isEqualTo(2);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void aReplyWaitsForItsQuestionWhileTheQuestionIsRegeneratedAtSignIn() throws Exception {
        HeldModel model = HeldModel.answering();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            String session = client.newSession("Held").id();
            Exchange.Outcome first = finished(client.send(session, "a question", null));
            CountDownLatch inModel = new CountDownLatch(1);
            CountDownLatch answer = new CountDownLatch(1);
            model.duringCall(() -> {
                inModel.countDown();
                awaitQuietly(answer);
            });
            Exchange regenerate = client.regenerate(first.reply().id(), null);
            assertThat(inModel.await(20, TimeUnit.SECONDS)).as("the regenerate reached the model").isTrue();

            // The sign-in adopts the question and its first reply while the question is under way: the upload
            // holds the question back, and so must hold back the reply that answers it.
            client.signUp("ada@example.com", "correct horse battery");
            Backend.await(WAIT, "the sign-in upload (the conversation goes in its first batch)",
                    () -> client.sessions(null, null, 10).stream()
                            .anyMatch(s -> s.id().equals(session) && s.syncState() == SyncState.SYNCED));
            answer.countDown();
            Exchange.Outcome second = finished(regenerate);

            Backend.await(WAIT, "the upload", () -> client.syncStatus().unsent() == 0);
            assertThat(client.allMessages(session)).extracting(LocalMessage::id, LocalMessage::syncState)
                    .as("nothing refused").containsExactlyInAnyOrder(
                            tuple(first.userMessage().id(), SyncState.SYNCED),
                            tuple(first.reply().id(), SyncState.SYNCED),
                            tuple(second.reply().id(), SyncState.SYNCED));
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'"
                    + " AND user_message_id = '" + first.userMessage().id() + "'")).isEqualTo(2);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void aSecondExchangeOfOneQuestionWhileOneIsUnderWayIsRefused() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            String session = client.newSession("Busy").id();
            Exchange send = client.send(session, "a question", null);
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("done").finish();
            Exchange.Outcome first = send.outcome().get(20, TimeUnit.SECONDS);

            Exchange regenerate = client.regenerate(first.reply().id(), null);
            PacedModel.Reply again = model.awaitReply();
            assertThatThrownBy(() -> client.regenerate(first.reply().id(), null))
                    .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.code()).isEqualTo("in_progress"));
            assertThat(client.path(session).get(1).id()).as("the growing reply is the newest version at once")
                    .isEqualTo(regenerate.replyId());
            assertThat(client.path(session).get(1).message().unfinished()).isTrue();
            again.emit("again").finish();
            assertThat(regenerate.outcome().get(20, TimeUnit.SECONDS).reply().message().content()).isEqualTo("again");
        }
    }

    @Test
    void aRegenerateUnderWayWhenTheClientDiesIsReattachedByItsReplyId() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model))) {
            String session;
            String replyId;
            PacedModel.Reply reply;
            try (ChatClient client = backend.client("device")) {
                client.signUp("ada@example.com", "correct horse battery");
                session = client.newSession("Restart").id();
                Exchange send = client.send(session, "a question", null);
                model.awaitReply().emit("first").finish();
                Exchange.Outcome first = send.outcome().get(20, TimeUnit.SECONDS);

                Exchange regenerate = client.regenerate(first.reply().id(), null);
                replyId = regenerate.replyId();
                reply = model.awaitReply();
                reply.emit("before the crash");
                Backend.await(WAIT, "the text to be kept", () -> client.messages(session).stream()
                        .anyMatch(m -> m.unfinished() && m.message().content().equals("before the crash")));
                backend.copyAsACrashLeavesIt("device", "restarted");
                backend.proxy.mode(Mode.DOWN);
            }
            reply.emit(", and after it");
            reply.finish();
            backend.proxy.mode(Mode.PASS);

            try (ChatClient restarted = backend.client("restarted")) {
                Backend.await(WAIT, "the regenerated reply", () -> restarted.messages(session).stream()
                        .anyMatch(m -> m.id().equals(replyId) && !m.unfinished()));
                List<PathMessage> path = restarted.path(session);
                assertThat(path).hasSize(2);
                assertThat(path.get(1).id()).isEqualTo(replyId);
                assertThat(path.get(1).message().message().content()).isEqualTo("before the crash, and after it");
                assertThat(path.get(1).versions()).isEqualTo(2);
                Backend.await(WAIT, "the resumed exchange to end", () -> restarted.liveExchanges().isEmpty());
            }
            assertThat(model.calls()).isEqualTo(2);
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(2);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new AssertionError("the test never let the model answer");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted in the model", e);
        }
    }

    private static Exchange.Outcome finished(Exchange exchange) throws Exception {
        Exchange.Outcome outcome = exchange.outcome().get(30, TimeUnit.SECONDS);
        assertThat(outcome.reply()).as("a reply to " + exchange.messageId()).isNotNull();
        assertThat(outcome.reply().failed()).isFalse();
        return outcome;
    }
}
