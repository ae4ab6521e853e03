package dev.parley.server.internal.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Json;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.protocol.Limits;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
import org.junit.jupiter.params.provider.CsvSource;
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
    void temperatureAndMaxTokensAreSentOnlyWhenSet() throws Exception {
        server.enqueue(json(200, OPENROUTER_REPLY));
        server.enqueue(json(200, OPENROUTER_REPLY));
        OpenAiCompatibleProvider configured = provider(KEY);

        configured.complete(new CompletionRequest(MODEL, REQUEST.messages(), 0.25, 300));
        configured.complete(REQUEST);

        JsonNode asked = Json.newMapper().readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
        assertThat(asked.path("temperature").isNumber()).isTrue();
        assertThat(asked.path("temperature").asDouble()).isEqualTo(0.25);
        assertThat(asked.path("max_tokens").isInt()).isTrue();
        assertThat(asked.path("max_tokens").asInt()).isEqualTo(300);
        JsonNode plain = Json.newMapper().readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
        assertThat(plain.has("temperature")).isFalse();
        assertThat(plain.has("max_tokens")).isFalse();
        assertThat(plain.path("messages")).hasSize(4);
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

    @ParameterizedTest
    @CsvSource({"stop,STOP", "length,LENGTH", "content_filter,CONTENT_FILTER", "eos,STOP"})
    void finishReasonOfAWholeReplyIsMapped(String wire, FinishReason expected) throws Exception {
        server.enqueue(json(200, OPENROUTER_REPLY.replace("\"finish_reason\":\"stop\"",
                "\"finish_reason\":\"" + wire + "\"")));

        Completion completion = provider(KEY).complete(REQUEST);

        assertThat(completion.finishReason()).isEqualTo(expected);
    }

    @Test
    void wholeReplyWithoutFinishReasonIsFinished() throws Exception {
        server.enqueue(json(200, "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                + "\"content\":\"Rome.\"}}]}"));

        assertThat(provider(null).complete(REQUEST).finishReason()).isEqualTo(FinishReason.STOP);
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
        "{\"choices\":[{\"text\":\"Paris.\"}]}"
    })
    void unreadableSuccessBodyIsUpstreamError(String body) {
        server.enqueue(json(200, body));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).isEqualTo("the model provider sent a reply that is not an OpenAI chat completion");
        assertThat(e.retryable()).as("a base URL that leads elsewhere leads there again").isFalse();
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

    // ----------------------------------------------------------------- retryable (SPEC §5)

    @ParameterizedTest
    @ValueSource(ints = {401, 403})
    void refusedKeyIsNotRetryable(int status) {
        server.enqueue(json(status, "{\"error\":{\"message\":\"No auth credentials found\",\"code\":" + status + "}}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.retryable()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // OpenAI
        "400|{\"error\":{\"message\":\"Please reduce the length of the messages.\",\"type\":\"invalid_request_error\","
                + "\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}",
        // vLLM
        "400|{\"object\":\"error\",\"message\":\"x\",\"error\":{\"message\":\"This model's maximum context length is 4096"
                + " tokens. However, you requested 5000 tokens.\"}}",
        // llama.cpp server
        "400|{\"error\":{\"code\":400,\"message\":\"the request exceeds the available context size, try increasing it\","
                + "\"type\":\"exceed_context_size_error\"}}",
        // a server that answers it with a 5xx, which would otherwise be retryable
        "500|{\"error\":\"prompt is too long: 210000 tokens > 200000 maximum\"}",
        // OpenRouter, 200 with an error object
        "200|{\"error\":{\"message\":\"This endpoint's maximum context length is 8192 tokens.\",\"code\":502}}"
    })
    void contextLengthErrorIsNotRetryableWhateverItsStatus(String statusAndBody) {
        String[] parts = statusAndBody.split("\\|", 2);
        server.enqueue(json(Integer.parseInt(parts[0]), parts[1]));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.retryable()).as(e.getMessage()).isFalse();
    }

    @Test
    void notFoundFromAWrongBaseUrlOrAnUnknownModelIsNotRetryable() {
        server.enqueue(json(404, "{\"error\":{\"message\":\"model 'gpt-4o-mini' not found\"}}"));
        server.enqueue(new MockResponse.Builder().code(404).body("404 page not found").build());

        ModelException unknownModel = failure(provider(KEY));
        ModelException wrongBaseUrl = failure(provider);

        assertThat(unknownModel.getMessage()).isEqualTo("the model provider answered HTTP 404: model 'gpt-4o-mini' not found");
        assertThat(unknownModel.retryable()).isFalse();
        assertThat(wrongBaseUrl.retryable()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 402, 422, 301})
    void otherRefusalsOfTheRequestAreNotRetryable(int status) {
        server.enqueue(json(status, "{\"error\":{\"message\":\"temperature must be at most 2\"}}"));

        assertThat(failure(provider(KEY)).retryable()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 502, 503, 504})
    void serverErrorsOfTheModelAreRetryable(int status) {
        server.enqueue(json(status, "{\"error\":{\"message\":\"upstream overloaded\"}}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.retryable()).isTrue();
    }

    @Test
    void rateLimitTimeoutAndBrokenConnectionAreRetryable() {
        server.enqueue(json(429, "{\"error\":{\"message\":\"Rate limit exceeded\"}}"));
        server.enqueue(new MockResponse.Builder().code(200).body(OPENROUTER_REPLY).bodyDelay(8, TimeUnit.SECONDS)
                .build());

        ModelException limited = failure(provider(KEY));
        ModelException timedOut = failure(provider);
        String url = server.url("/v1").toString();
        server.close();
        provider.close();
        provider = new OpenAiCompatibleProvider(url, List.of(MODEL), KEY, TIMEOUT);
        ModelException unreachable = failure(provider);

        assertThat(limited.code()).isEqualTo(ErrorCode.RATE_LIMITED);
        assertThat(timedOut.code()).isEqualTo(ErrorCode.UPSTREAM_TIMEOUT);
        assertThat(unreachable.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(List.of(limited, timedOut, unreachable)).allSatisfy(e -> assertThat(e.retryable()).isTrue());
    }

    // ----------------------------------------------------------------- empty and tool-call-only replies

    @ParameterizedTest
    @ValueSource(strings = {"\"\"", "\"  \\n\\t \"", "null"})
    void emptyReplyIsARetryableUpstreamError(String content) {
        server.enqueue(json(200, "{\"id\":\"gen-2\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\","
                + "\"message\":{\"role\":\"assistant\",\"content\":" + content + "}}],"
                + "\"usage\":{\"prompt_tokens\":24,\"completion_tokens\":0}}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).isEqualTo("the model sent an empty reply");
        assertThat(e.retryable()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "\"\""})
    void replyHoldingOnlyToolCallsIsNotRetryable(String content) {
        server.enqueue(json(200, "{\"choices\":[{\"index\":0,\"finish_reason\":\"tool_calls\",\"message\":{"
                + "\"role\":\"assistant\",\"content\":" + content + ",\"tool_calls\":[{\"id\":\"call_1\","
                + "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]}}]}"));

        ModelException e = failure(provider(KEY));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).contains("tool calls");
        assertThat(e.retryable()).isFalse();
    }

    // ----------------------------------------------------------------- the operator's log

    @Test
    void failuresAreLoggedAtWarnWithTheKeyMasked() throws Exception {
        server.enqueue(json(401, "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}"));
        server.enqueue(json(503, "{\"error\":{\"message\":\"no capacity for key " + KEY + "\"}}"));
        OpenAiCompatibleProvider configured = provider(KEY);

        String log = standardErrorOf(() -> {
            failure(configured);
            failure(configured);
        });

        assertThat(log).contains("WARN")
                .contains("upstream_error (not retryable)", "refused the API key (HTTP 401)")
                .contains("upstream_error (retryable)", "HTTP 503: no capacity for key ***")
                .contains(server.url("/api/v1/chat/completions").toString(), MODEL)
                .contains("…" + KEY.substring(KEY.length() - 4));
        assertThat(log).doesNotContain(KEY).doesNotContain("Bearer").doesNotContain("Authorization")
                .doesNotContain(KEY.substring(0, 12));
    }

    @Test
    void deadUpstreamIsLoggedWithTheCause() throws Exception {
        String url = server.url("/v1").toString();
        server.close();
        provider = new OpenAiCompatibleProvider(url, List.of(MODEL), KEY, TIMEOUT);

        String log = standardErrorOf(() -> failure(provider));

        assertThat(log).contains("WARN", "the connection to the model provider failed", "ConnectException")
                .doesNotContain(KEY);
    }

    @Test
    void maskedKeyShowsOnlyItsLastFourCharacters() {
        assertThat(OpenAiCompatibleProvider.masked(KEY)).isEqualTo("…4f9a");
        assertThat(OpenAiCompatibleProvider.masked("short-key")).isEqualTo("***");
        assertThat(OpenAiCompatibleProvider.masked(null)).isEqualTo("(none)");
    }

    // ----------------------------------------------------------------- --models, checked at start

    @Test
    void configuredModelIdsAreTrimmed() {
        provider = new OpenAiCompatibleProvider(server.url("/v1").toString(), List.of(" " + MODEL, "llama3.1:8b\t"),
                null, TIMEOUT);

        assertThat(provider.models()).extracting(ModelInfo::id).containsExactly(MODEL, "llama3.1:8b");
        assertThat(provider.defaultModel()).isEqualTo(MODEL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void emptyModelIdIsRefusedNamingTheOption(String empty) {
        String url = server.url("/v1").toString();

        assertThatThrownBy(() -> new OpenAiCompatibleProvider(url, List.of(MODEL, empty), null, TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--models").hasMessageContaining("empty model id");
    }

    @Test
    void duplicateModelIdIsRefusedNamingIt() {
        String url = server.url("/v1").toString();

        assertThatThrownBy(() -> new OpenAiCompatibleProvider(url, List.of(MODEL, "llama3.1:8b", " " + MODEL), null,
                TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--models lists model id '" + MODEL + "' twice");
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt 4o", "gpt-4o\tmini", "llama3.1;8b", "modèle"})
    void modelIdWithWhitespaceOrAnUnusableCharacterIsRefusedNamingIt(String id) {
        String url = server.url("/v1").toString();

        assertThatThrownBy(() -> new OpenAiCompatibleProvider(url, List.of(id), null, TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--models: '" + id + "' is not a model id")
                .hasMessageContaining("1 to 200 characters");
    }

    @Test
    void modelIdOverTheLengthLimitIsRefusedNamingIt() {
        String url = server.url("/v1").toString();
        String longest = "m".repeat(Limits.MAX_MODEL_CHARS);

        provider = new OpenAiCompatibleProvider(url, List.of(longest), null, TIMEOUT);
        assertThatThrownBy(() -> new OpenAiCompatibleProvider(url, List.of(longest + "m"), null, TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--models").hasMessageContaining("'mmmm")
                .hasMessageContaining("201 characters").hasMessageContaining("at most 200");
    }

    // ----------------------------------------------------------------- the upstream's model list

    private static final String MODEL_LIST = """
            {"object":"list","data":[
              {"id":"llama3.1:8b","object":"model","created":1721000000,"owned_by":"library"},
              {"id":"openai/gpt-4o-mini","name":"OpenAI: GPT-4o-mini","object":"model"},
              {"id":"llama3.1:8b","object":"model"}]}
            """;

    @Test
    void withoutConfiguredModelsTheUpstreamListIsOfferedInItsOrder() throws Exception {
        server.enqueue(json(200, MODEL_LIST));

        provider = OpenAiCompatibleProvider.withUpstreamModels(server.url("/api/v1/").toString(), KEY, TIMEOUT);

        assertThat(provider.models()).containsExactly(
                new ModelInfo("llama3.1:8b", "llama3.1:8b"),
                new ModelInfo("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini"));
        assertThat(provider.defaultModel()).isEqualTo("llama3.1:8b");
        RecordedRequest asked = server.takeRequest(1, TimeUnit.SECONDS);
        assertThat(asked.getMethod()).isEqualTo("GET");
        assertThat(asked.getUrl().encodedPath()).isEqualTo("/api/v1/models");
        assertThat(asked.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);

        server.enqueue(json(200, OPENROUTER_REPLY));
        assertThat(provider.complete(new CompletionRequest("openai/gpt-4o-mini", REQUEST.messages())).content())
                .isEqualTo("Paris.");
        assertThat(server.takeRequest(1, TimeUnit.SECONDS).getUrl().encodedPath())
                .isEqualTo("/api/v1/chat/completions");
    }

    @Test
    void upstreamListLeavesOutIdsParleyCannotOffer() throws Exception {
        server.enqueue(json(200, "{\"data\":[{\"id\":\"My Model.gguf\"},{\"id\":42},{\"id\":\"qwen2.5:7b\"}]}"));

        String log = standardErrorOf(() ->
                provider = OpenAiCompatibleProvider.withUpstreamModels(server.url("/v1").toString(), null, TIMEOUT));

        assertThat(provider.models()).extracting(ModelInfo::id).containsExactly("qwen2.5:7b");
        assertThat(log).contains("WARN", "'My Model.gguf'", "42");
    }

    @Test
    void unreachableUpstreamFailsTheStartPlainly() {
        String url = server.url("/v1").toString();
        server.close();

        assertThatThrownBy(() -> OpenAiCompatibleProvider.withUpstreamModels(url, KEY, TIMEOUT))
                .isInstanceOf(ModelException.class)
                .hasMessageStartingWith("cannot reach the model provider at " + url)
                .hasMessageContaining("--model-base-url").hasMessageContaining("--models")
                .hasMessageNotContaining(KEY);
    }

    @ParameterizedTest
    @ValueSource(ints = {401, 403})
    void refusedKeyAtTheModelListFailsTheStartNamingTheVariable(int status) {
        server.enqueue(json(status, "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}"));
        String url = server.url("/v1").toString();

        assertThatThrownBy(() -> OpenAiCompatibleProvider.withUpstreamModels(url, KEY, TIMEOUT))
                .isInstanceOf(ModelException.class)
                .hasMessage("the model provider at " + url + " refused the API key (HTTP " + status
                        + " to GET /models); check PARLEY_MODEL_API_KEY");
    }

    @ParameterizedTest
    @ValueSource(strings = {"404|{\"detail\":\"Not Found\"}", "200|<html><body>Welcome to nginx!</body></html>",
            "200|{\"models\":[\"a\"]}", "405|"})
    void baseUrlWithoutAnOpenAiModelListFailsTheStartAsNotOpenAiCompatible(String statusAndBody) {
        String[] parts = statusAndBody.split("\\|", 2);
        server.enqueue(new MockResponse.Builder().code(Integer.parseInt(parts[0])).body(parts[1]).build());
        String url = server.url("/").toString();

        assertThatThrownBy(() -> OpenAiCompatibleProvider.withUpstreamModels(url, null, TIMEOUT))
                .isInstanceOf(ModelException.class)
                .hasMessageStartingWith("the model provider at " + url)
                .hasMessageContaining("not an OpenAI-compatible API").hasMessageContaining("--model-base-url");
    }

    @Test
    void emptyUpstreamListFailsTheStart() {
        server.enqueue(json(200, "{\"object\":\"list\",\"data\":[]}"));
        String url = server.url("/v1").toString();

        assertThatThrownBy(() -> OpenAiCompatibleProvider.withUpstreamModels(url, null, TIMEOUT))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("lists no model").hasMessageContaining("--models");
    }

    /** What this thread's code wrote to standard error (where slf4j-simple logs) while {@code action} ran. */
    static String standardErrorOf(ThrowingRunnable action) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        original.print(text); // still in the test's output
        return text;
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
