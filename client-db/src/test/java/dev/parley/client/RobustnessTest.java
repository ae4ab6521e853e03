package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.server.internal.model.LocalModelProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crashes mid-send, proxies that answer for the server, sign-ins and deletes racing with unsent rows. */
class RobustnessTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void crashWhileAwaitingTheReplyLeavesARetryableFailedMessageNeverCountedWithoutItsReply() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(
                new LocalModelProvider(Duration.ofMillis(1500), 0.0, new Random())))) {
            ChatClient client = backend.client("device");
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Crash");
            Exchange exchange = client.send(session.id(), "answer me", null);
            // The process dies now: its files are what a restart finds.
            Path copy = dir.resolve("restarted");
            Files.createDirectories(copy);
            for (String name : new String[] {"parley-client.db", "parley-client.db-wal", "account.json"}) {
                Path file = dir.resolve("device").resolve(name);
                if (Files.exists(file)) {
                    Files.copy(file, copy.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }

            try (ChatClient restarted = backend.client("restarted")) {
                LocalMessage recovered = restarted.messages(session.id()).get(0);
                assertThat(recovered.failed()).isTrue();
                assertThat(recovered.retryable()).isTrue();
                exchange.outcome().get(20, TimeUnit.SECONDS); // the original request completes on the server
                Backend.await(WAIT, "the outbox to drain", () -> restarted.syncStatus().unsent() == 0);

                Exchange.Outcome retried = restarted.retry(recovered.id()).outcome().get(20, TimeUnit.SECONDS);

                assertThat(retried.reply()).isNotNull();
                assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
                assertThat(backend.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
                assertThat(backend.queryLong("SELECT input_tokens FROM user_usage_daily")).isPositive();
                assertThat(backend.mismatches()).isEmpty();
            } finally {
                client.close();
            }
        }
    }

    @Test
    void aProxysPlainErrorPageDelaysThePushInsteadOfRejectingTheOutbox() throws Exception {
        try (Backend backend = new Backend(dir); ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Behind a proxy");
            backend.proxy.mode(Mode.DOWN);
            client.send(session.id(), "queued", null).outcome().get(20, TimeUnit.SECONDS);
            backend.proxy.mode(Mode.PROXY_429);

            boolean completed = client.pushNow().get(20, TimeUnit.SECONDS);

            assertThat(completed).isFalse();
            assertThat(client.syncStatus().rejected()).isZero();
            assertThat(client.syncStatus().unsent()).isEqualTo(2);
            backend.proxy.mode(Mode.PASS);
            client.connectivityRegained();
            Backend.await(WAIT, "the outbox to drain", () -> client.syncStatus().unsent() == 0);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
        }
    }

    @Test
    void signingInWhileASignedOutMessageIsAnsweredStillUploadsIt() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(
                new LocalModelProvider(Duration.ofMillis(1000), 0.0, new Random())));
             ChatClient client = backend.client("device")) {
            LocalSession session = client.newSession("Signed out");
            CompletableFuture<Exchange.Outcome> reply = client.send(session.id(), "before the sign-in", null).outcome();

            client.signUp("ada@example.com", "correct horse battery");
            reply.get(20, TimeUnit.SECONDS);
            Backend.await(WAIT, "the upload", () -> client.syncStatus().unsent() == 0
                    && backend.queryLong("SELECT count(*) FROM chat_messages") == 2);

            assertThat(client.messages(session.id())).hasSize(2)
                    .allSatisfy(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void deletingAConversationAfterWritingInItOfflineDeliversTheMessageFirst() throws Exception {
        try (Backend backend = new Backend(dir); ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Short-lived");
            backend.proxy.mode(Mode.DOWN);
            client.send(session.id(), "written, then the conversation deleted", null).outcome()
                    .get(20, TimeUnit.SECONDS);
            client.delete(session.id());
            backend.proxy.mode(Mode.PASS);

            client.connectivityRegained();
            Backend.await(WAIT, "the outbox to drain", () -> client.syncStatus().unsent() == 0);

            assertThat(client.syncStatus().rejected()).isZero();
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions WHERE deleted_at IS NOT NULL"))
                    .isEqualTo(1);
        }
    }
}
