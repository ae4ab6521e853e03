package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.internal.model.LocalModelProvider;
import dev.parley.server.testing.EventStream;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.PacedModel;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ParleyServer#useModels}: a running server is given other models. New exchanges, the model list and the
 * check of a model id use them at once; a reply already being generated goes on with the provider it began on, is
 * stored once, and only then does the server hand that provider back.
 */
class ModelSwapTest {
    @TempDir
    Path dir;

    private final PacedModel paced = new PacedModel();
    private final OtherModel other = new OtherModel("swapped-model");
    private TestServer server;
    private String token;

    @BeforeEach
    void start() {
        server = TestServer.start(dir, config -> config.modelProvider(paced));
        token = server.signUp("ada@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aReplyInFlightEndsOnItsProviderWhileNewExchangesUseTheNextOne() throws Exception {
        ChatRequest inFlight = request(null);
        try (EventStream stream = EventStream.post(server.server.url(), "/api/chat", inFlight, token)) {
            stream.next("start");
            PacedModel.Reply reply = paced.awaitReply();
            reply.emit("Half ");
            assertThat(stream.next("delta").json().path("text").asText()).isEqualTo("Half ");

            CompletableFuture<ModelProvider> handedBack = server.server.useModels(other);

            ModelsResponse models = server.api.get("/api/models", null).as(ModelsResponse.class);
            assertThat(models.models()).extracting(ModelInfo::id).containsExactly("swapped-model");
            assertThat(models.defaultModel()).isEqualTo("swapped-model");
            Response answered = server.api.post("/api/chat", request(null), token);
            assertThat(answered.status()).as("%s", answered).isEqualTo(200);
            assertThat(answered.json().path("assistantMessage").path("model").asText()).isEqualTo("swapped-model");
            Response oldModel = server.api.post("/api/chat", request("parley-local"), token);
            assertThat(oldModel.status()).as("%s", oldModel).isEqualTo(400);
            assertThat(oldModel.json().path("error").path("message").asText()).contains("'parley-local' is not offered");
            Response duplicate = server.api.post("/api/chat", inFlight, token);
            assertThat(duplicate.errorCode()).isEqualTo("in_progress");
            assertThat(other.calls.get()).isEqualTo(1);
            assertThat(paced.calls()).isEqualTo(1);
            assertThat(handedBack).as("handed back while its reply is still generated").isNotDone();

            reply.emit("done.");
            reply.finish();
            List<EventStream.Event> rest = stream.rest();
            JsonNode done = rest.get(rest.size() - 1).json();
            assertThat(done.path("assistantMessage").path("content").asText()).isEqualTo("Half done.");
            assertThat(done.path("assistantMessage").path("model").asText()).isEqualTo("parley-local");

            assertThat(handedBack.get(10, TimeUnit.SECONDS)).isSameAs(paced);
            // Handed back after the reply was stored, once.
            assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'"
                    + " AND user_message_id = '" + inFlight.messageId() + "'")).isEqualTo(1);
            assertThat(server.queryString("SELECT content FROM chat_messages WHERE role = 'assistant'"
                    + " AND user_message_id = '" + inFlight.messageId() + "'")).isEqualTo("Half done.");
        }
        assertThat(server.server.liveGenerations()).isZero();
        assertThat(server.mismatches()).isEmpty();

        // A replay holds the provider only while it answers, and neither the refusals nor the replay left a hold on it.
        Response replayed = server.api.post("/api/chat", inFlight, token);
        assertThat(replayed.json().path("replayed").asBoolean()).isTrue();
        // Its answer lost, the same message names the model that answered it, which is no longer offered: the
        // stored exchange is replayed all the same, with no model called.
        ChatRequest namingItsModel = new ChatRequest(inFlight.sessionId(), inFlight.messageId(), inFlight.content(),
                "parley-local", inFlight.messageTimestamp(), inFlight.sessionTitle(), inFlight.context());
        Response replayedByName = server.api.post("/api/chat", namingItsModel, token);
        assertThat(replayedByName.status()).as("%s", replayedByName).isEqualTo(200);
        assertThat(replayedByName.json().path("replayed").asBoolean()).isTrue();
        assertThat(replayedByName.json().path("assistantMessage").path("content").asText()).isEqualTo("Half done.");
        assertThat(paced.calls()).isEqualTo(1);
        CompletableFuture<ModelProvider> second = server.server.useModels(new OtherModel("third-model"));
        assertThat(second).isCompletedWithValue(other);
    }

    @Test
    void aServerWithNoReplyInFlightHandsItsProviderBackAtOnce() {
        CompletableFuture<ModelProvider> handedBack = server.server.useModels(other);

        assertThat(handedBack).isCompletedWithValue(paced);
        assertThat(server.api.get("/api/models", null).as(ModelsResponse.class).defaultModel())
                .isEqualTo("swapped-model");
    }

    @Test
    void anAnonymousReplyInFlightKeepsItsProviderToo() throws Exception {
        try (EventStream stream = EventStream.post(server.server.url(), "/api/chat", request(null), null)) {
            stream.next("start");
            PacedModel.Reply reply = paced.awaitReply();

            CompletableFuture<ModelProvider> handedBack = server.server.useModels(other);
            assertThat(handedBack).isNotDone();
            reply.emit("Hello.");
            reply.finish();

            List<EventStream.Event> rest = stream.rest();
            assertThat(rest.get(rest.size() - 1).json().path("assistantMessage").path("content").asText())
                    .isEqualTo("Hello.");
            assertThat(handedBack.get(10, TimeUnit.SECONDS)).isSameAs(paced);
        }
    }

    @Test
    void theProviderInUseCannotBeGivenAgain() {
        assertThatThrownBy(() -> server.server.useModels(paced)).isInstanceOf(IllegalArgumentException.class);

        assertThat(server.api.get("/api/models", null).as(ModelsResponse.class).models()).extracting(ModelInfo::id)
                .containsExactly("parley-local");
    }

    private ChatRequest request(String model) {
        return new ChatRequest(TestIds.next(), TestIds.next(), "Hello there", model, server.now(), null, List.of());
    }

    /** The local model under another id, counting its calls. */
    private static final class OtherModel implements ModelProvider {
        final AtomicInteger calls = new AtomicInteger();
        private final String id;
        private final LocalModelProvider local = new LocalModelProvider(Duration.ZERO, 0.0, new Random(3));

        OtherModel(String id) {
            this.id = id;
        }

        @Override
        public List<ModelInfo> models() {
            return List.of(new ModelInfo(id, "Other"));
        }

        @Override
        public String defaultModel() {
            return id;
        }

        @Override
        public Completion complete(CompletionRequest request) throws ModelException {
            calls.incrementAndGet();
            return local.complete(request.withModel(local.defaultModel()));
        }

        @Override
        public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
            calls.incrementAndGet();
            return local.stream(request.withModel(local.defaultModel()), pieces);
        }
    }
}
