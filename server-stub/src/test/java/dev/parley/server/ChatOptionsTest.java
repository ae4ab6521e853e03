package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Limits;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.server.internal.model.LocalModelProvider;
import dev.parley.server.testing.EventStream;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a chat asks of the model besides its messages (SPEC §5.0): {@code temperature} (0–2) and {@code maxTokens}
 * (1–200,000) are checked at the edge and handed to the model, whole or streamed, and a per-chat system prompt, the
 * first context entry with role {@code system}, reaches the model as its first message.
 */
class ChatOptionsTest {
    @TempDir
    Path dir;

    private final RecordingModel model = new RecordingModel();
    private TestServer server;
    private String token;

    @BeforeEach
    void start() {
        server = TestServer.start(dir, config -> config.modelProvider(model));
        token = server.signUp("ada@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void temperatureAndMaxTokensReachTheModelWholeAndStreamed() throws Exception {
        Response whole = server.api.post("/api/chat", request("Hello", 0.3, 512, List.of()), token);
        assertThat(whole.status()).as("%s", whole).isEqualTo(200);

        try (EventStream stream = EventStream.post(server.server.url(), "/api/chat", request("Again", 1.7, 64,
                List.of()), token)) {
            List<EventStream.Event> events = stream.rest();
            assertThat(events.get(events.size() - 1).type()).isEqualTo("done");
            assertThat(events.get(events.size() - 1).json().path("persisted").asBoolean()).isTrue();
        }
        server.api.post("/api/chat", request("Defaults", null, null, List.of()), token);

        assertThat(model.requests).hasSize(3);
        assertThat(model.requests.get(0).temperature()).isEqualTo(0.3);
        assertThat(model.requests.get(0).maxTokens()).isEqualTo(512);
        assertThat(model.requests.get(1).temperature()).isEqualTo(1.7);
        assertThat(model.requests.get(1).maxTokens()).isEqualTo(64);
        assertThat(model.requests.get(2).temperature()).isNull();
        assertThat(model.requests.get(2).maxTokens()).isNull();
    }

    @ParameterizedTest
    @ValueSource(doubles = {-0.01, 2.01, 1e9})
    void temperatureOutsideZeroToTwoIsABadRequestNamingIt(double temperature) throws Exception {
        assertRefused(request("Hello", temperature, null, List.of()), "temperature");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Limits.MAX_REPLY_TOKENS + 1})
    void maxTokensOutsideItsRangeIsABadRequestNamingIt(int maxTokens) throws Exception {
        assertRefused(request("Hello", null, maxTokens, List.of()), "maxTokens");
    }

    @Test
    void valuesAtTheEndsOfTheRangesAreAccepted() {
        for (ChatRequest request : List.of(request("low", Limits.MIN_TEMPERATURE, 1, List.of()),
                request("high", Limits.MAX_TEMPERATURE, Limits.MAX_REPLY_TOKENS, List.of()))) {
            Response response = server.api.post("/api/chat", request, token);
            assertThat(response.status()).as("%s", response).isEqualTo(200);
        }
        assertThat(model.requests).extracting(CompletionRequest::temperature)
                .containsExactly(Limits.MIN_TEMPERATURE, Limits.MAX_TEMPERATURE);
        assertThat(model.requests).extracting(CompletionRequest::maxTokens).containsExactly(1, Limits.MAX_REPLY_TOKENS);
    }

    @Test
    void aSystemPromptReachesTheModelAsItsFirstMessage() {
        List<ContextMessage> context = List.of(
                new ContextMessage(Role.SYSTEM, "Answer in French."),
                new ContextMessage(Role.USER, "Capital of Italy?"),
                new ContextMessage(Role.ASSISTANT, "Rome."));

        Response response = server.api.post("/api/chat", request("And of Spain?", null, null, context), token);

        assertThat(response.status()).as("%s", response).isEqualTo(200);
        assertThat(model.requests).hasSize(1);
        assertThat(model.requests.get(0).messages()).containsExactly(
                new ContextMessage(Role.SYSTEM, "Answer in French."),
                new ContextMessage(Role.USER, "Capital of Italy?"),
                new ContextMessage(Role.ASSISTANT, "Rome."),
                new ContextMessage(Role.USER, "And of Spain?"));
        // The prompt is the model's to read, not a message of the conversation: only the exchange is stored.
        assertThat(response.json().path("userMessage").path("content").asText()).isEqualTo("And of Spain?");
    }

    @Test
    void aSystemPromptHasTheSystemPromptsLimit() throws Exception {
        String longest = "p".repeat(Limits.MAX_SYSTEM_PROMPT_CHARS);
        Response atTheLimit = server.api.post("/api/chat", request("Hi", null, null,
                List.of(new ContextMessage(Role.SYSTEM, longest))), token);
        assertThat(atTheLimit.status()).as("%s", atTheLimit).isEqualTo(200);
        assertThat(model.requests.get(0).messages().get(0).content().length()).isEqualTo(longest.length());

        Response over = assertRefused(request("Hi", null, null,
                List.of(new ContextMessage(Role.SYSTEM, longest + "p"))), "system prompt");
        assertThat(over.json().path("error").path("message").asText()).contains("20000");
    }

    @Test
    void aReplayCallsTheModelOnceWhateverItsOptions() {
        ChatRequest first = request("Once", 0.5, 100, List.of());
        ChatRequest again = new ChatRequest(first.sessionId(), first.messageId(), first.content(), null,
                first.messageTimestamp(), null, 1.9, 7, List.of());

        Response answered = server.api.post("/api/chat", first, token);
        Response replayed = server.api.post("/api/chat", again, token);

        assertThat(replayed.status()).as("%s", replayed).isEqualTo(200);
        assertThat(replayed.json().path("replayed").asBoolean()).isTrue();
        assertThat(replayed.json().path("assistantMessage").path("content").asText())
                .isEqualTo(answered.json().path("assistantMessage").path("content").asText());
        assertThat(model.requests).hasSize(1);
    }

    @Test
    void theLocalModelCutsItsReplyAtMaxTokensAndTheReplyIsStoredAsCutOff() throws Exception {
        server.close();
        server = TestServer.start(java.nio.file.Files.createDirectory(dir.resolve("local")), config -> config);
        token = server.signUp("grace@example.com").accessToken();
        ChatRequest request = request("Tell me everything about write-ahead logging", null, 6, List.of());

        Response response = server.api.post("/api/chat", request, token);

        assertThat(response.status()).as("%s", response).isEqualTo(200);
        JsonNode reply = response.json().path("assistantMessage");
        assertThat(reply.path("finishReason").asText()).isEqualTo("length");
        assertThat(reply.path("outputTokens").asLong()).isBetween(1L, 6L);
        assertThat(LocalModelProvider.countTokens(reply.path("content").asText())).isLessThanOrEqualTo(6);
        assertThat(server.queryString("SELECT finish_reason FROM chat_messages WHERE id = '"
                + reply.path("id").asText() + "'")).isEqualTo("length");
        assertThat(server.mismatches()).isEmpty();
    }

    /** Sends {@code request}, which must be refused as a bad request naming {@code field}, with no model call. */
    private Response assertRefused(ChatRequest request, String field) throws Exception {
        int asked = model.requests.size();
        long stored = server.queryLong("SELECT count(*) FROM chat_messages");

        Response response = server.api.post("/api/chat", request, token);

        assertThat(response.status()).as("%s", response).isEqualTo(400);
        assertThat(response.errorCode()).isEqualTo("bad_request");
        assertThat(response.json().path("error").path("message").asText()).contains(field);
        assertThat(response.json().path("persisted").asBoolean(true)).isFalse();
        assertThat(model.requests).hasSize(asked);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(stored);
        return response;
    }

    private ChatRequest request(String content, Double temperature, Integer maxTokens, List<ContextMessage> context) {
        return new ChatRequest(TestIds.next(), TestIds.next(), content, null, server.now(), null, temperature,
                maxTokens, context);
    }

    /** The local model, keeping every request it was asked, in order. */
    static final class RecordingModel implements ModelProvider {
        final List<CompletionRequest> requests = new CopyOnWriteArrayList<>();
        private final LocalModelProvider local = new LocalModelProvider(Duration.ZERO, 0.0, new Random(1));

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
            requests.add(request);
            return local.complete(request);
        }

        @Override
        public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
            requests.add(request);
            return local.stream(request, pieces);
        }
    }
}
