package dev.parley.server.internal.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Json;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelProvider;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Several providers as one (SPEC §5.2): listing under the providers' names and routing by them. */
class CombinedModelProviderTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final List<ContextMessage> PROMPT = List.of(new ContextMessage(Role.USER, "Capital of France?"));

    private final MockWebServer ollama = new MockWebServer();
    private final MockWebServer openrouter = new MockWebServer();
    private OpenAiCompatibleProvider ollamaProvider;
    private OpenAiCompatibleProvider openrouterProvider;
    private final LocalModelProvider local = new LocalModelProvider(Duration.ZERO, 0.0, new Random());

    @BeforeEach
    void start() throws IOException {
        ollama.start();
        openrouter.start();
        ollamaProvider = new OpenAiCompatibleProvider(ollama.url("/v1").toString(),
                List.of("llama3.1:8b", "qwen2.5:7b"), null, TIMEOUT);
        openrouterProvider = new OpenAiCompatibleProvider(openrouter.url("/api/v1").toString(),
                List.of("openai/gpt-4o-mini"), "sk-or-v1-test-secret-4f9a", TIMEOUT);
    }

    @AfterEach
    void stop() {
        ollamaProvider.close();
        openrouterProvider.close();
        ollama.close();
        openrouter.close();
    }

    private CombinedModelProvider combined() {
        return CombinedModelProvider.builder()
                .add("ollama", ollamaProvider)
                .add("openrouter", openrouterProvider)
                .add("local", local)
                .build();
    }

    private static MockResponse reply(String content) {
        return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
                .body("{\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\","
                        + "\"content\":\"" + content + "\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}")
                .build();
    }

    @Test
    void modelsAreListedUnderTheirProvidersNamesInOrder() {
        CombinedModelProvider combined = combined();

        assertThat(combined.models()).extracting(ModelInfo::id).containsExactly(
                "ollama/llama3.1:8b", "ollama/qwen2.5:7b", "openrouter/openai/gpt-4o-mini", "local/parley-local");
        assertThat(combined.models()).extracting(ModelInfo::name).containsExactly(
                "ollama/llama3.1:8b", "ollama/qwen2.5:7b", "openrouter/openai/gpt-4o-mini",
                "Parley local (offline) (local)");
        assertThat(combined.defaultModel()).isEqualTo("ollama/llama3.1:8b");
    }

    @Test
    void defaultIsTheFirstProvidersDefault() {
        CombinedModelProvider combined = CombinedModelProvider.builder().add("local", local)
                .add("ollama", ollamaProvider).build();

        assertThat(combined.defaultModel()).isEqualTo("local/parley-local");
    }

    @Test
    void requestGoesToItsProviderWithoutThePrefix() throws Exception {
        openrouter.enqueue(reply("Paris."));
        CombinedModelProvider combined = combined();

        Completion completion = combined.complete(new CompletionRequest("openrouter/openai/gpt-4o-mini", PROMPT));

        assertThat(completion.content()).isEqualTo("Paris.");
        RecordedRequest sent = openrouter.takeRequest(1, TimeUnit.SECONDS);
        JsonNode body = Json.newMapper().readTree(sent.getBody().utf8());
        assertThat(body.path("model").asText()).isEqualTo("openai/gpt-4o-mini");
        assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer sk-or-v1-test-secret-4f9a");
        assertThat(ollama.getRequestCount()).isZero();
    }

    @Test
    void streamGoesToItsProviderWithoutThePrefix() throws Exception {
        ollama.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "text/event-stream")
                .body("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Ro\"}}]}\n\n"
                        + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"me.\"},"
                        + "\"finish_reason\":\"stop\"}]}\n\n"
                        + "data: [DONE]\n\n")
                .build());
        List<String> pieces = new CopyOnWriteArrayList<>();

        Completion completion = combined().stream(new CompletionRequest("ollama/qwen2.5:7b", PROMPT), pieces::add)
                .result().get(10, TimeUnit.SECONDS);

        assertThat(pieces).containsExactly("Ro", "me.");
        assertThat(completion.content()).isEqualTo("Rome.");
        assertThat(Json.newMapper().readTree(ollama.takeRequest(1, TimeUnit.SECONDS).getBody().utf8())
                .path("model").asText()).isEqualTo("qwen2.5:7b");
        assertThat(openrouter.getRequestCount()).isZero();
    }

    @Test
    void localModelAnswersUnderItsPrefix() throws Exception {
        Completion completion = combined().complete(new CompletionRequest("local/parley-local", PROMPT));
        Completion direct = local.complete(new CompletionRequest("parley-local", PROMPT));

        assertThat(completion.content()).isEqualTo(direct.content());
        assertThat(completion.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3.1:8b", "ollama/gpt-4o-mini", "vllm/llama3.1:8b", "parley-local", "ollama/",
            "/llama3.1:8b"})
    void modelNotListedIsRefusedBeforeAnyCall(String model) {
        CombinedModelProvider combined = combined();

        assertThatThrownBy(() -> combined.complete(new CompletionRequest(model, PROMPT)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown model '" + model + "'");
        assertThatThrownBy(() -> combined.stream(new CompletionRequest(model, PROMPT), piece -> { }))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(ollama.getRequestCount() + openrouter.getRequestCount()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "has space", "dot.ted", "slash/ed", "ünï",
            "x2345678901234567890123456789012345678901" /* 41 characters */})
    void badProviderNameIsRefusedNamingTheOption(String name) {
        assertThatThrownBy(() -> CombinedModelProvider.builder().add(name, local))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--provider: '" + name + "' is not a provider name");
    }

    @Test
    void repeatedNameIsRefusedWhateverItsCase() {
        CombinedModelProvider.Builder builder = CombinedModelProvider.builder().add("ollama", ollamaProvider);

        assertThatThrownBy(() -> builder.add("ollama", local))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'ollama' twice");
        assertThatThrownBy(() -> builder.add("Ollama", local))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("differ only in case");
    }

    @Test
    void noProviderIsRefused() {
        assertThatThrownBy(() -> CombinedModelProvider.builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one provider");
    }

    @Test
    void modelWhosePrefixedIdWouldBeTooLongIsLeftOut() {
        String longest = "m".repeat(200);
        OpenAiCompatibleProvider wide = new OpenAiCompatibleProvider(ollama.url("/v1").toString(),
                List.of("short", longest), null, TIMEOUT);
        ModelProvider onlyLong = new OpenAiCompatibleProvider(ollama.url("/v1").toString(), List.of(longest), null,
                TIMEOUT);
        try {
            assertThat(CombinedModelProvider.builder().add("wide", wide).build().models())
                    .extracting(ModelInfo::id).containsExactly("wide/short");
            assertThatThrownBy(() -> CombinedModelProvider.builder().add("long", onlyLong).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--provider long offers no model");
        } finally {
            wide.close();
            ((OpenAiCompatibleProvider) onlyLong).close();
        }
    }

    @Test
    void anUnprefixedProviderKeepsItsIdsAndIsListedInItsPlace() throws Exception {
        CombinedModelProvider combined = CombinedModelProvider.builder().addUnprefixed(local)
                .add("ollama", ollamaProvider).build();

        assertThat(combined.models()).extracting(ModelInfo::id)
                .containsExactly("parley-local", "ollama/llama3.1:8b", "ollama/qwen2.5:7b");
        assertThat(combined.defaultModel()).isEqualTo("parley-local");
        Completion own = combined.complete(new CompletionRequest("parley-local", PROMPT));
        assertThat(own.completionId()).startsWith("local-");
        assertThat(ollama.getRequestCount()).isZero();

        ollama.enqueue(reply("Paris."));
        combined.complete(new CompletionRequest("ollama/qwen2.5:7b", PROMPT, 0.4, 32));
        JsonNode sent = Json.newMapper().readTree(ollama.takeRequest(1, TimeUnit.SECONDS).getBody().utf8());
        assertThat(sent.path("model").asText()).isEqualTo("qwen2.5:7b");
        assertThat(sent.path("temperature").asDouble()).isEqualTo(0.4);
        assertThat(sent.path("max_tokens").asInt()).isEqualTo(32);
    }

    @Test
    void anIdOfTheUnprefixedProviderGoesToItBeforeAnyPrefixIsLookedAt() throws Exception {
        // An unprefixed provider whose id looks like a named one's: the name would claim it, its owner keeps it.
        OpenAiCompatibleProvider lookalike = new OpenAiCompatibleProvider(openrouter.url("/api/v1").toString(),
                List.of("ollama/llama3.1:8b"), null, TIMEOUT);
        try {
            CombinedModelProvider combined = CombinedModelProvider.builder().add("ollama", ollamaProvider)
                    .addUnprefixed(lookalike).build();

            assertThat(combined.models()).extracting(ModelInfo::id)
                    .containsExactly("ollama/qwen2.5:7b", "ollama/llama3.1:8b");
            assertThat(combined.defaultModel()).isEqualTo("ollama/qwen2.5:7b");
            openrouter.enqueue(reply("Rome."));
            assertThat(combined.complete(new CompletionRequest("ollama/llama3.1:8b", PROMPT)).content())
                    .isEqualTo("Rome.");
            assertThat(ollama.getRequestCount()).isZero();
            assertThat(Json.newMapper().readTree(openrouter.takeRequest(1, TimeUnit.SECONDS).getBody().utf8())
                    .path("model").asText()).isEqualTo("ollama/llama3.1:8b");
        } finally {
            lookalike.close();
        }
    }

    @Test
    void onlyOneProviderCanBeUnprefixed() {
        CombinedModelProvider.Builder builder = CombinedModelProvider.builder().addUnprefixed(local);

        assertThatThrownBy(() -> builder.addUnprefixed(ollamaProvider)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closeClosesTheMembersOnceOnlyWhenTheyAreOwned() {
        ClosingModel member = new ClosingModel();
        CombinedModelProvider borrowing = CombinedModelProvider.builder().add("a", member).build();
        CombinedModelProvider owning = CombinedModelProvider.builder().addUnprefixed(member).add("b", member)
                .closingMembers().build();

        borrowing.close();
        assertThat(member.closed).isZero();
        owning.close();
        owning.close();
        assertThat(member.closed).isEqualTo(1);
    }

    /** The local model, counting how often it was closed. */
    private static final class ClosingModel implements ModelProvider {
        private final LocalModelProvider local = new LocalModelProvider(Duration.ZERO, 0.0, new Random());
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
        public Completion complete(CompletionRequest request) throws dev.parley.server.ModelException {
            return local.complete(request);
        }

        @Override
        public void close() {
            closed++;
        }
    }

    @Test
    void keyVariableIsUpperCaseWithUnderscores() {
        assertThat(OpenAiCompatibleProvider.keyVariable("ollama")).isEqualTo("PARLEY_OLLAMA_API_KEY");
        assertThat(OpenAiCompatibleProvider.keyVariable("my-llm_2")).isEqualTo("PARLEY_MY_LLM_2_API_KEY");
    }
}
