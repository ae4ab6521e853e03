package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Message;
import dev.parley.protocol.RegenerateRequest;
import dev.parley.protocol.Role;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.protocol.SyncPage;
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
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regenerate and edit (SPEC §4.3, §5.4): several replies per user message, each its own row under its own id and
 * counted once; a regenerate idempotent and duplicate-guarded on its reply id, on two server processes sharing one
 * database; edits as sibling user messages; parents carried by chat, push and sync, and never changed. Runs on the
 * dialect of the build's execution (SQLite, then PostgreSQL).
 */
class BranchesTest {
    @TempDir
    Path dir;

    private final PacedModel model = new PacedModel();
    private final PacedModel otherModel = new PacedModel();
    private TestServer a;
    private ParleyServer b;
    private String token;

    @BeforeEach
    void start() {
        a = TestServer.start(dir, config -> config.modelProvider(model).claimTtl(Duration.ofSeconds(2)));
        b = a.anotherProcess(config -> config.modelProvider(otherModel).claimTtl(Duration.ofSeconds(2)));
        token = a.signUp("brancher@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        b.close();
        a.close();
    }

    @Test
    void regeneratingThreeTimesStoresThreeSiblingRepliesEachCountedOnce() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "Name a colour", null);
        HttpApi.Response first = answered(a.api, "/api/chat", question, model, "Red.");
        assertThat(first.status()).as(first.toString()).isEqualTo(200);
        String firstReply = first.json().path("assistantMessage").path("id").asText();
        assertThat(first.json().path("assistantMessage").path("parentId").asText()).isEqualTo(question.messageId());

        List<String> replies = new ArrayList<>(List.of(firstReply));
        for (String colour : List.of("Blue.", "Green.", "Amber.")) {
            RegenerateRequest regenerate = regenerate(question, TestIds.next());
            HttpApi.Response again = answered(a.api, "/api/chat/regenerate", regenerate, model, colour);
            assertThat(again.status()).as(again.toString()).isEqualTo(200);
            JsonNode reply = again.json().path("assistantMessage");
            assertThat(reply.path("id").asText()).isEqualTo(regenerate.replyId());
            assertThat(reply.path("content").asText()).isEqualTo(colour);
            assertThat(reply.path("userMessageId").asText()).isEqualTo(question.messageId());
            assertThat(reply.path("parentId").asText()).isEqualTo(question.messageId());
            assertThat(again.json().path("userMessage").path("id").asText()).isEqualTo(question.messageId());
            assertThat(again.json().path("persisted").asBoolean()).isTrue();
            assertThat(again.json().path("replayed").asBoolean()).isFalse();
            replies.add(regenerate.replyId());
        }

        assertThat(a.queryStrings("SELECT id FROM chat_messages WHERE role = 'assistant' AND user_message_id = '"
                + question.messageId() + "' ORDER BY message_timestamp, id")).containsExactlyElementsOf(replies);
        assertThat(model.calls()).isEqualTo(4);
        assertThat(a.mismatches()).isEmpty();
        assertThat(a.queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(1);
        assertThat(a.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(4);
        assertThat(a.queryLong("SELECT message_count FROM chat_sessions")).isEqualTo(5);
        assertThat(a.queryString("SELECT last_message_preview FROM chat_sessions")).isEqualTo("Amber.");
        // A chat request for the question again replays its first reply, not a regenerated one.
        HttpApi.Response replay = a.api.post("/api/chat", question, token);
        assertThat(replay.json().path("replayed").asBoolean()).isTrue();
        assertThat(replay.json().path("assistantMessage").path("id").asText()).isEqualTo(firstReply);
        assertThat(model.calls()).isEqualTo(4);
    }

    @Test
    void verifyAnalyticsPassesOnBranchesAndFailsWhenACounterIsCorrupted() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "Branch out", null);
        String reply = answered(a.api, "/api/chat", question, model, "One.").json().path("assistantMessage")
                .path("id").asText();
        answered(a.api, "/api/chat/regenerate", regenerate(question, TestIds.next()), model, "Two.");
        answered(a.api, "/api/chat", chat(question.sessionId(), TestIds.next(), "Branch in", reply), model, "Three.");
        answered(a.api, "/api/chat", chat(question.sessionId(), TestIds.next(), "Branch over", reply), model,
                "Four.");

        assertThat(dev.parley.server.cli.Main.run("verify-analytics", "--db", a.dbUrl)).isZero();
        a.execute("UPDATE chat_sessions SET message_count = message_count - 1");
        assertThat(dev.parley.server.cli.Main.run("verify-analytics", "--db", a.dbUrl)).isEqualTo(1);
    }

    @Test
    void aRegenerateSentAgainWithItsReplyIdIsReplayedOnEitherProcessWithoutCallingTheModel() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "Tell me a fact", null);
        answered(a.api, "/api/chat", question, model, "Water is wet.");
        RegenerateRequest regenerate = regenerate(question, TestIds.next());
        HttpApi.Response stored = answered(a.api, "/api/chat/regenerate", regenerate, model, "Honey keeps.");
        assertThat(stored.status()).isEqualTo(200);
        String usageBefore = a.queryString("SELECT messages_received || ' ' || output_tokens FROM user_usage_daily");

        HttpApi.Response json = new HttpApi(b.url()).post("/api/chat/regenerate", regenerate, token);
        assertThat(json.status()).as(json.toString()).isEqualTo(200);
        assertThat(json.json().path("replayed").asBoolean()).isTrue();
        assertThat(json.json().path("assistantMessage").path("content").asText()).isEqualTo("Honey keeps.");
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat/regenerate", regenerate, token)) {
            List<Event> events = stream.rest();
            assertThat(events).extracting(Event::type).containsExactly("start", "delta", "done");
            assertThat(events.get(0).json().path("replyId").asText()).isEqualTo(regenerate.replyId());
            assertThat(events.get(0).json().path("replayed").asBoolean()).isTrue();
            assertThat(events.get(1).json().path("text").asText()).isEqualTo("Honey keeps.");
            assertThat(events.get(2).json().path("replayed").asBoolean()).isTrue();
        }
        try (EventStream tail = EventStream.get(b.url(), "/api/chat/" + question.messageId() + "/stream?replyId="
                + regenerate.replyId() + "&after=6", token, null)) {
            List<Event> events = tail.rest();
            assertThat(events.get(1).json().path("text").asText()).isEqualTo("keeps.");
            assertThat(events.get(2).json().path("assistantMessage").path("id").asText())
                    .isEqualTo(regenerate.replyId());
        }

        assertThat(model.calls()).isEqualTo(2);
        assertThat(otherModel.calls()).isZero();
        assertThat(a.queryString("SELECT messages_received || ' ' || output_tokens FROM user_usage_daily"))
                .isEqualTo(usageBefore);
        assertThat(a.mismatches()).isEmpty();
    }

    @Test
    void twoConcurrentRegeneratesWithOneReplyIdCallTheModelOnce() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "Once more", null);
        answered(a.api, "/api/chat", question, model, "First.");
        RegenerateRequest regenerate = regenerate(question, TestIds.next());
        try (EventStream live = EventStream.post(a.server.url(), "/api/chat/regenerate", regenerate, token)) {
            live.next("start");
            PacedModel.Reply reply = model.awaitReply();

            HttpApi.Response second = new HttpApi(b.url()).post("/api/chat/regenerate", regenerate, token);
            assertThat(second.status()).as(second.toString()).isEqualTo(409);
            assertThat(second.errorCode()).isEqualTo("in_progress");
            assertThat(second.json().path("error").path("retryable").asBoolean()).isTrue();

            reply.emit("Second.").finish();
            assertThat(live.rest()).last().extracting(Event::type).isEqualTo("done");
        }
        assertThat(otherModel.calls()).isZero();
        assertThat(model.calls()).isEqualTo(2);
        assertThat(a.queryLong("SELECT count(*) FROM chat_messages WHERE id = '" + regenerate.replyId() + "'"))
                .isEqualTo(1);
        assertThat(a.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(2);
        assertThat(a.mismatches()).isEmpty();
    }

    @Test
    void aRegenerateTellsTheModelTheContextAndTheStoredQuestion() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "What is WAL?", null);
        answered(a.api, "/api/chat", question, model, "A journal.");
        List<ContextMessage> context = List.of(new ContextMessage(Role.SYSTEM, "Be brief."),
                new ContextMessage(Role.USER, "Hi"), new ContextMessage(Role.ASSISTANT, "Hello."));
        RegenerateRequest regenerate = new RegenerateRequest(question.sessionId(), question.messageId(),
                TestIds.next(), "parley-local", 0.3, 50, context);

        AtomicReference<CompletionRequest> asked = new AtomicReference<>();
        Thread answering = new Thread(() -> {
            try {
                PacedModel.Reply reply = model.awaitReply();
                asked.set(reply.request);
                reply.emit("Write-ahead logging.").finish();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        answering.start();
        HttpApi.Response response = a.api.post("/api/chat/regenerate", regenerate, token);
        answering.join(20_000);

        assertThat(asked.get().messages()).extracting(ContextMessage::content)
                .containsExactly("Be brief.", "Hi", "Hello.", "What is WAL?");
        assertThat(asked.get().messages()).extracting(ContextMessage::role)
                .containsExactly(Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.USER);
        assertThat(asked.get().temperature()).isEqualTo(0.3);
        assertThat(asked.get().maxTokens()).isEqualTo(50);
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        assertThat(response.json().path("assistantMessage").path("content").asText())
                .isEqualTo("Write-ahead logging.");
    }

    @Test
    void aFailedRegenerateStoresNothingAndItsReplyIdCanBeSentAgain() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "Try", null);
        answered(a.api, "/api/chat", question, model, "Tried.");
        RegenerateRequest regenerate = regenerate(question, TestIds.next());
        Thread failing = new Thread(() -> {
            try {
                model.awaitReply().fail(new ModelException(ErrorCode.UPSTREAM_ERROR, "upstream said 503"));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        failing.start();
        HttpApi.Response failed = a.api.post("/api/chat/regenerate", regenerate, token);
        failing.join(20_000);

        assertThat(failed.status()).as(failed.toString()).isEqualTo(502);
        assertThat(failed.json().path("persisted").asBoolean()).isFalse();
        assertThat(failed.json().path("error").path("retryable").asBoolean()).isTrue();
        assertThat(a.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(a.queryLong("SELECT count(*) FROM chat_claims")).isZero();
        assertThat(a.queryString("SELECT error_message FROM chat_messages WHERE id = '" + question.messageId() + "'"))
                .isNull();

        HttpApi.Response retried = answered(new HttpApi(b.url()), "/api/chat/regenerate", regenerate, otherModel,
                "Tried again.");
        assertThat(retried.status()).as(retried.toString()).isEqualTo(200);
        assertThat(retried.json().path("assistantMessage").path("id").asText()).isEqualTo(regenerate.replyId());
        assertThat(a.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(2);
        assertThat(a.mismatches()).isEmpty();
    }

    @Test
    void aRegenerateStoppedOnTheOtherProcessKeepsItsPartialReplyAndEndsAttachedStreams() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "Go on", null);
        answered(a.api, "/api/chat", question, model, "Done.");
        RegenerateRequest regenerate = regenerate(question, TestIds.next());
        String streamPath = "/api/chat/" + question.messageId() + "/stream?replyId=" + regenerate.replyId();
        try (EventStream live = EventStream.post(a.server.url(), "/api/chat/regenerate", regenerate, token)) {
            live.next("start");
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("So far");
            live.next("delta");
            try (EventStream follower = EventStream.get(b.url(), streamPath, token, null)) {
                assertThat(follower.next("start").json().path("replyId").asText()).isEqualTo(regenerate.replyId());
                assertThat(follower.next("delta").json().path("text").asText()).isEqualTo("So far");

                HttpApi.Response stopped = new HttpApi(b.url()).post("/api/chat/" + question.messageId()
                        + "/stop?replyId=" + regenerate.replyId(), null, token);

                assertThat(stopped.status()).as(stopped.toString()).isEqualTo(200);
                assertThat(reply.awaitCancelled(10)).isTrue();
                JsonNode assistant = stopped.json().path("assistantMessage");
                assertThat(assistant.path("id").asText()).isEqualTo(regenerate.replyId());
                assertThat(assistant.path("content").asText()).isEqualTo("So far");
                assertThat(assistant.path("finishReason").asText()).isEqualTo("stopped");
                assertThat(follower.rest()).last().extracting(Event::type).isEqualTo("done");
            }
            assertThat(live.rest()).last().extracting(Event::type).isEqualTo("done");
        }
        HttpApi.Response again = a.api.post("/api/chat/" + question.messageId() + "/stop?replyId="
                + regenerate.replyId(), null, token);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("assistantMessage").path("content").asText()).isEqualTo("So far");
        assertThat(a.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(2);
        assertThat(a.mismatches()).isEmpty();
    }

    @Test
    void aRegenerateWhoseProcessDiedIsInterruptedAndLeavesItsQuestionAnswered() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "Slowly", null);
        answered(a.api, "/api/chat", question, model, "Quickly.");
        RegenerateRequest regenerate = regenerate(question, TestIds.next());
        String streamPath = "/api/chat/" + question.messageId() + "/stream?replyId=" + regenerate.replyId();
        try (EventStream live = EventStream.post(b.url(), "/api/chat/regenerate", regenerate, token)) {
            live.next("start");
            otherModel.awaitReply().emit("Half");
            live.next("delta");
            b.close(); // its claim is no longer renewed
        }
        b = a.anotherProcess(config -> config.modelProvider(otherModel).claimTtl(Duration.ofSeconds(2)));

        awaitTrue(() -> {
            try (EventStream follower = EventStream.get(a.server.url(), streamPath, token, null)) {
                List<Event> events = follower.rest();
                return !events.isEmpty() && events.get(events.size() - 1).type().equals("error")
                        && events.get(events.size() - 1).json().path("error").path("code").asText()
                        .equals("interrupted");
            }
        });
        awaitTrue(() -> a.queryLong("SELECT count(*) FROM chat_claims") == 0);
        assertThat(a.queryString("SELECT error_message FROM chat_messages WHERE id = '" + question.messageId() + "'"))
                .isNull();
        assertThat(a.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);

        HttpApi.Response resent = answered(a.api, "/api/chat/regenerate", regenerate, model, "Again.");
        assertThat(resent.status()).as(resent.toString()).isEqualTo(200);
        assertThat(a.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(2);
        assertThat(a.mismatches()).isEmpty();
    }

    @Test
    void aRegenerateIsRefusedForWhatIsNoAnsweredMessageOfTheUser() throws Exception {
        ChatRequest question = chat(TestIds.next(), TestIds.next(), "Mine", null);
        answered(a.api, "/api/chat", question, model, "Yours.");
        String reply = a.queryString("SELECT id FROM chat_messages WHERE role = 'assistant'");
        String other = a.signUp("other@example.com").accessToken();

        assertThat(a.api.post("/api/chat/regenerate", regenerate(question, TestIds.next()), null).status())
                .isEqualTo(401);
        assertThat(a.api.post("/api/chat/regenerate", regenerate(question, TestIds.next()), other).status())
                .isEqualTo(404);
        assertThat(a.api.post("/api/chat/regenerate", new RegenerateRequest(question.sessionId(), TestIds.next(),
                TestIds.next(), null, null, null, null), token).status()).isEqualTo(404);
        assertThat(a.api.post("/api/chat/regenerate", new RegenerateRequest(TestIds.next(), question.messageId(),
                TestIds.next(), null, null, null, null), token).status()).isEqualTo(404);
        assertThat(a.api.post("/api/chat/regenerate", new RegenerateRequest(question.sessionId(), reply,
                TestIds.next(), null, null, null, null), token).status()).as("a reply is no question").isEqualTo(404);
        HttpApi.Response taken = a.api.post("/api/chat/regenerate", regenerate(question, question.messageId()),
                token);
        assertThat(taken.status()).isEqualTo(400);
        HttpApi.Response reused = a.api.post("/api/chat/regenerate", regenerate(question, reply), token);
        assertThat(reused.json().path("replayed").asBoolean()).as("the first reply's id is that reply").isTrue();
        HttpApi.Response missing = a.api.post("/api/chat/regenerate", new RegenerateRequest(question.sessionId(),
                question.messageId(), null, null, null, null, null), token);
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.json().path("error").path("message").asText()).contains("replyId");
        assertThat(missing.json().path("persisted").asBoolean()).isFalse();

        ChatRequest failedQuestion = chat(question.sessionId(), TestIds.next(), "Fails", question.messageId());
        Thread failing = new Thread(() -> {
            try {
                model.awaitReply().fail(new ModelException(ErrorCode.UPSTREAM_ERROR, "down"));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        failing.start();
        a.api.post("/api/chat", failedQuestion, token);
        failing.join(20_000);
        HttpApi.Response ofFailed = a.api.post("/api/chat/regenerate", regenerate(failedQuestion, TestIds.next()),
                token);
        assertThat(ofFailed.status()).isEqualTo(409);
        assertThat(ofFailed.errorCode()).isEqualTo("conflict");
        assertThat(model.calls()).isEqualTo(2);
    }

    @Test
    void anEditIsASiblingUserMessageAndTheOldBranchStays() throws Exception {
        String sessionId = TestIds.next();
        ChatRequest first = chat(sessionId, TestIds.next(), "Plan a trip", null);
        String firstReply = answered(a.api, "/api/chat", first, model, "Where to?").json().path("assistantMessage")
                .path("id").asText();
        ChatRequest second = chat(sessionId, TestIds.next(), "Lisbon", firstReply);
        answered(a.api, "/api/chat", second, model, "Lovely.");
        ChatRequest edited = chat(sessionId, TestIds.next(), "Porto", firstReply);
        HttpApi.Response answer = answered(new HttpApi(b.url()), "/api/chat", edited, otherModel, "Also lovely.");

        assertThat(answer.json().path("userMessage").path("parentId").asText()).isEqualTo(firstReply);
        SyncPage page = a.api.get("/api/chat/sync", token).as(SyncPage.class);
        assertThat(page.messages()).filteredOn(m -> m.role() == Role.USER && firstReply.equals(m.parentId()))
                .extracting(Message::content).containsExactlyInAnyOrder("Lisbon", "Porto");
        assertThat(page.messages()).filteredOn(m -> m.id().equals(first.messageId())).singleElement()
                .satisfies(m -> assertThat(m.parentId()).isNull());
        assertThat(page.messages()).filteredOn(m -> m.role() == Role.ASSISTANT)
                .allSatisfy(m -> assertThat(m.parentId()).isEqualTo(m.userMessageId()));
        assertThat(a.queryLong("SELECT message_count FROM chat_sessions")).isEqualTo(6);
        assertThat(a.mismatches()).isEmpty();

        // The same id under another parent is another message.
        ChatRequest moved = chat(sessionId, edited.messageId(), "Porto", TestIds.next());
        HttpApi.Response conflict = a.api.post("/api/chat", moved, token);
        assertThat(conflict.status()).as(conflict.toString()).isEqualTo(409);
        assertThat(conflict.errorCode()).isEqualTo("conflict");
        // Without a parent (a client from before branches) it is the same message, replayed.
        HttpApi.Response replay = a.api.post("/api/chat", chat(sessionId, edited.messageId(), "Porto", null), token);
        assertThat(replay.json().path("replayed").asBoolean()).isTrue();
        assertThat(model.calls() + otherModel.calls()).isEqualTo(3);
    }

    @Test
    void aChatRequestStoresItsReplyUnderTheClientsReplyIdAndReplaysIt() throws Exception {
        String replyId = TestIds.next();
        ChatRequest question = new ChatRequest(TestIds.next(), TestIds.next(), "Hello", null, Instant.now(), null,
                null, null, List.of(), null, replyId);
        try (EventStream stream = EventStream.post(a.server.url(), "/api/chat", question, token)) {
            assertThat(stream.next("start").json().path("replyId").asText()).isEqualTo(replyId);
            PacedModel.Reply reply = model.awaitReply();
            reply.emit("Hi").emit(" there");
            try (EventStream follower = EventStream.get(b.url(), "/api/chat/" + question.messageId()
                    + "/stream?replyId=" + replyId, token, null)) {
                follower.next("start");
                assertThat(follower.next("delta").json().path("text").asText()).startsWith("Hi");
                reply.finish();
                assertThat(follower.rest()).last().satisfies(e -> assertThat(e.json().path("assistantMessage")
                        .path("id").asText()).isEqualTo(replyId));
            }
            stream.rest();
        }
        assertThat(a.queryString("SELECT content FROM chat_messages WHERE id = '" + replyId + "'"))
                .isEqualTo("Hi there");
        HttpApi.Response replay = new HttpApi(b.url()).post("/api/chat", question, token);
        assertThat(replay.json().path("assistantMessage").path("id").asText()).isEqualTo(replyId);
        assertThat(replay.json().path("replayed").asBoolean()).isTrue();

        // A reply id that is already another row is refused before the model is called.
        ChatRequest clash = new ChatRequest(question.sessionId(), TestIds.next(), "Again", null, Instant.now(), null,
                null, null, List.of(), replyId, question.messageId());
        HttpApi.Response refused = a.api.post("/api/chat", clash, token);
        assertThat(refused.status()).as(refused.toString()).isEqualTo(409);
        assertThat(model.calls() + otherModel.calls()).isEqualTo(1);
    }

    @Test
    void pushedBranchesAreStoredOnceAndTheirParentsNeverChange() throws Exception {
        String sessionId = TestIds.next();
        Instant t0 = a.now().minusSeconds(60);
        Message question = TestServer.userMessage(sessionId, "Pushed question", 4, t0);
        Message reply = TestServer.assistantReply(question, "One", 3, 10);
        Message sibling = TestServer.assistantReply(question, "Two", 5, 20).toBuilder()
                .messageTimestamp(t0.plusSeconds(5)).parentId(question.id()).build();
        Message edit = TestServer.userMessage(sessionId, "Pushed edit", 2, t0.plusSeconds(9));
        List<Message> rows = List.of(question, reply, sibling, edit);

        List<RowResult> first = a.push(token, List.of(), rows).messages();
        assertThat(first).extracting(RowResult::result).containsOnly(Outcome.INSERTED);
        List<RowResult> twice = a.push(token, List.of(), rows).messages();
        assertThat(twice).extracting(RowResult::result).containsOnly(Outcome.UNCHANGED);
        assertThat(a.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(2);
        assertThat(a.queryLong("SELECT sum(output_tokens) FROM user_usage_daily")).isEqualTo(8);
        assertThat(a.queryString("SELECT parent_id FROM chat_messages WHERE id = '" + reply.id() + "'"))
                .as("a reply follows its question even when pushed without a parent").isEqualTo(question.id());

        Message moved = edit.toBuilder().parentId(reply.id()).build();
        assertThat(a.push(token, List.of(), List.of(moved)).messages()).singleElement()
                .satisfies(r -> assertThat(r.result()).as("stored without a parent: none to contradict")
                        .isEqualTo(Outcome.UNCHANGED));
        Message placed = TestServer.userMessage(sessionId, "Placed", 1, t0.plusSeconds(12)).toBuilder()
                .parentId(sibling.id()).build();
        a.push(token, List.of(), List.of(placed));
        RowResult replaced = a.push(token, List.of(), List.of(placed.toBuilder().parentId(reply.id()).build()))
                .messages().get(0);
        assertThat(replaced.result()).isEqualTo(Outcome.REJECTED);
        assertThat(replaced.code()).isEqualTo(RowResult.CONFLICT);
        RowResult wrongParent = a.push(token, List.of(), List.of(TestServer.assistantReply(question, "Three", 1, 1)
                .toBuilder().parentId(edit.id()).build())).messages().get(0);
        assertThat(wrongParent.code()).isEqualTo(RowResult.BAD_REQUEST);
        assertThat(a.queryString("SELECT parent_id FROM chat_messages WHERE id = '" + placed.id() + "'"))
                .isEqualTo(sibling.id());
        assertThat(a.mismatches()).isEmpty();
    }

    // ------------------------------------------------------------------ helpers

    private static ChatRequest chat(String sessionId, String messageId, String content, String parentId) {
        return new ChatRequest(sessionId, messageId, content, null, Instant.now(), null, null, null, List.of(),
                parentId, null);
    }

    private static RegenerateRequest regenerate(ChatRequest question, String replyId) {
        return new RegenerateRequest(question.sessionId(), question.messageId(), replyId, null, null, null,
                List.of());
    }

    /** Posts {@code body} to {@code path} as JSON while {@code answering} writes {@code text} as its reply. */
    private HttpApi.Response answered(HttpApi api, String path, Object body, PacedModel answering, String text)
            throws Exception {
        Thread model = new Thread(() -> {
            try {
                answering.awaitReply().emit(text).finish();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        model.start();
        HttpApi.Response response = api.post(path, body, token);
        model.join(20_000);
        return response;
    }

    private static void awaitTrue(Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 30 s");
            }
            Thread.sleep(50);
        }
    }
}
