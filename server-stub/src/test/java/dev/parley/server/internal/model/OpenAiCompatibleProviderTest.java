package dev.parley.server.internal.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Json;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OpenAiCompatibleProviderTest {
    private static final String KEY = "sk-or-v1-test-secret-4f9a";
    private static final String MODEL = "openai/gpt-4o-mini";
    /** Long enough that a loaded machine never times out a prompt answer; the timeout tests answer far later. */
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private static final String OPENROUTER_REPLY = """
            {"id":"gen-1745000000-AbCdEf","provider":"OpenAI","model":"openai/gpt-4o-mini",
             "object":"chat.completion","created":1745000000,
             "choices":[{"logprobs":null,"finish_reason":"stop","native_finish_reason":"stop","index":0,
               "message":{"role":"assistant","content":"Paris.","refusal":null,"reasoning":null}}],
             "usage":{"prompt_tokens":24,"completion_tokens":3,"total_tokens":27}}
            """;

    private static final CompletionRequest REQUEST = new CompletionRequest(MODEL, List.of(
            new ContextMessage(Role.SYSTEM, "Answer in one word."),
            new ContextMessage(Role.USER, "Capital of France?"),
            new ContextMessage(Role.ASSISTANT, "Paris."),
            new ContextMessage(Role.USER, "And of Italy?")));

    private final MockWebServer server = new MockWebServer();
    private OpenAiCompatibleProvider provider;

    @BeforeEach
    void startServer() throws IOException {
        server.start();
    }

    @AfterEach
    void stopServer() {
        if (provider != null) {
            provider.close();
        }
        server.close();
    }

    private OpenAiCompatibleProvider provider(String apiKey) {
        provider = new OpenAiCompatibleProvider(
                server.url("/api/v1").toString(), List.of(MODEL, "meta-llama/llama-3.1-8b-instruct"), apiKey, TIMEOUT);
        return provider;
    }

    private static MockResponse json(int code, String body) {
        return new MockResponse.Builder()
                .code(code)
                .addHeader("Content-Type", "application/json")
                .body(body)
                .build();
    }

    private static ModelException failure(OpenAiCompatibleProvider provider) {
        try {
            Completion unexpected = provider.complete(REQUEST);
            throw new AssertionError("expected a ModelException, got " + unexpected);
        } catch (ModelException e) {
            return e;
        }
    }

    @Test
    void returnsReplyTokenCountsAndIdOfOpenRouterReply() throws Exception {
        server.enqueue(json(200, OPENROUTER_REPLY));

        Completion completion = provider(KEY).complete(REQUEST);

        assertThat(completion.content()).isEqualTo("Paris.");
        assertThat(completion.inputTokens()).isEqualTo(24);
        assertThat(completion.outputTokens()).isEqualTo(3);
        assertThat(completion.completionId()).isEqualTo("gen-1745000000-AbCdEf");
        assertThat(completion.elapsedMs()).isNotNegative();
    }

    @Test
    void postsModelAndMessagesInOrderWithBearerKey() throws Exception {
        server.enqueue(json(200, OPENROUTER_REPLY));

        provider(KEY).complete(REQUEST);

        RecordedRequest sent = server.takeRequest(1, TimeUnit.SECONDS);
        assertThat(sent).isNotNull();
        assertThat(sent.getMethod()).isEqualTo("POST");
        assertThat(sent.getUrl().encodedPath()).isEqualTo("/api/v1/chat/completions");
        assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
        assertThat(sent.getHeaders().get("Content-Type")).startsWith("application/json");
        JsonNode body = Json.newMapper().readTree(sent.getBody().utf8());
        assertThat(body.path("model").asText()).isEqualTo(MODEL);
        assertThat(body.path("messages")).hasSize(4);
        assertThat(body.path("messages").findValuesAsText("role"))
                .containsExactly("system", "user", "assistant", "user");
        assertThat(body.path("messages").findValuesAsText("content"))
                .containsExactly("Answer in one word.", "Capital of France?", "Paris.", "And of Italy?");
    }

    @Test
    void baseUrlWithTrailingSlashPostsToTheSameEndpoint() throws Exception {
        server.enqueue(json(200, OPENROUTER_REPLY));
        provider = new OpenAiCompatibleProvider(server.url("/v1/").toString(), List.of(MODEL), null, TIMEOUT);

        provider.complete(REQUEST);

        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getUrl().encodedPath()).isEqualTo("/v1/chat/completions");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void sendsNoAuthorizationHeaderWhenKeyIsBlank(String blankKey) throws Exception {
        server.enqueue(json(200, OPENROUTER_REPLY));

        provider(blankKey).complete(REQUEST);

        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getHeaders().get("Authorization")).isNull();
    }

    @Test
    void sendsNoAuthorizationHeaderWhenKeyIsNull() throws Exception {
        server.enqueue(json(200, OPENROUTER_REPLY));

        provider(null).complete(REQUEST);

        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getHeaders().get("Authorization")).isNull();
    }

    @Test
    void replyWithoutUsageCountsZeroTokensAndStillSucceeds() throws Exception {
        // Ollama-shaped: no usage, no id.
        server.enqueue(json(200, """
                {"object":"chat.completion","choices":[{"index":0,
                  "message":{"role":"assistant","content":"Rome."},"finish_reason":"stop"}]}
                """));

        Completion completion = provider(null).complete(REQUEST);

        assertThat(completion.content()).isEqualTo("Rome.");
        assertThat(completion.inputTokens()).isZero();
        assertThat(completion.outputTokens()).isZero();
        assertThat(completion.completionId()).isNull();
    }

    @Test
    void elapsedTimeIncludesTheProvidersDelay() throws Exception {
        server.enqueue(new MockResponse.Builder()
                .code(200)
                .body(OPENROUTER_REPLY)
                .headersDelay(150, TimeUnit.MILLISECONDS)
                .build());

        long started = System.nanoTime();
        Completion completion = provider(KEY).complete(REQUEST);
        long wholeCallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(completion.elapsedMs()).isBetween(150L, wholeCallMs);
    }

    @ParameterizedTest
    @ValueSource(ints = {401, 403})
    void refusedKeyIsUpstreamErrorThatNeverShowsTheKey(int status) {
        server.enqueue(json(status,
                "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\",\"code\":" + status + "}}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).contains("refused the API key").doesNotContain(KEY).doesNotContain("sk-");
        assertThat(e.retryAfterSeconds()).isNull();
    }

    @Test
    void rateLimitCarriesRetryAfterSeconds() {
        server.enqueue(new MockResponse.Builder()
                .code(429)
                .addHeader("Retry-After", "7")
                .body("{\"error\":{\"message\":\"Rate limit exceeded\",\"code\":429}}")
                .build());

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.RATE_LIMITED);
        assertThat(e.retryAfterSeconds()).isEqualTo(7L);
    }

    @Test
    void rateLimitWithoutUsableRetryAfterHasNoDelay() {
        server.enqueue(new MockResponse.Builder()
                .code(429)
                .addHeader("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
                .build());

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.RATE_LIMITED);
        assertThat(e.retryAfterSeconds()).isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 503, 400, 404, 301})
    void otherStatusesAreUpstreamErrorsNamingTheStatus(int status) {
        server.enqueue(new MockResponse.Builder()
                .code(status)
                .addHeader("Location", "https://elsewhere.example/v1/chat/completions")
                .body("<html><body>upstream is down</body></html>")
                .build());

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).isEqualTo("the model provider answered HTTP " + status);
        assertThat(server.getRequestCount()).as("no redirect followed").isEqualTo(1);
    }

    @Test
    void providerErrorMessageIsShownTruncatedButNeverTheRawBody() {
        String longMessage = "This model's maximum context length is 8192 tokens. " + "x".repeat(400);
        server.enqueue(json(400,
                "{\"error\":{\"message\":\"" + longMessage + "\",\"type\":\"invalid_request_error\"},"
                        + "\"internal_trace\":\"node-7f3\"}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage())
                .startsWith("the model provider answered HTTP 400: This model's maximum context length is 8192")
                .doesNotContain("invalid_request_error")
                .doesNotContain("node-7f3");
        String shown = e.getMessage().substring("the model provider answered HTTP 400: ".length());
        assertThat(shown.codePointCount(0, shown.length())).isEqualTo(201); // 200 chars and the ellipsis
    }

    @Test
    void keyQuotedInAProviderMessageIsRedacted() {
        server.enqueue(json(400, "{\"error\":{\"message\":\"bad request for key " + KEY + "\"}}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.getMessage()).contains("bad request for key").doesNotContain(KEY);
    }

    /**
     * The call runs on a shared client whose own timeouts would wait the delay out, and whose interceptor records
     * the timeouts the call runs with: the provider's timeout must be the one applied, and must cut the call.
     */
    @Test
    void headersLaterThanTheTimeoutAreUpstreamTimeout() {
        server.enqueue(new MockResponse.Builder()
                .code(200)
                .body(OPENROUTER_REPLY)
                .headersDelay(8, TimeUnit.SECONDS)
                .build());
        List<Duration> callTimeouts = new CopyOnWriteArrayList<>();
        List<Duration> readTimeouts = new CopyOnWriteArrayList<>();
        OkHttpClient patient = new OkHttpClient.Builder()
                .callTimeout(Duration.ofMinutes(5))
                .readTimeout(Duration.ofMinutes(5))
                .addInterceptor(chain -> {
                    callTimeouts.add(Duration.ofNanos(chain.call().timeout().timeoutNanos()));
                    readTimeouts.add(Duration.ofMillis(chain.readTimeoutMillis()));
                    return chain.proceed(chain.request());
                })
                .build();
        provider = new OpenAiCompatibleProvider(server.url("/api/v1").toString(), List.of(MODEL), KEY, TIMEOUT,
                patient);

        ModelException e = failure(provider);

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_TIMEOUT);
        assertThat(e.getMessage()).isEqualTo("the model provider did not answer within 2 s");
        assertThat(e.getCause()).isInstanceOf(InterruptedIOException.class);
        assertThat(callTimeouts).as("call timeout applied").containsExactly(TIMEOUT);
        assertThat(readTimeouts).as("read timeout applied").containsExactly(TIMEOUT);
        assertThat(server.getRequestCount()).as("one request, not retried").isEqualTo(1);
    }

    @Test
    void bodyLaterThanTheTimeoutIsUpstreamTimeout() {
        server.enqueue(new MockResponse.Builder()
                .code(200)
                .body(OPENROUTER_REPLY)
                .bodyDelay(8, TimeUnit.SECONDS)
                .build());

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_TIMEOUT);
    }

    @Test
    void unreachableProviderIsUpstreamError() {
        String url = server.url("/v1").toString();
        server.close();
        provider = new OpenAiCompatibleProvider(url, List.of(MODEL), KEY, TIMEOUT);

        ModelException e = failure(provider);

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).isEqualTo("the connection to the model provider failed");
        assertThat(e.getCause()).isInstanceOf(IOException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"choices\":[{\"message\":{\"content\":\"Paris.\"}}",   // truncated JSON
        "<html>Bad gateway</html>",
        "",
        "[]",
        "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[]}}]}",
        "{\"choices\":[{\"text\":\"Paris.\"}]}"
    })
    void unreadableSuccessBodyIsUpstreamError(String body) {
        server.enqueue(json(200, body));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).isEqualTo("the model provider sent a reply that is not an OpenAI chat completion");
    }

    @Test
    void successWithEmptyChoicesIsUpstreamError() {
        server.enqueue(json(200, "{\"id\":\"gen-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":5}}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).isEqualTo("the model provider sent no reply");
    }

    @Test
    void successCarryingAnErrorObjectShowsItsMessage() {
        // OpenRouter can answer 200 with an error when the routed provider fails mid-request.
        server.enqueue(json(200, "{\"error\":{\"message\":\"Provider returned error\",\"code\":502}}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).isEqualTo("the model provider sent no reply: Provider returned error");
    }

    @Test
    void modelsAndDefaultComeFromConfigurationInOrder() {
        OpenAiCompatibleProvider configured = provider(KEY);

        assertThat(configured.models()).containsExactly(
                new ModelInfo(MODEL, MODEL),
                new ModelInfo("meta-llama/llama-3.1-8b-instruct", "meta-llama/llama-3.1-8b-instruct"));
        assertThat(configured.defaultModel()).isEqualTo(MODEL);
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void requestForAModelNotOfferedIsRejectedBeforeCallingTheProvider() {
        OpenAiCompatibleProvider configured = provider(KEY);

        assertThatThrownBy(() -> configured.complete(new CompletionRequest("gpt-5", REQUEST.messages())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gpt-5");
        assertThat(server.getRequestCount()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ftp://models.example/v1", "openrouter.ai/api/v1", "not a url", "", "file:///tmp/v1"})
    void baseUrlThatIsNotHttpIsRejectedNamingTheSetting(String baseUrl) {
        assertThatThrownBy(() -> new OpenAiCompatibleProvider(baseUrl, List.of(MODEL), null, TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--model-base-url");
    }

    @Test
    void missingBaseUrlIsRejectedNamingTheSetting() {
        assertThatThrownBy(() -> new OpenAiCompatibleProvider(null, List.of(MODEL), null, TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--model-base-url");
    }

    @Test
    void emptyModelListIsRejected() {
        String url = server.url("/v1").toString();

        assertThatThrownBy(() -> new OpenAiCompatibleProvider(url, List.of(), null, TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one model");
    }

    @Test
    void nonPositiveTimeoutIsRejected() {
        String url = server.url("/v1").toString();

        assertThatThrownBy(() -> new OpenAiCompatibleProvider(url, List.of(MODEL), null, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout");
    }
}
