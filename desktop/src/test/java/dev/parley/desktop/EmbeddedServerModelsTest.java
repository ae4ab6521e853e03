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
import dev.parley.server.ModelProviders;
import dev.parley.server.testing.PacedModel;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings gives the embedded server new models while a reply is being written: the reply goes on with the model it
 * started with, completes, and is stored once; the next message uses the new models. No JavaFX involved.
 */
class EmbeddedServerModelsTest {
    @TempDir
    Path dir;

    @Test
    void aReplyInFlightWhenTheModelsChangeCompletesAndIsStoredOnce() throws Exception {
        PacedModel paced = new PacedModel();
        Path data = dir.resolve("data");
        try (EmbeddedServer server = EmbeddedServer.start(data, new EmbeddedModels.Built(paced));
             ChatClient client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url()).build())) {
            client.signUp("ada@example.com", "a long enough password 7");
            LocalSession session = client.newSession("Swap");
            Exchange exchange = client.send(session.id(), "Tell me a story", null);
            PacedModel.Reply reply = paced.awaitReply();
            reply.emit("Once upon ");
            assertThat(server.liveGenerations()).isEqualTo(1);

            server.useModels(new EmbeddedModels.Built(ModelProviders.builtIn(Duration.ZERO)));

            assertThat(client.models().models()).extracting(ModelInfo::name).doesNotContain("paced");
            reply.emit("a time.").finish();
            exchange.outcome().get(20, TimeUnit.SECONDS);
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
