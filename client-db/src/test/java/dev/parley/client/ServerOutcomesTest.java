package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.HeldModel;
import dev.parley.protocol.Role;
import dev.parley.server.internal.model.LocalModelProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the client does with the two answers of {@code POST /api/chat} that leave the storing to it or tell it the
 * server stored a failure (SPEC §5.1, §6): a reply the server could not write is queued and pushed, counted once; a
 * model failure the server wrote is already on the server, so it is not queued.
 */
class ServerOutcomesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aReplyTheServerCouldNotStoreIsQueuedThenPushedAndCountedOnce() throws Exception {
        HeldModel model = HeldModel.answering();
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Unstored");
            backend.execute("CREATE TRIGGER refuse_replies BEFORE INSERT ON chat_messages WHEN NEW.role = 'assistant'"
                    + " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
            // The network goes once the question is in: the push that follows the answer waits for it to come back.
            model.duringCall(() -> backend.proxy.mode(Mode.NO_NEW_REQUESTS));

            Exchange.Outcome outcome = client.send(session.id(), "store me later", null).outcome()
                    .get(20, TimeUnit.SECONDS);

            assertThat(outcome.reply()).as("the reply still reaches the user").isNotNull();
            assertThat(outcome.userMessage().failed()).isFalse();
            assertThat(client.messages(session.id())).extracting(LocalMessage::syncState)
                    .containsExactly(SyncState.PENDING, SyncState.PENDING);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isZero();

            backend.execute("DROP TRIGGER refuse_replies");
            backend.proxy.mode(Mode.PASS);
            client.connectivityRegained();
            Backend.await(WAIT, "the outbox to drain", () -> client.syncStatus().unsent() == 0);

            assertThat(client.syncStatus().rejected()).isZero();
            assertThat(client.messages(session.id())).extracting(LocalMessage::syncState)
                    .containsExactly(SyncState.SYNCED, SyncState.SYNCED);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'user'")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'"
                    + " AND user_message_id = '" + outcome.userMessage().id() + "'")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT output_tokens FROM user_usage_daily"))
                    .isEqualTo(outcome.reply().message().outputTokens());
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void aModelFailureTheServerStoredIsMarkedSyncedAndNeverPushed() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(
                new LocalModelProvider(Duration.ZERO, 1.0, new Random(1))));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Refused");

            Exchange.Outcome outcome = client.send(session.id(), "the model fails this", null).outcome()
                    .get(20, TimeUnit.SECONDS);

            assertThat(outcome.reply()).isNull();
            LocalMessage failed = outcome.userMessage();
            assertThat(failed.failed()).isTrue();
            assertThat(failed.errorCode()).isEqualTo("upstream_error");
            assertThat(failed.retryable()).isTrue();
            assertThat(failed.syncState()).as("the server stored it: nothing to push").isEqualTo(SyncState.SYNCED);
            Backend.await(WAIT, "the outbox (the new session) to drain", () -> client.syncStatus().unsent() == 0);
            assertThat(client.messages(session.id())).singleElement().satisfies(m -> {
                assertThat(m.message().role()).isEqualTo(Role.USER);
                assertThat(m.syncState()).isEqualTo(SyncState.SYNCED);
            });
            assertThat(client.syncStatus().rejected()).isZero();
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE error_message IS NOT NULL"
                    + " AND id = '" + failed.id() + "'")).isEqualTo(1);
            assertThat(backend.queryLong("SELECT messages_sent FROM user_usage_daily")).isZero();
            assertThat(backend.mismatches()).isEmpty();
        }
    }
}
