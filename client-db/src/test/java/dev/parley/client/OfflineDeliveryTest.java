package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sending without a reliable network: offline, lost acknowledgements, crashes. Nothing lost, nothing doubled. */
class OfflineDeliveryTest {
    @TempDir
    Path dir;

    Backend backend;
    ChatClient client;

    @BeforeEach
    void start() throws Exception {
        backend = new Backend(dir);
        // No live sync: a live pull would bring the rows of a lost acknowledgement before the test's Try again does.
        client = backend.clientWithoutLiveSync("device", backend.proxy);
        client.signUp("ada@example.com", "correct horse battery");
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        backend.close();
    }

    @Test
    void offlineSendIsDeliveredOnceAfterReconnectAndCountedOnceAfterTryAgain() throws Exception {
        LocalSession session = client.newSession("Train ride");
        backend.proxy.mode(Mode.DOWN);

        Exchange.Outcome offline = client.send(session.id(), "Are you there?", null).outcome().get(20, TimeUnit.SECONDS);

        assertThat(offline.reply()).isNull();
        assertThat(offline.userMessage().errorCode()).isEqualTo(LocalMessage.OFFLINE);
        assertThat(offline.userMessage().retryable()).isTrue();
        assertThat(offline.userMessage().syncState()).isEqualTo(SyncState.PENDING);
        assertThat(client.syncStatus().unsent()).isEqualTo(2); // the session and the message
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isZero();

        backend.proxy.mode(Mode.PASS);
        client.connectivityRegained();
        Backend.await(Duration.ofSeconds(20), "the outbox to drain", () -> client.syncStatus().unsent() == 0);

        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE error_message IS NOT NULL")).isEqualTo(1);

        Exchange.Outcome retried = client.retry(offline.userMessage().id()).outcome().get(20, TimeUnit.SECONDS);

        assertThat(retried.reply()).isNotNull();
        assertThat(retried.userMessage().failed()).isFalse();
        assertThat(retried.userMessage().syncState()).isEqualTo(SyncState.SYNCED);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(backend.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
        assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void lostAcknowledgementDuplicatesNothing() throws Exception {
        LocalSession session = client.newSession("Flaky");
        backend.proxy.mode(Mode.CUT_REPLY);

        Exchange.Outcome lost = client.send(session.id(), "Did this arrive?", null).outcome().get(20, TimeUnit.SECONDS);

        assertThat(lost.userMessage().errorCode()).isEqualTo(LocalMessage.OFFLINE);
        assertThat(backend.proxy.cutReplies()).isPositive();
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2); // the server did answer

        backend.proxy.mode(Mode.PASS);
        client.pushNow().get(20, TimeUnit.SECONDS);
        Exchange.Outcome again = client.retry(lost.userMessage().id()).outcome().get(20, TimeUnit.SECONDS);
        client.pullNow().get(20, TimeUnit.SECONDS);

        assertThat(again.reply()).isNotNull();
        assertThat(client.messages(session.id())).hasSize(2)
                .allSatisfy(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(backend.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void crashBetweenLocalWriteAndPushLosesNothing() throws Exception {
        LocalSession session = client.newSession("Before the crash");
        backend.proxy.mode(Mode.DOWN);
        client.send(session.id(), "written, never pushed", null).outcome().get(20, TimeUnit.SECONDS);
        // The process dies here. Its files start again elsewhere; the dead device stays cut off behind its own proxy
        // for good, so whatever reaches the server was delivered by the restarted one.
        backend.copyAsACrashLeavesIt("device", "restarted");

        try (ChatClient restarted = backend.client("restarted", backend.newProxy())) {
            restarted.connectivityRegained();
            Backend.await(Duration.ofSeconds(20), "delivery after restart", () -> restarted.syncStatus().unsent() == 0);

            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE content = 'written, never pushed'"))
                    .isEqualTo(1);
            assertThat(restarted.messages(session.id())).singleElement()
                    .satisfies(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));
            assertThat(client.syncStatus().unsent()).as("the dead device delivered nothing").isEqualTo(2);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void restartAfterAPushWhoseAnswerWasLostDuplicatesNothing() throws Exception {
        LocalSession session = client.newSession("Half pushed");
        backend.proxy.mode(Mode.DOWN);
        client.send(session.id(), "one", null).outcome().get(20, TimeUnit.SECONDS);
        client.send(session.id(), "two", null).outcome().get(20, TimeUnit.SECONDS);
        backend.proxy.mode(Mode.CUT_REPLY);

        boolean completed = client.pushNow().get(20, TimeUnit.SECONDS);

        assertThat(completed).isFalse();
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2); // applied on the server
        assertThat(client.syncStatus().unsent()).isEqualTo(3); // but never acknowledged here
        // The process dies before it hears the answer; it restarts on the files it left, and pushes the rows again.
        backend.proxy.mode(Mode.DOWN);
        backend.copyAsACrashLeavesIt("device", "restarted");

        try (ChatClient restarted = backend.client("restarted", backend.newProxy())) {
            assertThat(restarted.syncStatus().unsent()).isEqualTo(3);
            restarted.connectivityRegained();
            Backend.await(Duration.ofSeconds(20), "delivery after restart", () -> restarted.syncStatus().unsent() == 0);

            assertThat(restarted.syncStatus().rejected()).isZero();
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT sessions_created FROM user_usage_daily")).isEqualTo(1);
            assertThat(backend.mismatches()).isEmpty();
        }
    }
}
