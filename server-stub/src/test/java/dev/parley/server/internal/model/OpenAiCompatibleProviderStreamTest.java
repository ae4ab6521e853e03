package dev.parley.server.internal.model;

import static dev.parley.server.internal.model.OpenAiCompatibleProviderTest.standardErrorOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Json;
import dev.parley.protocol.Role;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelStream;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link OpenAiCompatibleProvider#stream}: the server-sent events of an OpenAI-compatible upstream. */
class OpenAiCompatibleProviderStreamTest {
    private static final String KEY = "sk-or-v1-test-secret-4f9a";
    private static final String MODEL = "openai/gpt-4o-mini";
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final CompletionRequest REQUEST = new CompletionRequest(MODEL, List.of(
            new ContextMessage(Role.SYSTEM, "Answer in one word."),
            new ContextMessage(Role.USER, "Capital of France?")));
    private static final String USAGE = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":24,\"completion_tokens\":3,\"total_tokens\":27}}";

    private final MockWebServer server = new MockWebServer();
    /** Lets a held response body end; opened after each test so the server can stop. */
    private final CountDownLatch release = new CountDownLatch(1);
    private OpenAiCompatibleProvider provider;

    @BeforeEach
    void startServer() throws IOException {
        server.start();
        provider = new OpenAiCompatibleProvider(server.url("/v1").toString(), List.of(MODEL), KEY, TIMEOUT);
    }

    @AfterEach
    void stopServer() {
        release.countDown();
        provider.close();
        server.close();
    }

    /** A chunk of OpenAI's stream: {@code content} (JSON, or null for none) and {@code finishReason} (or null). */
    private static String chunk(String content, String finishReason) {
        return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{"
                + "\"index\":0,\"delta\":{" + (content == null ? "" : "\"content\":" + content) + "},"
                + "\"finish_reason\":" + (finishReason == null ? "null" : "\"" + finishReason + "\"") + "}],"
                + "\"usage\":null}";
    }

    private static String events(String... data) {
        StringBuilder body = new StringBuilder();
        for (String event : data) {
            body.append("data: ").append(event).append("\n\n");
        }
        return body.toString();
    }

    private static MockResponse sse(String body) {
        return new MockResponse.Builder().code(200).addHeader("Content-Type", "text/event-stream").body(body).build();
    }

    private static MockResponse sse(MockResponseBody body) {
        return new MockResponse.Builder().code(200).addHeader("Content-Type", "text/event-stream").body(body).build();
    }

    private static Completion resultOf(ModelStream stream) throws Exception {
        return stream.result().get(10, TimeUnit.SECONDS);
    }

    private static ModelException failureOf(ModelStream stream) throws Exception {
        try {
            Completion unexpected = stream.result().get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected a ModelException, got " + unexpected);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(ModelException.class);
            return (ModelException) e.getCause();
        }
    }

    @Test
    void piecesComeInOrderAndTheUsageGivesTheCounts() throws Exception {
        server.enqueue(sse(events(chunk("\"\"", null), chunk("\"Par\"", null), chunk("\"is\"", null),
                chunk("\".\"", null), chunk(null, "stop"), USAGE, "[DONE]")));
        List<String> pieces = new CopyOnWriteArrayList<>();

        Completion completion = resultOf(provider.stream(REQUEST, pieces::add));

        assertThat(pieces).containsExactly("Par", "is", ".");
        assertThat(String.join("", pieces)).isEqualTo(completion.content()).isEqualTo("Paris.");
        assertThat(completion.inputTokens()).isEqualTo(24);
        assertThat(completion.outputTokens()).isEqualTo(3);
        assertThat(completion.completionId()).isEqualTo("chatcmpl-1");
        assertThat(completion.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void asksForAStreamWithUsage() throws Exception {
        server.enqueue(sse(events(chunk("\"Paris.\"", "stop"), USAGE, "[DONE]")));

        resultOf(provider.stream(REQUEST, piece -> { }));

        RecordedRequest sent = server.takeRequest(1, TimeUnit.SECONDS);
        assertThat(sent.getUrl().encodedPath()).isEqualTo("/v1/chat/completions");
        assertThat(sent.getHeaders().get("Accept")).isEqualTo("text/event-stream");
        assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
        JsonNode body = Json.newMapper().readTree(sent.getBody().utf8());
        assertThat(body.path("stream").asBoolean()).isTrue();
        assertThat(body.path("stream_options").path("include_usage").asBoolean()).isTrue();
        assertThat(body.path("model").asText()).isEqualTo(MODEL);
        assertThat(body.path("messages").findValuesAsText("content"))
                .containsExactly("Answer in one word.", "Capital of France?");
    }

    @Test
    void streamedRequestCarriesTemperatureAndMaxTokensOnlyWhenSet() throws Exception {
        server.enqueue(sse(events(chunk("\"Par\"", "length"), USAGE, "[DONE]")));
        server.enqueue(sse(events(chunk("\"Paris.\"", "stop"), USAGE, "[DONE]")));

        Completion cut = resultOf(provider.stream(new CompletionRequest(MODEL, REQUEST.messages(), 1.5, 1),
                piece -> { }));
        resultOf(provider.stream(REQUEST, piece -> { }));

        assertThat(cut.finishReason()).isEqualTo(FinishReason.LENGTH);
        JsonNode asked = Json.newMapper().readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
        assertThat(asked.path("stream").asBoolean()).isTrue();
        assertThat(asked.path("temperature").asDouble()).isEqualTo(1.5);
        assertThat(asked.path("max_tokens").isInt()).isTrue();
        assertThat(asked.path("max_tokens").asInt()).isEqualTo(1);
        JsonNode plain = Json.newMapper().readTree(server.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
        assertThat(plain.path("stream").asBoolean()).isTrue();
        assertThat(plain.has("temperature")).isFalse();
        assertThat(plain.has("max_tokens")).isFalse();
    }

    @Test
    void streamWithoutUsageIsCountedWithTheTokenizerAndWarned() throws Exception {
        server.enqueue(sse(events(chunk("\"Paris\"", null), chunk("\" it is.\"", "stop"), "[DONE]")));
        Completion[] completion = new Completion[1];

        String log = standardErrorOf(() -> completion[0] = resultOf(provider.stream(REQUEST, piece -> { })));

        assertThat(completion[0].content()).isEqualTo("Paris it is.");
        assertThat(completion[0].inputTokens()).isEqualTo(LocalModelProvider.countTokens("Answer in one word.")
                + LocalModelProvider.countTokens("Capital of France?")).isPositive();
        assertThat(completion[0].outputTokens()).isEqualTo(LocalModelProvider.countTokens("Paris it is."));
        assertThat(log).contains("WARN", "without token usage", "tokenizer", MODEL, server.url("/v1").toString())
                .doesNotContain(KEY).doesNotContain(KEY.substring(KEY.length() - 4));
    }

    @ParameterizedTest
    @CsvSource({"length,LENGTH", "content_filter,CONTENT_FILTER", "stop,STOP", "tool_calls,STOP", "eos,STOP"})
    void finishReasonIsMapped(String wire, FinishReason expected) throws Exception {
        server.enqueue(sse(events(chunk("\"Paris, the capital\"", wire), USAGE, "[DONE]")));

        Completion completion = resultOf(provider.stream(REQUEST, piece -> { }));

        assertThat(completion.finishReason()).isEqualTo(expected);
    }

    @Test
    void streamClosedAfterTheFinishReasonWithoutDoneIsWhole() throws Exception {
        server.enqueue(sse(events(chunk("\"Paris.\"", "length"))));

        Completion completion = resultOf(provider.stream(REQUEST, piece -> { }));

        assertThat(completion.content()).isEqualTo("Paris.");
        assertThat(completion.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void streamEndingWithoutDoneOrFinishReasonIsARetryableUpstreamError() throws Exception {
        server.enqueue(sse(events(chunk("\"Par\"", null), chunk("\"is\"", null))));
        List<String> pieces = new CopyOnWriteArrayList<>();

        ModelException e = failureOf(provider.stream(REQUEST, pieces::add));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.getMessage()).isEqualTo("the model's stream ended early");
        assertThat(e.retryable()).isTrue();
        assertThat(pieces).containsExactly("Par", "is");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // OpenRouter, when the routed provider fails mid-stream
        "{\"error\":{\"message\":\"Provider returned error\",\"code\":502}}|true|Provider returned error",
        "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens.\",\"code\":400}}|false"
                + "|This model's maximum context length is 8192 tokens.",
        "{\"error\":{\"message\":\"invalid temperature\",\"code\":400}}|false|invalid temperature",
        "{\"error\":{\"message\":\"overloaded\",\"code\":\"server_busy\"}}|true|overloaded"
    })
    void errorEventInsideASuccessIsAModelException(String event, boolean retryable, String message) throws Exception {
        server.enqueue(sse(events(chunk("\"Par\"", null), event, "[DONE]")));

        ModelException e = failureOf(provider.stream(REQUEST, piece -> { }));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_ERROR);
        assertThat(e.retryable()).isEqualTo(retryable);
        assertThat(e.getMessage()).isEqualTo("the model provider broke off the reply: " + message);
    }

    @Test
    void errorEventBeforeAnyTextSaysNoReplyCame() throws Exception {
        server.enqueue(sse("event: error\ndata: {\"message\":\"no capacity for key " + KEY + "\",\"code\":503}\n\n"));

        ModelException e = failureOf(provider.stream(REQUEST, piece -> { }));

        assertThat(e.getMessage()).isEqualTo("the model provider sent no reply: no capacity for key ***");
        assertThat(e.retryable()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"\"", "\"  \\n \"", "null"})
    void emptyStreamedReplyIsARetryableUpstreamError(String content) throws Exception {
        server.enqueue(sse(events(chunk(content, "stop"), USAGE, "[DONE]")));

        ModelException e = failureOf(provider.stream(REQUEST, piece -> { }));

        assertThat(e.getMessage()).isEqualTo("the model sent an empty reply");
        assertThat(e.retryable()).isTrue();
    }

    @Test
    void replyOfOnlyToolCallsIsNotRetryable() throws Exception {
        String toolCall = "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":"
                + "{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}";
        server.enqueue(sse(events(toolCall, chunk(null, "tool_calls"), "[DONE]")));

        ModelException e = failureOf(provider.stream(REQUEST, piece -> { }));

        assertThat(e.getMessage()).contains("tool calls");
        assertThat(e.retryable()).isFalse();
    }

    @Test
    void statusBeforeTheStreamIsMappedAsForAWholeReply() throws Exception {
        server.enqueue(new MockResponse.Builder().code(401)
                .body("{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}").build());
        server.enqueue(new MockResponse.Builder().code(429).addHeader("Retry-After", "7").build());
        server.enqueue(new MockResponse.Builder().code(503)
                .body("{\"error\":{\"message\":\"upstream overloaded\"}}").build());
        server.enqueue(new MockResponse.Builder().code(400)
                .body("{\"error\":{\"message\":\"model 'x' is not a chat model\"}}").build());

        ModelException refused = failureOf(provider.stream(REQUEST, piece -> { }));
        ModelException limited = failureOf(provider.stream(REQUEST, piece -> { }));
        ModelException overloaded = failureOf(provider.stream(REQUEST, piece -> { }));
        ModelException badRequest = failureOf(provider.stream(REQUEST, piece -> { }));

        assertThat(refused.getMessage()).isEqualTo("the model provider refused the API key (HTTP 401)");
        assertThat(refused.retryable()).isFalse();
        assertThat(limited.code()).isEqualTo(ErrorCode.RATE_LIMITED);
        assertThat(limited.retryAfterSeconds()).isEqualTo(7L);
        assertThat(overloaded.getMessage()).isEqualTo("the model provider answered HTTP 503: upstream overloaded");
        assertThat(overloaded.retryable()).isTrue();
        assertThat(badRequest.getMessage())
                .isEqualTo("the model provider answered HTTP 400: model 'x' is not a chat model");
        assertThat(badRequest.retryable()).isFalse();
    }

    @Test
    void failuresAreLoggedOnceWithTheKeyMasked() throws Exception {
        server.enqueue(sse(events(chunk("\"Par\"", null))));

        String log = standardErrorOf(() -> failureOf(provider.stream(REQUEST, piece -> { })));

        assertThat(log).contains("WARN", "upstream_error (retryable)", "the model's stream ended early",
                "…" + KEY.substring(KEY.length() - 4)).doesNotContain(KEY);
        assertThat(log.split("model call failed", -1)).hasSize(2);
    }

    @Test
    void serverThatIgnoresStreamingAnswersWithOnePiece() throws Exception {
        server.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
                .body("{\"id\":\"gen-1\",\"choices\":[{\"index\":0,\"finish_reason\":\"length\",\"message\":{"
                        + "\"role\":\"assistant\",\"content\":\"Paris.\"}}],"
                        + "\"usage\":{\"prompt_tokens\":24,\"completion_tokens\":3}}")
                .build());
        List<String> pieces = new CopyOnWriteArrayList<>();

        Completion completion = resultOf(provider.stream(REQUEST, pieces::add));

        assertThat(pieces).containsExactly("Paris.");
        assertThat(completion.outputTokens()).isEqualTo(3);
        assertThat(completion.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void surrogatePairSplitAcrossChunksArrivesInOnePiece() throws Exception {
        server.enqueue(sse(events(chunk("\"Hi \\ud83d\"", null), chunk("\"\\ude00!\"", "stop"), "[DONE]")));
        List<String> pieces = new CopyOnWriteArrayList<>();

        Completion completion = resultOf(provider.stream(REQUEST, pieces::add));

        assertThat(pieces).containsExactly("Hi ", "\uD83D\uDE00!");
        assertThat(completion.content()).isEqualTo("Hi \uD83D\uDE00!");
    }

    @Test
    void streamReturnsBeforeTheUpstreamAnswers() throws Exception {
        server.enqueue(sse(events(chunk("\"Paris.\"", "stop"), "[DONE]")).newBuilder()
                .headersDelay(1, TimeUnit.SECONDS).build());

        long started = System.nanoTime();
        ModelStream stream = provider.stream(REQUEST, piece -> { });
        long returnedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(stream.result()).isNotDone();
        assertThat(returnedMs).isLessThan(1000);
        assertThat(resultOf(stream).content()).isEqualTo("Paris.");
    }

    @Test
    void streamThatStallsPastTheTimeoutIsUpstreamTimeout() throws Exception {
        server.enqueue(sse(held(events(chunk("\"Par\"", null)), null)));
        List<String> pieces = new CopyOnWriteArrayList<>();

        ModelException e = failureOf(provider.stream(REQUEST, pieces::add));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_TIMEOUT);
        assertThat(e.getMessage()).isEqualTo("the model provider's stream stalled for more than 2 s");
        assertThat(e.retryable()).isTrue();
        assertThat(pieces).containsExactly("Par");
    }

    @Test
    void headersLaterThanTheTimeoutAreUpstreamTimeout() throws Exception {
        server.enqueue(sse(events(chunk("\"Paris.\"", "stop"), "[DONE]")).newBuilder()
                .headersDelay(8, TimeUnit.SECONDS).build());

        ModelException e = failureOf(provider.stream(REQUEST, piece -> { }));

        assertThat(e.code()).isEqualTo(ErrorCode.UPSTREAM_TIMEOUT);
        assertThat(e.getMessage()).isEqualTo("the model provider did not answer within 2 s");
    }

    /**
     * The upstream keeps the stream open, writing keep-alive comments, until its connection is closed; it counts
     * {@code closed} down when a write fails. Cancelling must close it, and keep the text and the tokens so far.
     */
    @Test
    void cancelClosesTheUpstreamConnectionAndKeepsTheTextSoFar() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        server.enqueue(sse(held(events(chunk("\"Par\"", null), chunk("\"is\"", null)), closed)));
        List<String> pieces = new CopyOnWriteArrayList<>();
        CountDownLatch two = new CountDownLatch(2);

        ModelStream stream = provider.stream(REQUEST, piece -> {
            pieces.add(piece);
            two.countDown();
        });
        assertThat(two.await(10, TimeUnit.SECONDS)).isTrue();
        stream.cancel();

        Completion stopped = stream.result().getNow(null);
        assertThat(stopped).as("completed by cancel()").isNotNull();
        assertThat(stopped.content()).isEqualTo("Paris").isEqualTo(String.join("", pieces));
        assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOPPED);
        assertThat(stopped.outputTokens()).isEqualTo(LocalModelProvider.countTokens("Paris"));
        assertThat(stopped.inputTokens()).isEqualTo(LocalModelProvider.countTokens("Answer in one word.")
                + LocalModelProvider.countTokens("Capital of France?"));
        assertThat(closed.await(10, TimeUnit.SECONDS)).as("the upstream saw its connection closed").isTrue();
        assertThat(pieces).containsExactly("Par", "is");
    }

    @Test
    void cancelAfterTheUsageCameKeepsTheUpstreamCounts() throws Exception {
        // vLLM with continuous usage stats: usage in every chunk.
        String counted = "{\"id\":\"c-2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},"
                + "\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":1}}";
        server.enqueue(sse(held(events(counted), new CountDownLatch(1))));
        CountDownLatch one = new CountDownLatch(1);

        ModelStream stream = provider.stream(REQUEST, piece -> one.countDown());
        assertThat(one.await(10, TimeUnit.SECONDS)).isTrue();
        stream.cancel();

        Completion stopped = stream.result().getNow(null);
        assertThat(stopped.inputTokens()).isEqualTo(31);
        assertThat(stopped.outputTokens()).isEqualTo(1);
        assertThat(stopped.completionId()).isEqualTo("c-2");
    }

    @Test
    void cancelAfterTheEndChangesNothing() throws Exception {
        server.enqueue(sse(events(chunk("\"Paris.\"", "stop"), USAGE, "[DONE]")));
        ModelStream stream = provider.stream(REQUEST, piece -> { });
        Completion completion = resultOf(stream);

        stream.cancel();

        assertThat(stream.result().get()).isSameAs(completion);
        assertThat(completion.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void unknownModelIsRefusedBeforeCallingTheProvider() {
        assertThatThrownBy(() -> provider.stream(new CompletionRequest("gpt-5", REQUEST.messages()), piece -> { }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gpt-5");
        assertThat(server.getRequestCount()).isZero();
    }

    /**
     * A body that writes {@code head} and then holds the stream open: with {@code closed}, writing a keep-alive
     * comment every 20 ms until a write fails (the client closed the connection), which counts {@code closed} down;
     * without, silent until the test ends.
     */
    private MockResponseBody held(String head, CountDownLatch closed) {
        return new MockResponseBody() {
            @Override
            public long getContentLength() {
                return -1;
            }

            @Override
            public void writeTo(BufferedSink sink) throws IOException {
                sink.writeUtf8(head).flush();
                try {
                    if (closed == null) {
                        release.await(30, TimeUnit.SECONDS);
                        return;
                    }
                    while (!release.await(20, TimeUnit.MILLISECONDS)) {
                        sink.writeUtf8(": keep-alive\n\n").flush();
                    }
                } catch (IOException e) {
                    closed.countDown();
                    throw e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }
}
