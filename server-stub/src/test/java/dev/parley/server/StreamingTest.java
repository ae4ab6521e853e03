package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ErrorCode;
import dev.parley.server.internal.chat.ChatService;
import dev.parley.server.testing.EventStream;
import dev.parley.server.testing.EventStream.Event;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.PacedModel;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streamed replies (SPEC §5.3) on two server instances that share one database and nothing else, as two processes
 * would: events and offsets, a generation that outlives its client, re-attach and stop on the other instance, a
 * generation whose process went away, replays, the duplicate guard and the per-user limit. The model is driven
 * piece by piece by the test. Runs on both dialects.
 */
class StreamingTest {
    @TempDir
    Path dir;

    private final PacedModel model = new PacedModel();
    private final PacedModel otherModel = new PacedModel();
    private TestServer a;
    private ParleyServer b;
    private String bUrl;
    private String token;

    @BeforeEach
    void start() {
        a = TestServer.start(dir, config -> config.modelProvider(model).claimTtl(Duration.ofSeconds(2)));
        b = a.anotherProcess(config -> config.modelProvider(otherModel).claimTtl(Duration.ofSeconds(2)));
        bUrl = b.url();
        token = a.signUp("streamer@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        if (b != null) {
            b.close();
        }
        a.close();
    }

    @Test
    void deltasCarryTheirOffsetsAndAddUpToTheStoredReply() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Say hello");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            JsonNode start = stream.next("start").json();
            assertThat(start.path("userMessage").path("id").asText()).isEqualTo(request.messageId());
            assertThat(start.path("replayed").asBoolean()).isFalse();
            String replyId = start.path("replyId").asText();
            PacedModel.Reply reply = model.awaitReply();

            StringBuilder received = new StringBuilder();
            for (String piece : List.of("Hel", "lo, ", "wörld 😀", "!")) {
                reply.emit(piece);
                Event delta = stream.next("delta");
                received.append(delta.json().path("text").asText());
                assertThat(delta.id()).isEqualTo(Integer.toString(received.length()));
            }
            reply.finish();
            JsonNode done = stream.next("done").json();

            assertThat(received.toString()).isEqualTo("Hello, wörld 😀!");
            JsonNode assistant = done.path("assistantMessage");
            assertThat(assistant.path("id").asText()).isEqualTo(replyId);
            assertThat(assistant.path("content").asText()).isEqualTo(received.toString());
            assertThat(assistant.path("finishReason").asText()).isEqualTo("stop");
            assertThat(done.path("persisted").asBoolean()).isTrue();
            assertThat(a.queryString("SELECT content FROM chat_messages WHERE id = '" + replyId + "'"))
                    .isEqualTo(received.toString());
            assertThat(a.queryString("SELECT finish_reason FROM chat_messages WHERE id = '" + replyId + "'"))
                    .isEqualTo("stop");
        }
        assertCountedOnce(1);
    }

    @Test
    void aStreamDroppedMidReplyIsReattachedOnTheOtherProcessWithEveryCharacterOnce() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Count");
        PacedModel.Reply reply;
        String lastId;
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            reply = model.awaitReply();
            reply.emit("one ");
            stream.next("delta");
            reply.emit("two ");
            lastId = stream.next("delta").id();
        } // the client's network drops here
        assertThat(lastId).isEqualTo("8");
        reply.emit("three ");

        try (EventStream again = EventStream.get(bUrl, "/api/chat/" + request.messageId() + "/stream", token,
                lastId)) {
            JsonNode start = again.next("start").json();
            assertThat(start.path("userMessage").path("id").asText()).isEqualTo(request.messageId());
            StringBuilder received = new StringBuilder();
            int offset = 8;
            while (!received.toString().equals("three ")) {
                Event delta = again.next("delta");
                received.append(delta.json().path("text").asText());
                offset += delta.json().path("text").asText().length();
                assertThat(delta.id()).isEqualTo(Integer.toString(offset));
            }
            reply.emit("four");
            reply.finish();
            List<Event> rest = again.rest();
            for (Event event : rest.subList(0, rest.size() - 1)) {
                assertThat(event.type()).isEqualTo("delta");
                received.append(event.json().path("text").asText());
            }
            Event done = rest.get(rest.size() - 1);
            assertThat(done.type()).isEqualTo("done");
            assertThat(received.toString()).isEqualTo("three four");
            assertThat(done.json().path("assistantMessage").path("content").asText()).isEqualTo("one two three four");
        }
        assertThat(model.calls()).isEqualTo(1);
        assertThat(otherModel.calls()).isZero();
        assertCountedOnce(1);
    }

    @Test
    void aReplyNobodyReattachesToIsStillStoredAndCountedOnce() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Write while I am gone");
        PacedModel.Reply reply;
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            reply = model.awaitReply();
            reply.emit("first words ");
            stream.next("delta");
        }
        reply.emit("and the rest");
        reply.finish();

        awaitTrue(() -> a.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'") == 1);
        assertThat(a.queryString("SELECT content FROM chat_messages WHERE role = 'assistant'"))
                .isEqualTo("first words and the rest");
        assertThat(reply.wasCancelled()).isFalse();
        assertCountedOnce(1);
    }

    @Test
    void aStopOnTheOtherProcessCancelsTheModelAndKeepsThePartialReply() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Go on and on");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("So far, ");
            stream.next("delta");

            HttpApi.Response stopped = new HttpApi(bUrl).post("/api/chat/" + request.messageId() + "/stop", null,
                    token);

            assertThat(stopped.status()).as(stopped.toString()).isEqualTo(200);
            assertThat(reply.wasCancelled()).isTrue();
            JsonNode assistant = stopped.json().path("assistantMessage");
            assertThat(assistant.path("content").asText()).isEqualTo("So far, ");
            assertThat(assistant.path("finishReason").asText()).isEqualTo("stopped");
            assertThat(assistant.path("outputTokens").asLong()).isEqualTo("So far, ".length());
            Event done = stream.rest().get(0);
            assertThat(done.type()).isEqualTo("done");
            assertThat(done.json().path("assistantMessage").path("finishReason").asText()).isEqualTo("stopped");

            HttpApi.Response again = a.api.post("/api/chat/" + request.messageId() + "/stop", null, token);
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.json().path("assistantMessage").path("id").asText())
                    .isEqualTo(assistant.path("id").asText());
        }
        assertThat(a.queryString("SELECT finish_reason FROM chat_messages WHERE role = 'assistant'"))
                .isEqualTo("stopped");
        assertCountedOnce(1);
        assertThat(a.queryLong("SELECT output_tokens FROM user_usage_daily")).isEqualTo("So far, ".length());
    }

    @Test
    void aStopBeforeTheFirstWordStoresTheMessageAsFailedAndItCanBeSentAgain() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Never mind");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            PacedModel.Reply reply = model.awaitReply();

            HttpApi.Response stopped = a.api.post("/api/chat/" + request.messageId() + "/stop", null, token);

            assertThat(stopped.status()).as(stopped.toString()).isEqualTo(200);
            assertThat(reply.wasCancelled()).isTrue();
            assertThat(stopped.json().path("assistantMessage").isNull()).isTrue();
            assertThat(stopped.json().path("userMessage").path("errorMessage").asText())
                    .isEqualTo("Stopped before the reply began");
            assertThat(stream.rest().get(0).type()).isEqualTo("done");
        }
        assertThat(a.queryLong("SELECT count(*) FROM chat_messages WHERE error_message IS NOT NULL")).isEqualTo(1);
        assertThat(a.queryLong("SELECT coalesce(sum(messages_sent), 0) FROM user_usage_daily")).isZero();

        HttpApi.Response resent = sendJson(request, () -> model.awaitReply().emit("Fine.").finish());
        assertThat(resent.status()).as(resent.toString()).isEqualTo(200);
        assertCountedOnce(1);
    }

    @Test
    void aGenerationWhoseProcessWentAwayIsInterruptedAndCanBeSentAgain() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Lost mid-reply");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            model.awaitReply().emit("half ");
            stream.next("delta");
            a.server.close(); // its claim is no longer renewed
        }

        try (EventStream again = EventStream.get(bUrl, "/api/chat/" + request.messageId() + "/stream", token,
                null)) {
            List<Event> events = again.rest();
            Event last = events.get(events.size() - 1);
            assertThat(last.type()).isEqualTo("error");
            assertThat(last.json().path("error").path("code").asText()).isEqualTo(ErrorCode.INTERRUPTED.wire());
            assertThat(last.json().path("error").path("retryable").asBoolean()).isTrue();
        }
        assertThat(a.queryLong("SELECT count(*) FROM chat_messages")).isZero();

        HttpApi bApi = new HttpApi(bUrl);
        Thread answer = answerNextReply(otherModel, "Here it is.");
        HttpApi.Response resent = bApi.post("/api/chat", request, token);
        answer.join(20_000);
        assertThat(resent.status()).as(resent.toString()).isEqualTo(200);
        assertThat(a.queryLong("SELECT count(*) FROM chat_claims")).isZero();
        assertCountedOnce(1);
    }

    @Test
    void aClaimLeftByADeadProcessIsSweptIntoAFailedMessageThatCanBeSentAgain() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Left behind");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            model.awaitReply().emit("some ");
            stream.next("delta");
            a.server.close();
        }

        // Nobody re-attaches or sends again: the other process sweeps the claim once it has lapsed a while.
        awaitTrue(() -> a.queryLong("SELECT count(*) FROM chat_claims") == 0
                && a.queryLong("SELECT count(*) FROM chat_messages") == 1);
        assertThat(a.queryString("SELECT error_message FROM chat_messages WHERE id = '" + request.messageId() + "'"))
                .contains("stopped before the reply was finished");
        assertThat(a.queryLong("SELECT coalesce(sum(messages_sent), 0) FROM user_usage_daily")).isZero();
        try (EventStream again = EventStream.get(bUrl, "/api/chat/" + request.messageId() + "/stream", token,
                null)) {
            List<Event> events = again.rest();
            assertThat(events.get(events.size() - 1).json().path("error").path("code").asText())
                    .isEqualTo(ErrorCode.INTERRUPTED.wire());
        }

        Thread answer = answerNextReply(otherModel, "Now complete.");
        HttpApi.Response resent = new HttpApi(bUrl).post("/api/chat", request, token);
        answer.join(20_000);
        assertThat(resent.status()).as(resent.toString()).isEqualTo(200);
        assertCountedOnce(1);
    }

    @Test
    void deletingAConversationEndsItsLiveReplyAndLeavesNoClaim() throws Exception {
        String sessionId = TestIds.next();
        assertThat(sendJson(request(sessionId, TestIds.next(), "First"), () -> model.awaitReply().emit("ok").finish())
                .status()).isEqualTo(200);
        ChatRequest request = request(sessionId, TestIds.next(), "Soon deleted");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("doomed ");
            stream.next("delta");

            assertThat(new HttpApi(bUrl).delete("/api/chat/sessions/" + request.sessionId(), token).status())
                    .isEqualTo(204);

            assertThat(reply.awaitCancelled(10)).as("the model was stopped").isTrue();
            List<Event> events = stream.rest();
            assertThat(events.get(events.size() - 1).type()).isEqualTo("error");
        }
        assertThat(a.queryLong("SELECT count(*) FROM chat_claims")).isZero();
        assertThat(a.queryLong("SELECT count(*) FROM chat_messages WHERE id = '" + request.messageId() + "'"))
                .isZero();
        assertThat(a.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2); // the first exchange, purged
        assertCountedOnce(1);
    }

    @Test
    void aFinishedExchangeIsReplayedAsAStreamWithoutCallingTheModel() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Once");
        HttpApi.Response first = sendJson(request, () -> model.awaitReply().emit("Only ").emit("once.").finish());
        assertThat(first.status()).isEqualTo(200);

        try (EventStream replay = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            List<Event> events = replay.rest();
            assertThat(events).extracting(Event::type).containsExactly("start", "delta", "done");
            assertThat(events.get(0).json().path("replayed").asBoolean()).isTrue();
            assertThat(events.get(1).json().path("text").asText()).isEqualTo("Only once.");
            assertThat(events.get(1).id()).isEqualTo("10");
            assertThat(events.get(2).json().path("replayed").asBoolean()).isTrue();
        }
        try (EventStream tail = EventStream.get(bUrl, "/api/chat/" + request.messageId() + "/stream?after=5", token,
                null)) {
            List<Event> events = tail.rest();
            assertThat(events.get(1).json().path("text").asText()).isEqualTo("once.");
        }
        assertThat(model.calls()).isEqualTo(1);
        assertThat(otherModel.calls()).isZero();
        assertCountedOnce(1);
    }

    @Test
    void aSecondRequestForALiveGenerationOfEitherKindGets409() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Busy");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            PacedModel.Reply reply = model.awaitReply();

            HttpApi.Response json = new HttpApi(bUrl).post("/api/chat", request, token);
            try (EventStream second = EventStream.post(a.server.url(), "/api/chat", request, token)) {
                assertThat(second.refusal().status()).isEqualTo(409);
                assertThat(second.refusal().errorCode()).isEqualTo("in_progress");
            }
            assertThat(json.status()).isEqualTo(409);
            assertThat(json.errorCode()).isEqualTo("in_progress");
            reply.emit("done").finish();
            stream.rest();
        }
        assertThat(model.calls() + otherModel.calls()).isEqualTo(1);
    }

    @Test
    void theFifthLiveGenerationOfAUserGets429() throws Exception {
        List<EventStream> live = new ArrayList<>();
        List<PacedModel.Reply> replies = new ArrayList<>();
        try {
            for (int i = 0; i < ChatService.MAX_LIVE_PER_USER; i++) {
                String server = i % 2 == 0 ? a.server.url() : bUrl;
                EventStream stream = EventStream.post(server, "/api/chat", request(TestIds.next(), TestIds.next(),
                        "live " + i), token);
                live.add(stream);
                stream.next("start");
                replies.add((i % 2 == 0 ? model : otherModel).awaitReply());
            }
            try (EventStream fifth = EventStream.post(a.server.url(), "/api/chat",
                    request(TestIds.next(), TestIds.next(), "one too many"), token)) {
                assertThat(fifth.refusal().status()).isEqualTo(429);
                assertThat(fifth.refusal().errorCode()).isEqualTo("rate_limited");
            }
            replies.get(0).emit("ok").finish();
            live.get(0).rest();
            try (EventStream next = EventStream.post(bUrl, "/api/chat",
                    request(TestIds.next(), TestIds.next(), "room again"), token)) {
                assertThat(next.next().type()).isEqualTo("start");
                otherModel.awaitReply().emit("yes").finish();
                next.rest();
            }
        } finally {
            replies.forEach(PacedModel.Reply::finish);
            live.forEach(EventStream::close);
        }
    }

    @Test
    void anAnonymousStreamStoresNothingAndEndsWhenItsClientLeaves() throws Exception {
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Who are you");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", request, null)) {
            stream.next("start");
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("An ").emit("answer").finish();
            List<Event> events = stream.rest();
            JsonNode done = events.get(events.size() - 1).json();
            assertThat(done.path("assistantMessage").path("content").asText()).isEqualTo("An answer");
            assertThat(done.path("persisted").asBoolean()).isFalse();
        }
        PacedModel.Reply abandoned;
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat",
                request(TestIds.next(), TestIds.next(), "Talk"), null)) {
            stream.next("start");
            abandoned = model.awaitReply();
        }
        // The server learns of the leaving client when it next writes to it: the model keeps writing until then.
        awaitTrue(() -> {
            abandoned.emit("word ");
            return abandoned.awaitCancelled(0);
        });
        assertThat(abandoned.awaitCancelled(10)).isTrue();
        assertThat(a.queryLong("SELECT count(*) FROM chat_messages")).isZero();
        assertThat(a.queryLong("SELECT count(*) FROM chat_claims")).isZero();
    }

    @Test
    void reattachingToAnIdWithoutATraceOrOfAnotherUserIsNotFound() throws Exception {
        try (EventStream none = EventStream.get(a.server.url(), "/api/chat/" + TestIds.next() + "/stream", token,
                null)) {
            assertThat(none.refusal().status()).isEqualTo(404);
        }
        ChatRequest request = request(TestIds.next(), TestIds.next(), "Mine");
        assertThat(sendJson(request, () -> model.awaitReply().emit("yours").finish()).status()).isEqualTo(200);
        String other = a.signUp("other@example.com").accessToken();
        try (EventStream foreign = EventStream.get(bUrl, "/api/chat/" + request.messageId() + "/stream", other,
                null)) {
            assertThat(foreign.refusal().status()).isEqualTo(404);
        }
        assertThat(a.api.post("/api/chat/" + request.messageId() + "/stop", null, other).status()).isEqualTo(404);
        assertThat(a.api.post("/api/chat/" + TestIds.next() + "/stop", null, token).status()).isEqualTo(404);
    }

    // ----------------------------------------------------------------- helpers

    private ChatRequest request(String sessionId, String messageId, String content) {
        return new ChatRequest(sessionId, messageId, content, null, Instant.now(), null, List.of());
    }

    /** Sends a JSON chat request while {@code modelSide} answers it. */
    private HttpApi.Response sendJson(ChatRequest request, ThrowingRunnable modelSide) throws Exception {
        Thread answering = new Thread(() -> {
            try {
                modelSide.run();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        answering.start();
        HttpApi.Response response = a.api.post("/api/chat", request, token);
        answering.join(20_000);
        return response;
    }

    private static Thread answerNextReply(PacedModel model, String text) {
        Thread t = new Thread(() -> {
            try {
                model.awaitReply().emit(text).finish();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        return t;
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private void assertCountedOnce(long replies) throws Exception {
        assertThat(a.mismatches()).isEmpty();
        assertThat(a.queryLong("SELECT coalesce(sum(messages_received), 0) FROM user_usage_daily"))
                .isEqualTo(replies);
        assertThat(a.queryLong("SELECT coalesce(sum(messages_sent), 0) FROM user_usage_daily")).isEqualTo(replies);
    }

    private static void awaitTrue(Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.sleep(20);
        }
    }
}
