package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.protocol.Role;
import dev.parley.server.internal.model.LocalModelProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Try again" on a message that is still being sent (a double click, or a second click while the first is slow) is
 * refused: only the server's claim guards a signed-in exchange, and nothing guards a signed-out one, whose two
 * replies would both be kept and later uploaded, the second refused for ever. Found by {@code ./parley chaos}.
 */
class RetryWhileSendingTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void signedOutRetryOfAMessageAlreadyBeingSentIsRefusedSoItGetsOneReply() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(
                new LocalModelProvider(Duration.ofMillis(800), 0.0, new Random())));
             ChatClient client = backend.client("device")) {
            LocalSession session = client.newSession("Signed out");
            backend.proxy.mode(Mode.DOWN);
            LocalMessage failed = client.send(session.id(), "answer me once", null).outcome()
                    .get(20, TimeUnit.SECONDS).userMessage();
            assertThat(failed.failed()).isTrue();
            backend.proxy.mode(Mode.PASS);

            Exchange first = client.retry(failed.id());
            assertThatThrownBy(() -> client.retry(failed.id()))
                    .isInstanceOfSatisfying(ClientException.class, e -> {
                        assertThat(e.code()).isEqualTo("in_progress");
                        assertThat(e.retryable()).isTrue();
                    });
            assertThat(first.outcome().get(20, TimeUnit.SECONDS).reply()).isNotNull();

            assertThat(client.messages(session.id())).extracting(m -> m.message().role())
                    .containsExactly(Role.USER, Role.ASSISTANT);
            client.signUp("ada@example.com", "correct horse battery");
            Backend.await(WAIT, "the upload", () -> client.syncStatus().unsent() == 0);
            assertThat(client.syncStatus().rejected()).isZero();
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'")).isEqualTo(1);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void aMessageCanBeTriedAgainOnceItsSendingEnded() throws Exception {
        try (Backend backend = new Backend(dir); ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Flaky");
            backend.proxy.mode(Mode.DOWN);
            LocalMessage failed = client.send(session.id(), "first try", null).outcome()
                    .get(20, TimeUnit.SECONDS).userMessage();
            client.retry(failed.id()).outcome().get(20, TimeUnit.SECONDS); // fails again: still offline
            backend.proxy.mode(Mode.PASS);

            Exchange.Outcome third = client.retry(failed.id()).outcome().get(20, TimeUnit.SECONDS);

            assertThat(third.reply()).isNotNull();
            assertThat(third.userMessage().failed()).isFalse();
        }
    }
}
