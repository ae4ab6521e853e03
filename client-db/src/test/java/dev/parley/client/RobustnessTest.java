package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.HeldModel;
import java.nio.file.Path;
import java.util.List;
import java.time.Duration;
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
    void crashWhileAwaitingTheReplyFetchesTheReplyOnceTheRestartIsOnlineAndCountsItOnce() throws Exception {
        HeldModel model = HeldModel.held();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model))) {
            ChatClient client = backend.client("device");
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Crash");
            Exchange exchange = client.send(session.id(), "answer me", null);
            model.awaitCall();
            // The process dies now, while the server is still answering: its files are what a restart finds. The
            // restart is offline at first, so that what it shows comes from its files alone.
            backend.copyAsACrashLeavesIt("device", "restarted");
            FaultProxy restartedNetwork = backend.newProxy();
            restartedNetwork.mode(Mode.DOWN);

            try (ChatClient restarted = backend.client("restarted", restartedNetwork)) {
                LocalMessage recovered = restarted.messages(session.id()).get(0);
                assertThat(recovered.failed()).as("still being answered, on the server").isFalse();
                assertThat(restarted.liveExchanges()).extracting(Exchange::messageId).containsExactly(recovered.id());
                assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isZero();
                model.release();
                exchange.outcome().get(20, TimeUnit.SECONDS); // the original request completes on the server
                assertThat(backend.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
                restartedNetwork.mode(Mode.PASS);
                restarted.connectivityRegained();

                Exchange.Outcome fetched = restarted.liveExchanges().isEmpty() ? null
                        : restarted.liveExchanges().get(0).outcome().get(20, TimeUnit.SECONDS);
                Backend.await(WAIT, "the reply on the restarted device", () -> restarted.messages(session.id())
                        .size() == 2);
                assertThat(fetched == null || fetched.reply() != null).isTrue();
                List<LocalMessage> shown = restarted.messages(session.id());
                assertThat(shown.get(0).failed()).isFalse();
                assertThat(shown).extracting(LocalMessage::syncState).containsOnly(SyncState.SYNCED);
                assertThat(model.calls()).as("the reply is fetched, not asked for again").isEqualTo(1);
                Backend.await(WAIT, "the outbox to drain", () -> restarted.syncStatus().unsent() == 0);
                assertThat(restarted.syncStatus().rejected()).isZero();
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
        HeldModel model = HeldModel.held();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            LocalSession session = client.newSession("Signed out");
            CompletableFuture<Exchange.Outcome> reply = client.send(session.id(), "before the sign-in", null).outcome();
            model.awaitCall();

            client.signUp("ada@example.com", "correct horse battery");
            model.release();
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
