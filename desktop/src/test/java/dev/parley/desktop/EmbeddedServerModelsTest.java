package dev.parley.desktop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.Exchange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.desktop.models.EmbeddedModels;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.server.AnalyticsVerifier;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import dev.parley.server.ModelProviders;
import dev.parley.server.testing.PacedModel;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings gives the embedded server new models while a reply is being written: the reply goes on with the model it
 * started with, completes, and is stored once; the next message uses the new models. No JavaFX involved.
 */
class EmbeddedServerModelsTest {
    @TempDir
    Path dir;

    /** The paced model, telling when it is closed. */
    private static final class Watched implements ModelProvider {
        final CountDownLatch closed = new CountDownLatch(1);
        private final PacedModel model;

        Watched(PacedModel model) {
            this.model = model;
        }

        @Override
        public List<ModelInfo> models() {
            return model.models();
        }

        @Override
        public String defaultModel() {
            return model.defaultModel();
        }

        @Override
        public Completion complete(CompletionRequest request) throws ModelException {
            return model.complete(request);
        }

        @Override
        public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
            return model.stream(request, pieces);
        }

        @Override
        public void close() {
            closed.countDown();
        }
    }

    @Test
    void aReplyInFlightWhenTheModelsChangeCompletesAndIsStoredOnce() throws Exception {
        PacedModel paced = new PacedModel();
        Watched watched = new Watched(paced);
        Path data = dir.resolve("data");
        try (EmbeddedServer server = EmbeddedServer.start(data, new EmbeddedModels.Built(watched));
             ChatClient client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url())
                     .launchSecret(server.launchSecret()).build())) {
            client.signUp("ada@example.com", "a long enough password 7");
            LocalSession session = client.newSession("Swap");
            Exchange exchange = client.send(session.id(), "Tell me a story", null);
            PacedModel.Reply reply = paced.awaitReply();
            reply.emit("Once upon ");
            assertThat(server.liveGenerations()).isEqualTo(1);

            server.useModels(new EmbeddedModels.Built(ModelProviders.builtIn(Duration.ZERO)));

            assertThat(client.models().models()).extracting(ModelInfo::name).doesNotContain("paced");
            assertThat(watched.closed.getCount()).as("not closed while its reply is written").isEqualTo(1);
            reply.emit("a time.").finish();
            exchange.outcome().get(20, TimeUnit.SECONDS);
            assertThat(watched.closed.await(10, TimeUnit.SECONDS)).as("closed once its reply ended").isTrue();
            List<LocalMessage> messages = client.messages(session.id());
            assertThat(messages).hasSize(2);
            assertThat(messages.get(1).message().content()).isEqualTo("Once upon a time.");

            Exchange next = client.send(session.id(), "And another", null);
            next.outcome().get(20, TimeUnit.SECONDS);
            assertThat(paced.calls()).as("the new models answered the next message").isEqualTo(1);
            assertThat(client.messages(session.id())).hasSize(4);
        }
        String db = "jdbc:sqlite:" + data.resolve("embedded-server.db").toAbsolutePath();
        assertThat(AnalyticsVerifier.verify(db)).isEmpty();
        try (Connection c = DriverManager.getConnection(db);
             PreparedStatement q = c.prepareStatement(
                     "SELECT COUNT(*) FROM chat_messages WHERE role = ? AND content = 'Once upon a time.'")) {
            q.setString(1, Role.ASSISTANT.wire());
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).as("the reply in flight, stored once").isEqualTo(1);
            }
        }
    }
}
