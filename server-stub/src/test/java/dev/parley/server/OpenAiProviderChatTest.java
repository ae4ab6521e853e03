package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CountDownLatch;
import okio.BufferedSink;
import mockwebserver3.MockResponseBody;
import dev.parley.server.internal.model.LocalModelProvider;
import dev.parley.server.testing.EventStream;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.Role;
import dev.parley.protocol.RowResult;
import dev.parley.server.internal.model.OpenAiCompatibleProvider;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /api/chat} on a real server whose model is the {@code openai} provider, and the provider an
 * OpenAI-compatible upstream played by MockWebServer: what the client is told (the error body's {@code retryable},
 * {@code persisted}, a conflict) and what is stored and counted.
 */
class OpenAiProviderChatTest {
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final String OTHER_MODEL = "meta-llama/llama-3.1-8b-instruct";
    private static final String KEY = "sk-or-v1-chat-test-secret-77c1";
    private static final String REPLY = """
            {"id":"gen-1","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop",
              "message":{"role":"assistant","content":"Paris."}}],
             "usage":{"prompt_tokens":24,"completion_tokens":3,"total_tokens":27}}
            """;

    @TempDir
    Path dir;

    private final MockWebServer upstream = new MockWebServer();
    private OpenAiCompatibleProvider provider;
    private TestServer server;
    private String token;

    @BeforeEach
    void start() throws IOException {
        upstream.start();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (provider != null) {
            provider.close();
        }
        upstream.close();
    }

    private void startServer(OpenAiCompatibleProvider model) {
        provider = model;
        server = TestServer.start(dir, b -> b.modelProvider(model));
        token = server.signUp("ada@example.com").accessToken();
    }

    private void startServer() {
        startServer(new OpenAiCompatibleProvider(upstream.url("/v1").toString(), List.of(MODEL, OTHER_MODEL), KEY,
                Duration.ofSeconds(10)));
    }

    private static MockResponse json(int status, String body) {
        return new MockResponse.Builder().code(status).addHeader("Content-Type", "application/json").body(body).build();
    }

    private Response chat(String sessionId, String messageId, String model) {
        return server.api.post("/api/chat",
                new ChatRequest(sessionId, messageId, "Capital of France?", model, server.now(), null, List.of()),
                token);
    }

    /** The error object of a failed chat, after checking that it is an upstream_error that stored the message. */
    private JsonNode storedUpstreamError(Response response, String messageId) throws Exception {
        assertThat(response.status()).as("%s", response).isEqualTo(502);
        assertThat(response.errorCode()).isEqualTo("upstream_error");
        assertThat(response.json().path("persisted").isBoolean()).isTrue();
        assertThat(response.json().path("persisted").asBoolean()).as("the failed message is stored").isTrue();
        assertThat(server.queryString("SELECT error_message FROM chat_messages WHERE id = '" + messageId + "'"))
                .isNotNull();
        assertThat(server.queryLong("SELECT messages_sent + messages_received + total_tokens FROM user_usage_daily"))
                .isZero();
        assertThat(server.mismatches()).isEmpty();
        return response.json().path("error");
    }

    @Test
    void refusedKeyAnswersAnUpstreamErrorThatIsNotRetryable() throws Exception {
        startServer();
        upstream.enqueue(json(401, "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}"));
        String messageId = TestIds.next();

        Response response = chat(TestIds.next(), messageId, MODEL);

        JsonNode error = storedUpstreamError(response, messageId);
        assertThat(error.path("retryable").isBoolean()).isTrue();
        assertThat(error.path("retryable").asBoolean()).isFalse();
        assertThat(error.path("message").asText()).contains("refused the API key").doesNotContain(KEY);
    }

    @Test
    void contextTooLongAnswersAnUpstreamErrorThatIsNotRetryable() throws Exception {
        startServer();
        upstream.enqueue(json(400, "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens.\","
                + "\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}"));
        String messageId = TestIds.next();

        JsonNode error = storedUpstreamError(chat(TestIds.next(), messageId, MODEL), messageId);

        assertThat(error.path("retryable").asBoolean()).isFalse();
    }

    @Test
    void unknownModelOrWrongBaseUrlAnswersAnUpstreamErrorThatIsNotRetryable() throws Exception {
        startServer();
        upstream.enqueue(new MockResponse.Builder().code(404).body("404 page not found").build());
        String messageId = TestIds.next();

        JsonNode error = storedUpstreamError(chat(TestIds.next(), messageId, MODEL), messageId);

        assertThat(error.path("retryable").asBoolean()).isFalse();
    }

    @Test
    void overloadedModelAnswersAnUpstreamErrorThatIsRetryable() throws Exception {
        startServer();
        upstream.enqueue(json(503, "{\"error\":{\"message\":\"no capacity\"}}"));
        String messageId = TestIds.next();

        JsonNode error = storedUpstreamError(chat(TestIds.next(), messageId, MODEL), messageId);

        assertThat(error.path("retryable").asBoolean()).isTrue();
    }

    @Test
    void emptyReplyIsAnUpstreamErrorThatCountsNothing() throws Exception {
        startServer();
        upstream.enqueue(json(200, "{\"id\":\"gen-2\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\","
                + "\"message\":{\"role\":\"assistant\",\"content\":\" \\n \"}}],"
                + "\"usage\":{\"prompt_tokens\":24,\"completion_tokens\":1}}"));
        String sessionId = TestIds.next();
        String messageId = TestIds.next();

        JsonNode error = storedUpstreamError(chat(sessionId, messageId, MODEL), messageId);

        assertThat(error.path("retryable").asBoolean()).as("sampled again, the model may answer").isTrue();
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'")).isZero();
        assertThat(server.queryLong("SELECT input_tokens FROM chat_messages WHERE id = '" + messageId + "'")).isZero();
        assertThat(server.queryLong("SELECT message_count + total_tokens FROM chat_sessions WHERE id = '" + sessionId
                + "'")).isZero();
    }

    @Test
    void replyHoldingOnlyToolCallsIsAnUpstreamErrorThatIsNotRetryable() throws Exception {
        startServer();
        upstream.enqueue(json(200, "{\"choices\":[{\"index\":0,\"finish_reason\":\"tool_calls\",\"message\":{"
                + "\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]}}]}"));
        String messageId = TestIds.next();

        JsonNode error = storedUpstreamError(chat(TestIds.next(), messageId, MODEL), messageId);

        assertThat(error.path("retryable").asBoolean()).isFalse();
    }

    @Test
    void replayNamingAnotherModelIsAConflict() throws Exception {
        startServer();
        upstream.enqueue(json(200, REPLY));
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        assertThat(chat(sessionId, messageId, MODEL).status()).isEqualTo(200);

        Response other = chat(sessionId, messageId, OTHER_MODEL);

        assertThat(other.status()).as("%s", other).isEqualTo(409);
        assertThat(other.errorCode()).isEqualTo("conflict");
        assertThat(other.json().path("error").path("retryable").asBoolean()).isFalse();
        assertThat(other.json().path("error").path("message").asText()).contains(MODEL, OTHER_MODEL);
        assertThat(upstream.getRequestCount()).as("the model was not asked again").isEqualTo(1);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.queryStrings("SELECT model FROM chat_messages")).containsOnly(MODEL);
        assertThat(server.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
    }

    @Test
    void replayNamingTheSameModelOrNoneIsReplayed() throws Exception {
        startServer();
        upstream.enqueue(json(200, REPLY));
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        ChatResponse first = chat(sessionId, messageId, OTHER_MODEL).as(ChatResponse.class);

        Response sameModel = chat(sessionId, messageId, OTHER_MODEL);
        Response noModel = chat(sessionId, messageId, null);

        assertThat(sameModel.as(ChatResponse.class).replayed()).isTrue();
        assertThat(noModel.as(ChatResponse.class).replayed()).as("no model named: whatever answered").isTrue();
        assertThat(noModel.as(ChatResponse.class).assistantMessage()).isEqualTo(first.assistantMessage());
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void failedMessageRetriedWithAnotherModelIsAnsweredAndCountedUnderThatModel() throws Exception {
        startServer();
        upstream.enqueue(json(503, "{\"error\":{\"message\":\"no capacity\"}}"));
        upstream.enqueue(json(200, REPLY));
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        assertThat(chat(sessionId, messageId, MODEL).status()).isEqualTo(502);

        Response retry = chat(sessionId, messageId, OTHER_MODEL);

        assertThat(retry.status()).as("%s", retry).isEqualTo(200);
        ChatResponse answered = retry.as(ChatResponse.class);
        assertThat(answered.replayed()).isFalse();
        assertThat(answered.userMessage().model()).isEqualTo(OTHER_MODEL);
        assertThat(answered.assistantMessage().model()).isEqualTo(OTHER_MODEL);
        assertThat(server.queryString("SELECT model FROM chat_messages WHERE id = '" + messageId + "'"))
                .as("the stored question says which model answered it").isEqualTo(OTHER_MODEL);
        assertThat(server.queryCounts("SELECT models_used FROM user_usage_daily")).isEqualTo(Map.of(OTHER_MODEL, 2L));
        assertThat(server.queryLong("SELECT input_tokens FROM chat_messages WHERE id = '" + messageId + "'"))
                .isEqualTo(24);
        assertThat(server.mismatches()).isEmpty();
        assertThat(chat(sessionId, messageId, OTHER_MODEL).as(ChatResponse.class).replayed()).isTrue();
        assertThat(chat(sessionId, messageId, MODEL).errorCode()).as("the failed attempt's model, now answered by another")
                .isEqualTo("conflict");
        assertThat(upstream.getRequestCount()).isEqualTo(2);
    }

    /**
     * Another device pushes the message as answered by another model while this server's call is on its way: the
     * stored success is final, so the reply that comes back is a conflict, not a second answer under that question.
     */
    @Test
    void answerPushedWithAnotherModelDuringTheCallMakesTheReplyAConflict() throws Exception {
        startServer();
        upstream.enqueue(json(503, "{\"error\":{\"message\":\"no capacity\"}}"));
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        assertThat(chat(sessionId, messageId, MODEL).status()).isEqualTo(502);
        AtomicReference<PushResponse> pushed = new AtomicReference<>();
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                pushed.set(server.push(token, List.of(), List.of(new Message(messageId, sessionId, Role.USER,
                        "Capital of France?", OTHER_MODEL, 20L, null, null, null, server.now(), null, null, null))));
                return json(200, REPLY);
            }
        });

        Response retry = chat(sessionId, messageId, MODEL);

        assertThat(pushed.get().messages()).extracting(RowResult::result).containsExactly(RowResult.Outcome.UPDATED);
        assertThat(retry.status()).as("%s", retry).isEqualTo(409);
        assertThat(retry.errorCode()).isEqualTo("conflict");
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'")).isZero();
        assertThat(server.queryString("SELECT model FROM chat_messages WHERE id = '" + messageId + "'"))
                .isEqualTo(OTHER_MODEL);
        assertThat(server.queryLong("SELECT count(*) FROM chat_claims")).isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void withoutConfiguredModelsTheServerListsTheUpstreamsModels() throws Exception {
        upstream.enqueue(json(200, """
                {"object":"list","data":[{"id":"llama3.1:8b","object":"model","owned_by":"library"},
                                         {"id":"qwen2.5:7b","object":"model","owned_by":"library"}]}
                """));
        startServer(OpenAiCompatibleProvider.withUpstreamModels(upstream.url("/v1").toString(), null,
                Duration.ofSeconds(10)));
        upstream.enqueue(json(200, REPLY));

        ModelsResponse listed = server.api.get("/api/models", null).as(ModelsResponse.class);
        Response chat = chat(TestIds.next(), TestIds.next(), "qwen2.5:7b");

        assertThat(listed.models()).containsExactly(new ModelInfo("llama3.1:8b", "llama3.1:8b"),
                new ModelInfo("qwen2.5:7b", "qwen2.5:7b"));
        assertThat(listed.defaultModel()).isEqualTo("llama3.1:8b");
        assertThat(chat.status()).as("%s", chat).isEqualTo(200);
        assertThat(upstream.takeRequest().getUrl().encodedPath()).isEqualTo("/v1/models");
        assertThat(upstream.takeRequest().getUrl().encodedPath()).isEqualTo("/v1/chat/completions");
    }

    @Test
    void aStopClosesTheUpstreamStreamAndStoresTheTextSoFarCountedOnce() throws Exception {
        startServer();
        CountDownLatch closed = new CountDownLatch(1);
        String head = "data: {\"id\":\"gen-2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},"
                + "\"finish_reason\":null}]}\n\n"
                + "data: {\"id\":\"gen-2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"is\"},"
                + "\"finish_reason\":null}]}\n\n";
        upstream.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "text/event-stream")
                .body(new MockResponseBody() {
                    @Override
                    public long getContentLength() {
                        return -1;
                    }

                    @Override
                    public void writeTo(BufferedSink sink) throws IOException {
                        sink.writeUtf8(head).flush();
                        try {
                            // Keeps the stream open, as a model still writing, until a write finds it closed.
                            for (int i = 0; i < 3_000; i++) {
                                Thread.sleep(10);
                                sink.writeUtf8(": still thinking\n\n").flush();
                            }
                        } catch (IOException e) {
                            closed.countDown();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }).build());
        ChatRequest request = new ChatRequest(TestIds.next(), TestIds.next(), "Capital of France?", MODEL,
                server.now(), null, List.of());

        try (EventStream stream = EventStream.post(server.server.url(), "/api/chat", request, token)) {
            stream.next("start");
            StringBuilder text = new StringBuilder();
            while (text.length() < "Paris".length()) {
                text.append(stream.next("delta").json().path("text").asText());
            }
            Response stopped = server.api.post("/api/chat/" + request.messageId() + "/stop", null, token);

            assertThat(stopped.status()).as("%s", stopped).isEqualTo(200);
            assertThat(closed.await(10, TimeUnit.SECONDS)).as("the upstream saw its request closed").isTrue();
            JsonNode assistant = stopped.json().path("assistantMessage");
            assertThat(assistant.path("content").asText()).isEqualTo("Paris");
            assertThat(assistant.path("finishReason").asText()).isEqualTo("stopped");
            assertThat(stream.rest().get(0).type()).isEqualTo("done");
        }
        assertThat(upstream.takeRequest().getBody().utf8()).contains("\"stream\":true");
        assertThat(server.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.queryLong("SELECT output_tokens FROM user_usage_daily"))
                .isEqualTo(LocalModelProvider.countTokens("Paris"));
        assertThat(server.mismatches()).isEmpty();
    }
}
