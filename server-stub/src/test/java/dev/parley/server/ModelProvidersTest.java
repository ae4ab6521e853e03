package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Json;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.server.ConnectionCheck.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The façade an embedding application builds its models with (SPEC §5.2, §7): the connection check of a server a
 * user sets up, with a plain outcome and message for each way it can go wrong and never the key; the providers made
 * from settings; and the built-in model combined with named providers.
 */
class ModelProvidersTest {
    private static final String KEY = "sk-test-never-shown-8c2d";
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final String MODEL_LIST = "{\"object\":\"list\",\"data\":[{\"id\":\"llama3.1:8b\"},"
            + "{\"id\":\"qwen2.5:7b\",\"name\":\"Qwen 2.5\"},{\"id\":\"not a usable id\"}]}";
    private static final List<ContextMessage> PROMPT = List.of(new ContextMessage(Role.USER, "Capital of France?"));

    private final MockWebServer upstream = new MockWebServer();
    private final List<ModelProvider> made = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        upstream.start();
    }

    @AfterEach
    void stop() {
        made.forEach(ModelProvider::close);
        upstream.close();
    }

    // ------------------------------------------------------------------ check

    @Test
    void aServerWithModelsIsOkAndListsTheUsableOnesInItsOrder() throws Exception {
        upstream.enqueue(json(200, MODEL_LIST));
        String url = upstream.url("/v1").toString();

        ConnectionCheck check = ModelProviders.check(url, KEY, TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.OK);
        assertThat(check.ok()).isTrue();
        assertThat(check.modelIds()).containsExactly("llama3.1:8b", "qwen2.5:7b");
        assertThat(check.message()).isEqualTo("Connected to " + url + ": 2 models.");
        RecordedRequest asked = upstream.takeRequest(1, TimeUnit.SECONDS);
        assertThat(asked.getMethod()).isEqualTo("GET");
        assertThat(asked.getUrl().encodedPath()).isEqualTo("/v1/models");
        assertThat(asked.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
        assertThat(upstream.getRequestCount()).as("asked once").isEqualTo(1);
    }

    @Test
    void aServerThatNeedsNoKeyIsAskedWithoutOne() throws Exception {
        upstream.enqueue(json(200, MODEL_LIST));

        ConnectionCheck check = ModelProviders.check(upstream.url("/v1").toString(), "  ", TIMEOUT);

        assertThat(check.ok()).isTrue();
        assertThat(upstream.takeRequest(1, TimeUnit.SECONDS).getHeaders().get("Authorization")).isNull();
    }

    @ParameterizedTest
    @ValueSource(ints = {401, 403})
    void aRefusedKeyIsBadKey(int status) {
        upstream.enqueue(json(status, "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}"));

        ConnectionCheck check = ModelProviders.check(upstream.url("/v1").toString(), KEY, TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.BAD_KEY);
        assertThat(check.modelIds()).isEmpty();
        assertThat(check.message()).isEqualTo("The provider refused the API key (HTTP " + status + "). Check the key.");
    }

    @Test
    void aServerThatWantsAKeyAndGotNoneIsBadKey() {
        upstream.enqueue(json(401, "{\"error\":\"unauthorized\"}"));
        String url = upstream.url("/v1").toString();

        ConnectionCheck check = ModelProviders.check(url, null, TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.BAD_KEY);
        assertThat(check.message())
                .isEqualTo("The provider at " + url + " wants an API key (HTTP 401). Enter the key.");
    }

    @Test
    void aClosedPortIsUnreachable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port + "/v1";

        ConnectionCheck check = ModelProviders.check(url, KEY, TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.UNREACHABLE);
        assertThat(check.message()).isEqualTo("Nothing answered at " + url + ": is the server running?");
    }

    @Test
    void aServerThatDoesNotAnswerInTimeIsUnreachable() {
        upstream.enqueue(new MockResponse.Builder().code(200).body(MODEL_LIST).headersDelay(5, TimeUnit.SECONDS)
                .build());
        String url = upstream.url("/v1").toString();

        ConnectionCheck check = ModelProviders.check(url, KEY, Duration.ofMillis(300));

        assertThat(check.outcome()).isEqualTo(Outcome.UNREACHABLE);
        assertThat(check.message()).isEqualTo("Nothing answered at " + url + " within 300 ms: is the server running,"
                + " and is the address right?");
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 503, 429})
    void aServerInTroubleIsUnreachableForNow(int status) {
        upstream.enqueue(json(status, "{\"error\":{\"message\":\"overloaded\"}}"));

        ConnectionCheck check = ModelProviders.check(upstream.url("/v1").toString(), KEY, TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.UNREACHABLE);
        assertThat(check.message()).contains("HTTP " + status).contains("Try again");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "200|<html><body>Welcome to nginx!</body></html>",
        "200|{\"models\":[\"llama3.1:8b\"]}",
        "200|{\"data\":{\"id\":\"llama3.1:8b\"}}",
        "404|{\"detail\":\"Not Found\"}",
        "405|"})
    void somethingElseThanAnOpenAiApiIsNotOpenAiCompatible(String statusAndBody) {
        String[] parts = statusAndBody.split("\\|", 2);
        upstream.enqueue(new MockResponse.Builder().code(Integer.parseInt(parts[0])).body(parts[1]).build());
        String url = upstream.url("/").toString();

        ConnectionCheck check = ModelProviders.check(url, KEY, TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.NOT_OPENAI_COMPATIBLE);
        assertThat(check.message()).startsWith(url + " answered, but not as an OpenAI-compatible API (no model list"
                + " at /models).");
    }

    @ParameterizedTest
    @ValueSource(ints = {301, 302, 400})
    void aRedirectOrARefusedRequestIsNotOpenAiCompatible(int status) {
        upstream.enqueue(new MockResponse.Builder().code(status).addHeader("Location", "https://example.com/")
                .build());

        ConnectionCheck check = ModelProviders.check(upstream.url("/v1").toString(), KEY, TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.NOT_OPENAI_COMPATIBLE);
        assertThat(check.message()).contains("HTTP " + status).contains("/v1");
    }

    @Test
    void anEmptyListHasNoModels() {
        upstream.enqueue(json(200, "{\"object\":\"list\",\"data\":[]}"));
        upstream.enqueue(json(200, "{\"data\":[{\"id\":\"My Model.gguf\"}]}"));
        String url = upstream.url("/v1").toString();

        ConnectionCheck empty = ModelProviders.check(url, null, TIMEOUT);
        ConnectionCheck unusable = ModelProviders.check(url, null, TIMEOUT);

        assertThat(empty.outcome()).isEqualTo(Outcome.NO_MODELS);
        assertThat(empty.message()).isEqualTo(url + " lists no models. Load or install a model there, then check"
                + " again.");
        assertThat(unusable.outcome()).isEqualTo(Outcome.NO_MODELS);
        assertThat(unusable.message()).contains("no model Parley can use");
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", "   ", "localhost:11434", "ftp://127.0.0.1/v1", "http://", "not a url at all"})
    void anAddressThatIsNoWebAddressIsInvalidAndNothingIsSent(String baseUrl) {
        ConnectionCheck check = ModelProviders.check(baseUrl, KEY, TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.INVALID_URL);
        assertThat(check.message()).contains("http://");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void aKeyThatCannotBeSentIsBadKeyAndNothingIsSent() {
        ConnectionCheck check = ModelProviders.check(upstream.url("/v1").toString(), "sk-two\nlines", TIMEOUT);

        assertThat(check.outcome()).isEqualTo(Outcome.BAD_KEY);
        assertThat(check.message()).doesNotContain("sk-two");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @Test
    void theKeyAppearsInNoMessageAndNoLogLine() throws Exception {
        upstream.enqueue(json(200, MODEL_LIST));
        upstream.enqueue(json(401, "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY + "\"}}"));
        upstream.enqueue(json(500, "{\"error\":{\"message\":\"no capacity for " + KEY + "\"}}"));
        upstream.enqueue(new MockResponse.Builder().code(200).body("<html>" + KEY + "</html>").build());
        upstream.enqueue(json(200, MODEL_LIST));
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String url = upstream.url("/v1").toString();
        List<Supplier<ConnectionCheck>> checks = List.of(
                () -> ModelProviders.check(url, KEY, TIMEOUT),
                () -> ModelProviders.check(url, KEY, TIMEOUT),
                () -> ModelProviders.check(url, KEY, TIMEOUT),
                () -> ModelProviders.check(url, KEY, TIMEOUT),
                () -> ModelProviders.check("http://127.0.0.1:" + closedPort + "/v1", KEY, TIMEOUT),
                () -> ModelProviders.check(url + "?api_key=" + KEY, KEY, TIMEOUT),
                () -> ModelProviders.check("http://user:" + KEY + "@127.0.0.1:" + closedPort + "/v1", KEY, TIMEOUT),
                () -> ModelProviders.check(KEY, KEY, TIMEOUT));
        List<ConnectionCheck> results = new ArrayList<>();

        String log = standardErrorOf(() -> checks.forEach(check -> results.add(check.get())));

        assertThat(results).extracting(ConnectionCheck::outcome).containsExactly(Outcome.OK, Outcome.BAD_KEY,
                Outcome.UNREACHABLE, Outcome.NOT_OPENAI_COMPATIBLE, Outcome.UNREACHABLE, Outcome.OK,
                Outcome.UNREACHABLE, Outcome.INVALID_URL);
        assertThat(results).allSatisfy(r -> assertThat(r.message()).doesNotContain(KEY));
        assertThat(log).contains("connection check of").doesNotContain(KEY).doesNotContain("Bearer");
    }

    // ------------------------------------------------------------------ providers made from settings

    @Test
    void aProviderOfKnownModelsAsksNothingUntilAChatThenAnswersWithThem() throws Exception {
        ModelProvider provider = keep(ModelProviders.openAiCompatible(upstream.url("/v1").toString(),
                List.of("llama3.1:8b", "qwen2.5:7b"), KEY, TIMEOUT));

        assertThat(upstream.getRequestCount()).isZero();
        assertThat(provider.models()).extracting(ModelInfo::id).containsExactly("llama3.1:8b", "qwen2.5:7b");
        assertThat(provider.defaultModel()).isEqualTo("llama3.1:8b");
        upstream.enqueue(json(200, reply("Paris.")));
        assertThat(provider.complete(new CompletionRequest("qwen2.5:7b", PROMPT)).content()).isEqualTo("Paris.");
        RecordedRequest sent = upstream.takeRequest(1, TimeUnit.SECONDS);
        assertThat(sent.getUrl().encodedPath()).isEqualTo("/v1/chat/completions");
        assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
    }

    @Test
    void aBadSettingIsRefusedInTheSettingsWords() {
        assertThatThrownBy(() -> ModelProviders.openAiCompatible("localhost:11434", List.of("m"), null, TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("the base URL must be an http:// or https:// URL")
                .hasMessageNotContaining("--");
        assertThatThrownBy(() -> ModelProviders.openAiCompatible(upstream.url("/v1").toString(), List.of("m"),
                "two words", TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("the API key").hasMessageNotContaining("two words");
    }

    @Test
    void theBuiltInModelIsParleyLocal() throws Exception {
        ModelProvider builtIn = ModelProviders.builtIn(Duration.ZERO);

        assertThat(builtIn.models()).extracting(ModelInfo::id).containsExactly("parley-local");
        assertThat(builtIn.complete(new CompletionRequest("parley-local", PROMPT)).content())
                .contains("Capital of France?");
        assertThatThrownBy(() -> ModelProviders.builtIn(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void combinedListsTheBuiltInModelFirstUnderItsOwnIdThenTheNamedOnesInMapOrder() throws Exception {
        MockWebServer lmstudio = new MockWebServer();
        lmstudio.start();
        try {
            Map<String, ModelProvider> named = new LinkedHashMap<>();
            named.put("ollama", ModelProviders.openAiCompatible(upstream.url("/v1").toString(),
                    List.of("llama3.1:8b", "qwen2.5:7b"), null, TIMEOUT));
            named.put("lmstudio", ModelProviders.openAiCompatible(lmstudio.url("/v1").toString(),
                    List.of("qwen2.5-7b-instruct"), null, TIMEOUT));
            ModelProvider combined = keep(ModelProviders.combined(ModelProviders.builtIn(Duration.ZERO), named));

            assertThat(combined.models()).extracting(ModelInfo::id).containsExactly("parley-local",
                    "ollama/llama3.1:8b", "ollama/qwen2.5:7b", "lmstudio/qwen2.5-7b-instruct");
            assertThat(combined.defaultModel()).isEqualTo("parley-local");
            assertThat(combined.complete(new CompletionRequest("parley-local", PROMPT)).completionId())
                    .startsWith("local-");
            lmstudio.enqueue(json(200, reply("Paris.")));
            Completion routed = combined.complete(new CompletionRequest("lmstudio/qwen2.5-7b-instruct", PROMPT, 0.2,
                    50));

            assertThat(routed.content()).isEqualTo("Paris.");
            JsonNode sent = Json.newMapper().readTree(lmstudio.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
            assertThat(sent.path("model").asText()).isEqualTo("qwen2.5-7b-instruct");
            assertThat(sent.path("temperature").asDouble()).isEqualTo(0.2);
            assertThat(sent.path("max_tokens").asInt()).isEqualTo(50);
            assertThat(upstream.getRequestCount()).isZero();
        } finally {
            lmstudio.close();
        }
    }

    @Test
    void combinedWithNoNamedProviderIsTheBuiltInModel() {
        ModelProvider combined = keep(ModelProviders.combined(ModelProviders.builtIn(Duration.ZERO), Map.of()));

        assertThat(combined.models()).extracting(ModelInfo::id).containsExactly("parley-local");
        assertThat(combined.defaultModel()).isEqualTo("parley-local");
    }

    @Test
    void combinedRefusesANameThatCannotBePartOfAModelId() {
        ModelProvider builtIn = ModelProviders.builtIn(Duration.ZERO);

        assertThatThrownBy(() -> ModelProviders.combined(builtIn, Map.of("LM Studio", builtIn)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'LM Studio' cannot name a provider").hasMessageNotContaining("--provider");
        Map<String, ModelProvider> twins = new LinkedHashMap<>();
        twins.put("ollama", builtIn);
        twins.put("Ollama", builtIn);
        assertThatThrownBy(() -> ModelProviders.combined(builtIn, twins))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("differ only in case");
    }

    @Test
    void closingTheCombinedProviderClosesEachMemberOnce() {
        ClosingModel builtIn = new ClosingModel();
        ClosingModel first = new ClosingModel();
        ClosingModel second = new ClosingModel();
        Map<String, ModelProvider> named = new LinkedHashMap<>();
        named.put("first", first);
        named.put("second", second);
        ModelProvider combined = ModelProviders.combined(builtIn, named);

        combined.close();
        combined.close();

        assertThat(List.of(builtIn.closed, first.closed, second.closed)).containsExactly(1, 1, 1);
    }

    /** The built-in model, counting how often it was closed. */
    private static final class ClosingModel implements ModelProvider {
        private final ModelProvider local = ModelProviders.builtIn(Duration.ZERO);
        int closed;

        @Override
        public List<ModelInfo> models() {
            return local.models();
        }

        @Override
        public String defaultModel() {
            return local.defaultModel();
        }

        @Override
        public Completion complete(CompletionRequest request) throws ModelException {
            return local.complete(request);
        }

        @Override
        public void close() {
            closed++;
        }
    }

    // ------------------------------------------------------------------ helpers

    private ModelProvider keep(ModelProvider provider) {
        made.add(provider);
        return provider;
    }

    private static MockResponse json(int code, String body) {
        return new MockResponse.Builder().code(code).addHeader("Content-Type", "application/json").body(body).build();
    }

    private static String reply(String content) {
        return "{\"id\":\"cmpl-1\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":{\"role\":"
                + "\"assistant\",\"content\":\"" + content + "\"}}],\"usage\":{\"prompt_tokens\":5,"
                + "\"completion_tokens\":1}}";
    }

    /** What was written to standard error (where slf4j-simple logs) while {@code action} ran. */
    private static String standardErrorOf(Runnable action) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        original.print(text);
        return text;
    }
}
