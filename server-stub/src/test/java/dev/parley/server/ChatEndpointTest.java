package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Role;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /api/chat} as SPEC §5.1 describes it. */
class ChatEndpointTest {
    @TempDir
    Path dir;

    TestServer server;
    String token;

    @BeforeEach
    void start() {
        server = TestServer.start(dir);
        token = server.signUp("ada@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void successfulReplyStoresBothMessagesAndStatisticsInOneGo() throws Exception {
        String sessionId = TestIds.next();
        String messageId = TestIds.next();

        Response response = server.chat(token, sessionId, messageId, "What is Parley?");

        assertThat(response.status()).isEqualTo(200);
        ChatResponse chat = response.as(ChatResponse.class);
        assertThat(chat.persisted()).isTrue();
        assertThat(chat.replayed()).isFalse();
        assertThat(chat.userMessage().id()).isEqualTo(messageId);
        assertThat(chat.userMessage().inputTokens()).isPositive();
        assertThat(chat.assistantMessage().userMessageId()).isEqualTo(messageId);
        assertThat(chat.assistantMessage().outputTokens()).isPositive();
        assertThat(chat.assistantMessage().completionId()).isNotBlank();
        assertThat(chat.assistantMessage().messageTimestamp()).isAfter(chat.userMessage().messageTimestamp());
        assertThat(chat.session().messageCount()).isEqualTo(2);
        assertThat(chat.session().totalTokens())
                .isEqualTo(chat.userMessage().inputTokens() + chat.assistantMessage().outputTokens());
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.queryLong("SELECT messages_sent + messages_received FROM user_usage_daily")).isEqualTo(2);
        assertThat(server.queryLong("SELECT count(*) FROM chat_claims")).isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void knownMessageIdIsReplayedWithoutCallingTheModel() throws Exception {
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        ChatResponse first = server.chat(token, sessionId, messageId, "hello").as(ChatResponse.class);
        int callsAfterFirst = server.model.calls();

        Response again = server.chat(token, sessionId, messageId, "hello");

        assertThat(again.status()).isEqualTo(200);
        ChatResponse replay = again.as(ChatResponse.class);
        assertThat(replay.replayed()).isTrue();
        assertThat(replay.persisted()).isTrue();
        assertThat(replay.assistantMessage()).isEqualTo(first.assistantMessage());
        assertThat(server.model.calls()).isEqualTo(callsAfterFirst);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
    }

    @Test
    void concurrentIdenticalRequestsCallTheModelOnce() throws Exception {
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        server.model.closeGate();
        CompletableFuture<Response> first = CompletableFuture.supplyAsync(
                () -> server.chat(token, sessionId, messageId, "only once"));
        server.model.awaitEntered();

        Response second = server.chat(token, sessionId, messageId, "only once");
        server.model.openGate();
        Response firstResponse = first.get(20, TimeUnit.SECONDS);

        assertThat(second.status()).isEqualTo(409);
        assertThat(second.errorCode()).isEqualTo("in_progress");
        assertThat(second.json().path("error").path("retryable").asBoolean()).isTrue();
        assertThat(firstResponse.status()).isEqualTo(200);
        assertThat(server.model.calls()).isEqualTo(1);
        Response retryLater = server.chat(token, sessionId, messageId, "only once");
        assertThat(retryLater.as(ChatResponse.class).replayed()).isTrue();
        assertThat(server.model.calls()).isEqualTo(1);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
    }

    @Test
    void guardHoldsAcrossTwoServerProcessesOnOneDatabase() throws Exception {
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        try (ParleyServer second = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(server.dbUrl)
                .modelProvider(server.model).build())) {
            var otherProcess = new dev.parley.server.testing.HttpApi(second.url());
            server.model.closeGate();
            CompletableFuture<Response> first = CompletableFuture.supplyAsync(
                    () -> server.chat(token, sessionId, messageId, "two processes"));
            server.model.awaitEntered();

            Response viaOther = otherProcess.post("/api/chat", new ChatRequest(sessionId, messageId, "two processes",
                    null, server.now(), null, List.of()), token);
            server.model.openGate();

            assertThat(viaOther.errorCode()).isEqualTo("in_progress");
            assertThat(first.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
            Response replayViaOther = otherProcess.post("/api/chat", new ChatRequest(sessionId, messageId,
                    "two processes", null, server.now(), null, List.of()), token);
            assertThat(replayViaOther.as(ChatResponse.class).replayed()).isTrue();
            assertThat(server.model.calls()).isEqualTo(1);
        }
    }

    @Test
    void modelFailureStoresTheUserMessageAsFailed() throws Exception {
        server.model.failNext(new ModelException(ErrorCode.UPSTREAM_ERROR, "the model provider answered HTTP 503"));
        String messageId = TestIds.next();

        Response response = server.chat(token, TestIds.next(), messageId, "fail me");

        assertThat(response.status()).isEqualTo(502);
        assertThat(response.errorCode()).isEqualTo("upstream_error");
        assertThat(response.json().path("persisted").asBoolean()).isTrue();
        assertThat(server.queryString("SELECT error_message FROM chat_messages WHERE id = '" + messageId + "'"))
                .isEqualTo("the model provider answered HTTP 503");
        assertThat(server.queryLong("SELECT input_tokens FROM chat_messages")).isZero();
        assertThat(server.queryLong("SELECT messages_sent FROM user_usage_daily")).isZero();
        assertThat(server.queryLong("SELECT count(*) FROM chat_claims")).isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void failedMessageRetriedWithTheSameIdCountsOnce() throws Exception {
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        server.model.failNext(new ModelException(ErrorCode.UPSTREAM_TIMEOUT, "the model did not answer in time"));
        assertThat(server.chat(token, sessionId, messageId, "retry me").status()).isEqualTo(504);

        Response retry = server.chat(token, sessionId, messageId, "retry me");
        Response replay = server.chat(token, sessionId, messageId, "retry me");

        assertThat(retry.status()).isEqualTo(200);
        assertThat(retry.as(ChatResponse.class).userMessage().errorMessage()).isNull();
        assertThat(replay.as(ChatResponse.class).replayed()).isTrue();
        assertThat(server.model.calls()).isEqualTo(2);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void providerRateLimitIsPassedOnWithItsDelay() throws Exception {
        server.model.failNext(new ModelException(ErrorCode.RATE_LIMITED, "slow down", 7L, null));

        Response response = server.chat(token, TestIds.next(), TestIds.next(), "hi");

        assertThat(response.status()).isEqualTo(429);
        assertThat(response.errorCode()).isEqualTo("rate_limited");
        assertThat(response.json().path("error").path("retryAfterSeconds").asLong()).isEqualTo(7);
        assertThat(response.retryAfter()).isEqualTo("7");
    }

    @Test
    void replyIsReturnedUnpersistedWhenTheWriteFails() throws Exception {
        server.model.duringCall(() -> breakMessageWrites());
        String messageId = TestIds.next();

        Response response = server.chat(token, TestIds.next(), messageId, "store me if you can");

        assertThat(response.status()).isEqualTo(200);
        ChatResponse chat = response.as(ChatResponse.class);
        assertThat(chat.persisted()).isFalse();
        assertThat(chat.assistantMessage().content()).isNotBlank();
        assertThat(chat.assistantMessage().userMessageId()).isEqualTo(messageId);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isZero();
        assertThat(server.queryLong("SELECT count(*) FROM chat_sessions")).isZero(); // the transaction rolled back whole
        assertThat(server.queryLong("SELECT count(*) FROM chat_claims")).isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void anonymousExchangeWorksAndWritesNothing() throws Exception {
        Response response = server.chat(null, TestIds.next(), TestIds.next(), "no account");

        assertThat(response.status()).isEqualTo(200);
        ChatResponse chat = response.as(ChatResponse.class);
        assertThat(chat.persisted()).isFalse();
        assertThat(chat.assistantMessage().content()).contains("no account");
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isZero();
        assertThat(server.queryLong("SELECT count(*) FROM chat_sessions")).isZero();
        assertThat(server.queryLong("SELECT count(*) FROM user_usage_daily WHERE messages_sent > 0")).isZero();
    }

    @Test
    void anonymousExchangesAreRateLimitedPerClientAddress(@TempDir Path other) {
        try (TestServer limited = TestServer.start(other, b -> b.anonymousChatsPerMinute(3))) {
            for (int i = 0; i < 3; i++) {
                assertThat(limited.chat(null, TestIds.next(), TestIds.next(), "hi " + i).status()).isEqualTo(200);
            }

            Response refused = limited.chat(null, TestIds.next(), TestIds.next(), "one too many");

            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.errorCode()).isEqualTo("rate_limited");
            assertThat(refused.json().path("persisted").asBoolean(true)).isFalse();
            assertThat(refused.json().path("error").path("retryAfterSeconds").asLong()).isPositive();
            assertThat(limited.model.calls()).isEqualTo(3);
        }
    }

    @Test
    void contextIsSentToTheModelAndCountedAsInput() throws Exception {
        String sessionId = TestIds.next();
        ChatRequest withContext = new ChatRequest(sessionId, TestIds.next(), "and then?", null, server.now(),
                "Story time", List.of(new ContextMessage(Role.USER, "tell me a story"),
                new ContextMessage(Role.ASSISTANT, "once upon a time there was a long context")));
        ChatRequest withoutContext = new ChatRequest(TestIds.next(), TestIds.next(), "and then?", null, server.now(),
                null, List.of());

        ChatResponse with = server.api.post("/api/chat", withContext, token).as(ChatResponse.class);
        ChatResponse without = server.api.post("/api/chat", withoutContext, token).as(ChatResponse.class);

        assertThat(with.userMessage().inputTokens()).isGreaterThan(without.userMessage().inputTokens());
        assertThat(with.session().title()).isEqualTo("Story time");
        assertThat(without.session().title()).isEqualTo("New chat");
    }

    @Test
    void chatIntoADeletedSessionIsAConflict() throws Exception {
        String sessionId = TestIds.next();
        server.chat(token, sessionId, TestIds.next(), "first");
        server.api.delete("/api/chat/sessions/" + sessionId, token);
        int calls = server.model.calls();

        Response response = server.chat(token, sessionId, TestIds.next(), "after delete");

        assertThat(response.status()).isEqualTo(409);
        assertThat(response.errorCode()).isEqualTo("conflict");
        assertThat(server.model.calls()).isEqualTo(calls);
    }

    @Test
    void unknownModelIsABadRequest() {
        Response response = server.api.post("/api/chat", new ChatRequest(TestIds.next(), TestIds.next(), "hi",
                "gpt-9000", server.now(), null, List.of()), token);

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.json().path("error").path("message").asText()).contains("gpt-9000");
        assertThat(server.model.calls()).isZero();
    }

    @Test
    void modelsAndHealthAnswerWithoutSigningIn() {
        Response models = server.api.get("/api/models", null);
        Response health = server.api.get("/health", null);

        assertThat(models.json().path("defaultModel").asText()).isEqualTo("parley-local");
        assertThat(models.json().path("models").get(0).path("id").asText()).isEqualTo("parley-local");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.json().path("database").asText()).isEqualTo("ok");
    }

    private void breakMessageWrites() {
        try (var c = DriverManager.getConnection(server.dbUrl); var s = c.createStatement()) {
            if (TestDatabases.postgres()) {
                s.execute("CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql"
                        + " AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$");
                s.execute("CREATE TRIGGER refuse_writes BEFORE INSERT ON chat_messages"
                        + " FOR EACH ROW EXECUTE FUNCTION refuse_writes()");
                return;
            }
            s.execute("CREATE TRIGGER refuse_writes BEFORE INSERT ON chat_messages"
                    + " BEGIN SELECT RAISE(ABORT, 'disk full'); END");
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
