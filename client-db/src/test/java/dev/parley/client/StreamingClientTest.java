package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Role;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import dev.parley.server.testing.PacedModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streamed replies on the client (SPEC §5.3, §6 Streaming), against a real server driven piece by piece: the text
 * arrives in order and the store ends with the stored rows; a cut connection is re-attached to with nothing lost or
 * doubled; a client killed or closed mid-reply fetches the finished reply when it starts again; Stop works online
 * and offline; {@code interrupted} becomes a failed message with Try again; a server that does not stream is
 * answered as JSON.
 */
class StreamingClientTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** What one listener of an exchange heard, in order. */
    static final class Heard implements ExchangeListener {
        final List<String> replyIds = new CopyOnWriteArrayList<>();
        final StringBuffer text = new StringBuffer();
        final List<String> endings = new CopyOnWriteArrayList<>();

        @Override
        public void started(Exchange exchange, String replyId) {
            replyIds.add(replyId);
            text.setLength(0);
        }

        @Override
        public void textAppended(Exchange exchange, String piece) {
            text.append(piece);
        }

        @Override
        public void finished(Exchange exchange, Exchange.Outcome outcome) {
            endings.add("finished");
        }

        @Override
        public void failed(Exchange exchange, Exchange.Outcome outcome) {
            endings.add("failed");
        }

        @Override
        public void stopped(Exchange exchange, Exchange.Outcome outcome) {
            endings.add("stopped");
        }

        void awaitText(String expected) throws Exception {
            Backend.await(WAIT, "the text '" + expected + "'", () -> text.toString().equals(expected));
        }
    }

    private static Heard listen(Exchange exchange) {
        Heard heard = new Heard();
        exchange.addListener(heard);
        return heard;
    }

    @Test
    void piecesArriveInOrderAndTheStoreEndsWithTheStoredRows() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Streams");

            Exchange exchange = client.send(session.id(), "tell me", null);
            Heard heard = listen(exchange);
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("Hel");
            heard.awaitText("Hel");
            reply.emit("lo, ").emit("wörld 😀");
            heard.awaitText("Hello, wörld 😀");

            Backend.await(WAIT, "the reply being written, kept in the store", () -> client.messages(session.id())
                    .size() == 2 && client.messages(session.id()).get(1).unfinished());
            assertThat(client.messages(session.id()).get(1).message().content())
                    .as("kept at a bounded rate, a period after the first piece").isEqualTo("Hello, wörld 😀");
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).as("nothing stored yet").isZero();

            reply.finish();
            Exchange.Outcome outcome = exchange.outcome().get(20, TimeUnit.SECONDS);

            assertThat(outcome.reply().message().content()).isEqualTo("Hello, wörld 😀");
            assertThat(outcome.reply().message().finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(heard.replyIds).containsExactly(outcome.reply().id());
            Backend.await(WAIT, "the end to be heard", () -> heard.endings.equals(List.of("finished")));
            assertThat(client.messages(session.id())).extracting(LocalMessage::unfinished, LocalMessage::syncState)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(false, SyncState.SYNCED),
                            org.assertj.core.groups.Tuple.tuple(false, SyncState.SYNCED));
            assertThat(client.messages(session.id()).get(1).message().content()).isEqualTo("Hello, wörld 😀");
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void aConnectionCutMidReplyIsReattachedWithNoCharacterLostOrDoubled() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Cut");
            Exchange exchange = client.send(session.id(), "a long answer please", null);
            Heard heard = listen(exchange);
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("one ");
            heard.awaitText("one ");

            backend.proxy.mode(Mode.DOWN); // the stream is cut, and re-attaching fails for a while
            reply.emit("two ");
            reply.emit("three ");
            backend.proxy.mode(Mode.PASS);
            heard.awaitText("one two three ");
            reply.emit("four");
            reply.finish();

            Exchange.Outcome outcome = exchange.outcome().get(40, TimeUnit.SECONDS);
            assertThat(outcome.reply().message().content()).isEqualTo("one two three four");
            Backend.await(WAIT, "the end to be heard", () -> heard.endings.equals(List.of("finished")));
            assertThat(heard.text.toString()).isEqualTo("one two three four");
            assertThat(heard.replyIds).as("one reply, followed over the cut").hasSize(1);
            assertThat(model.calls()).as("the model was asked once").isEqualTo(1);
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
        }
    }

    @Test
    void aClientKilledMidReplyFetchesTheFinishedReplyWhenItStartsAgain() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model))) {
            String sessionId;
            PacedModel.Reply reply;
            try (ChatClient client = backend.client("device")) {
                client.signUp("ada@example.com", "correct horse battery");
                sessionId = client.newSession("Killed").id();
                Exchange exchange = client.send(sessionId, "answer slowly", null);
                Heard heard = listen(exchange);
                reply = model.awaitReply();
                reply.emit("before the crash");
                heard.awaitText("before the crash");
                Backend.await(WAIT, "the text to be kept", () -> client.messages(sessionId).stream()
                        .anyMatch(m -> m.unfinished() && m.message().content().equals("before the crash")));
                backend.copyAsACrashLeavesIt("device", "restarted"); // what a kill -9 now leaves on disk
                backend.proxy.mode(Mode.DOWN); // the killed device hears nothing more
            }
            reply.emit(", and after it");
            reply.finish();
            backend.proxy.mode(Mode.PASS);

            try (ChatClient restarted = backend.client("restarted")) {
                Backend.await(WAIT, "the finished reply", () -> restarted.messages(sessionId).stream()
                        .anyMatch(m -> m.message().role() == Role.ASSISTANT && !m.unfinished()));
                List<LocalMessage> shown = restarted.messages(sessionId);
                assertThat(shown).hasSize(2);
                assertThat(shown.get(1).message().content()).isEqualTo("before the crash, and after it");
                assertThat(shown).extracting(LocalMessage::syncState).containsOnly(SyncState.SYNCED);
                Backend.await(WAIT, "the resumed exchange to end", () -> restarted.liveExchanges().isEmpty());
            }
            assertThat(model.calls()).isEqualTo(1);
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
        }
    }

    @Test
    void closingMidReplyAndOpeningAgainShowsTheFinishedReplyAndResumedExchangesAreAnnounced() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model))) {
            String sessionId;
            PacedModel.Reply reply;
            try (ChatClient client = backend.client("device")) {
                client.signUp("ada@example.com", "correct horse battery");
                sessionId = client.newSession("Closed").id();
                Heard heard = listen(client.send(sessionId, "go on", null));
                reply = model.awaitReply();
                reply.emit("half");
                heard.awaitText("half");
            }
            reply.emit(" and whole");

            List<Exchange> announced = new CopyOnWriteArrayList<>();
            ClientConfig config = backend.config("device");
            try (ChatClient again = ChatClient.open(config)) {
                again.addListener(new ChatListener() {
                    @Override
                    public void exchangeStarted(Exchange exchange) {
                        announced.add(exchange);
                    }
                });
                Backend.await(WAIT, "the resumed exchange to be followed", () -> again.liveExchanges().size() == 1
                        && again.liveExchanges().get(0).text().equals("half and whole"));
                Heard heard = listen(again.liveExchanges().get(0));
                heard.awaitText("half and whole"); // a late listener hears the text so far as one piece
                reply.finish();
                Backend.await(WAIT, "the finished reply", () -> again.messages(sessionId).stream()
                        .anyMatch(m -> m.message().role() == Role.ASSISTANT && !m.unfinished()));
                assertThat(again.messages(sessionId).get(1).message().content()).isEqualTo("half and whole");
                Backend.await(WAIT, "the end to be heard", () -> heard.endings.equals(List.of("finished")));
            }
            assertThat(model.calls()).isEqualTo(1);
        }
    }

    @Test
    void stopOnlineKeepsTheTextAsAStoppedReplyAndCancelsTheModel() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Stop");
            Exchange exchange = client.send(session.id(), "go on and on", null);
            Heard heard = listen(exchange);
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("enough");
            heard.awaitText("enough");

            assertThat(client.stop(exchange.messageId())).isTrue();
            Exchange.Outcome outcome = exchange.outcome().get(20, TimeUnit.SECONDS);

            assertThat(reply.awaitCancelled(10)).as("the provider stops generating").isTrue();
            assertThat(outcome.reply().message().content()).isEqualTo("enough");
            assertThat(outcome.reply().stopped()).isTrue();
            assertThat(outcome.reply().unfinished()).isFalse();
            Backend.await(WAIT, "the stop to be heard", () -> heard.endings.equals(List.of("stopped")));
            assertThat(client.messages(session.id()).get(1).stopped()).isTrue();
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE finish_reason = 'stopped'"))
                    .isEqualTo(1);
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
        }
    }

    @Test
    void stopOfflineEndsTheReplyHereAndIsSentWhenTheConnectionIsBack() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Offline stop");
            Exchange exchange = client.send(session.id(), "keep going", null);
            Heard heard = listen(exchange);
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("shown");
            heard.awaitText("shown");

            backend.proxy.mode(Mode.DOWN);
            exchange.stop();
            Exchange.Outcome here = exchange.outcome().get(20, TimeUnit.SECONDS);

            assertThat(here.reply().message().content()).isEqualTo("shown");
            assertThat(here.reply().stopped()).isTrue();
            assertThat(here.reply().unfinished()).as("the server has not confirmed it yet").isTrue();
            assertThat(reply.wasCancelled()).isFalse();
            reply.emit(" unseen");
            assertThat(client.messages(session.id()).get(1)).satisfies(m -> {
                assertThat(m.unfinished()).isTrue();
                assertThat(m.stopped()).isTrue();
                assertThat(m.message().content()).isEqualTo("shown");
            });

            backend.proxy.mode(Mode.PASS); // nobody says so: the client tries again by itself, with backoff
            assertThat(reply.awaitCancelled(20)).as("the stop reaches the server").isTrue();
            Backend.await(WAIT, "the stored stopped reply", () -> client.messages(session.id()).stream()
                    .anyMatch(m -> m.message().role() == Role.ASSISTANT && !m.unfinished()));
            LocalMessage stored = client.messages(session.id()).get(1);
            assertThat(stored.stopped()).isTrue();
            assertThat(stored.syncState()).isEqualTo(SyncState.SYNCED);
            assertThat(stored.message().content()).as("what the server had when the stop came")
                    .isEqualTo("shown unseen");
            Backend.await(WAIT, "the exchange to end", () -> client.liveExchanges().isEmpty());
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
        }
    }

    @Test
    void anInterruptedGenerationBecomesAFailedMessageThatTryAgainSendsOnce() throws Exception {
        PacedModel first = new PacedModel();
        PacedModel second = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(first).claimTtl(Duration.ofMillis(500)));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Interrupted");
            Exchange exchange = client.send(session.id(), "are you there", null);
            Heard heard = listen(exchange);
            first.awaitReply().emit("lost ");
            heard.awaitText("lost ");

            // The process generating it goes away; another, on the same database, answers from now on.
            backend.proxy.mode(Mode.DOWN);
            backend.server.close();
            try (ParleyServer takeover = ParleyServer.start(ServerConfig.builder().port(0)
                    .databaseUrl(backend.dbUrl).modelProvider(second).claimTtl(Duration.ofMillis(500)).build())) {
                backend.proxy.retarget(takeover.port());
                backend.proxy.mode(Mode.PASS);

                Exchange.Outcome outcome = exchange.outcome().get(40, TimeUnit.SECONDS);
                assertThat(outcome.reply()).isNull();
                assertThat(outcome.userMessage().failed()).isTrue();
                assertThat(outcome.userMessage().retryable()).as("Try again").isTrue();
                assertThat(outcome.userMessage().errorCode()).isEqualTo("interrupted");
                assertThat(client.messages(session.id())).as("the lost text is not shown").hasSize(1);

                Exchange again = client.retry(exchange.messageId());
                PacedModel.Reply reply = second.awaitReply();
                reply.emit("here");
                reply.finish();
                Exchange.Outcome answered = again.outcome().get(20, TimeUnit.SECONDS);
                assertThat(answered.reply().message().content()).isEqualTo("here");
                assertThat(backend.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
                assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
                assertThat(backend.mismatches()).isEmpty();
            }
        }
    }

    @Test
    void aServerThatDoesNotStreamIsAnsweredAsJson() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Whole");
            backend.proxy.mode(Mode.NO_STREAMS);
            Exchange exchange = client.send(session.id(), "all at once", null);
            Heard heard = listen(exchange);
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("in one ").emit("piece");
            reply.finish();

            Exchange.Outcome outcome = exchange.outcome().get(20, TimeUnit.SECONDS);
            assertThat(outcome.reply().message().content()).isEqualTo("in one piece");
            assertThat(outcome.reply().syncState()).isEqualTo(SyncState.SYNCED);
            Backend.await(WAIT, "the end to be heard", () -> heard.endings.equals(List.of("finished")));
            assertThat(heard.text.toString()).as("no stream, so no pieces").isEmpty();
        }
    }

    @Test
    void aSignedOutReplyStreamsAndStopsLocally() throws Exception {
        PacedModel model = new PacedModel();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            LocalSession session = client.newSession("Anonymous");
            Exchange exchange = client.send(session.id(), "hello", null);
            Heard heard = listen(exchange);
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("partial");
            heard.awaitText("partial");

            exchange.stop();
            Exchange.Outcome outcome = exchange.outcome().get(20, TimeUnit.SECONDS);

            // The server notices the closed connection when a write to it fails: while the model goes on.
            boolean cancelled = false;
            for (int piece = 0; piece < 10 && !cancelled; piece++) {
                reply.emit(" more");
                cancelled = reply.awaitCancelled(1);
            }
            assertThat(cancelled).as("closing the connection stops the generation").isTrue();
            assertThat(outcome.reply().message().content()).isEqualTo("partial");
            assertThat(outcome.reply().stopped()).isTrue();
            assertThat(client.messages(session.id())).extracting(LocalMessage::syncState, LocalMessage::unfinished)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(SyncState.LOCAL, false),
                            org.assertj.core.groups.Tuple.tuple(SyncState.LOCAL, false));
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isZero();
        }
    }
}
