package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.protocol.Role;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server that answers only the app that started it (SPEC §8): a client given its launch secret sends it with
 * every request, plain and streamed, and works; one without it is refused. The secret never reaches the log.
 */
class LaunchSecretTest {
    private static final String SECRET = "launch-secret-nobody-logs-0123456789abcdef";

    @TempDir
    Path dir;

    @Test
    void aClientWithTheSecretWorksAndOneWithoutIsRefused() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (ParleyServer server = ParleyServer.start(ServerConfig.builder().port(0)
                .databaseUrl("jdbc:sqlite:" + dir.resolve("server.db")).launchSecret(SECRET).build());
             ChatClient app = ChatClient.open(ClientConfig.builder(dir.resolve("app"), server.url())
                     .httpTimeout(Duration.ofSeconds(20)).launchSecret(SECRET).build());
             ChatClient stranger = ChatClient.open(ClientConfig.builder(dir.resolve("stranger"), server.url())
                     .httpTimeout(Duration.ofSeconds(20)).build())) {
            app.signUp("ada@example.com", "a long enough password");
            assertThat(app.models().models()).isNotEmpty();
            LocalSession session = app.newSession("With the secret");
            app.send(session.id(), "hello", null).outcome().get(20, TimeUnit.SECONDS);

            assertThat(app.messages(session.id())).anySatisfy(m -> {
                assertThat(m.message().role()).isEqualTo(Role.ASSISTANT);
                assertThat(m.message().content()).isNotBlank();
            });
            assertThatThrownBy(() -> stranger.signUp("eve@example.com", "a long enough password"))
                    .isInstanceOf(ClientException.class);
            assertThat(ClientConfig.builder(dir, server.url()).launchSecret(SECRET).build().toString())
                    .doesNotContain(SECRET);
        } finally {
            System.setErr(original);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain(SECRET);
    }
}
