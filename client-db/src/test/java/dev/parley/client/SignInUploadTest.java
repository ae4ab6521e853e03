package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chats written signed out are uploaded once at sign-in, with progress, and counted exactly. */
class SignInUploadTest {
    private static final int SESSIONS = 50;
    private static final int MESSAGES_PER_SESSION = 20;

    @TempDir
    Path dir;

    @Test
    void thousandSignedOutMessagesAreUploadedOnceWithMonotonicProgress() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.anonymousChatsPerMinute(1_000_000));
             ChatClient client = backend.client("laptop")) {
            List<String> sessionIds = new ArrayList<>();
            for (int s = 0; s < SESSIONS; s++) {
                LocalSession session = client.newSession("Offline " + s);
                sessionIds.add(session.id());
                List<CompletableFuture<Exchange.Outcome>> replies = new ArrayList<>();
                for (int m = 0; m < MESSAGES_PER_SESSION; m++) {
                    replies.add(client.send(session.id(), "note " + s + "." + m, null).outcome());
                }
                for (CompletableFuture<Exchange.Outcome> reply : replies) {
                    assertThat(reply.get(30, TimeUnit.SECONDS).reply()).isNotNull();
                }
            }
            int rowsWritten = SESSIONS + 2 * SESSIONS * MESSAGES_PER_SESSION;
            assertThat(client.syncStatus().state()).isEqualTo(SyncStatus.State.SIGNED_OUT);
            assertThat(client.syncStatus().unsent()).isEqualTo(rowsWritten);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isZero(); // anonymous: nothing stored

            List<SyncStatus> progress = new CopyOnWriteArrayList<>();
            client.addListener(new ChatListener() {
                @Override
                public void syncStatusChanged(SyncStatus status) {
                    if (status.state() == SyncStatus.State.SYNCING) {
                        progress.add(status);
                    }
                }
            });
            client.signUp("ada@example.com", "correct horse battery");
            // Listener callbacks run on the event thread: wait for the last progress event to arrive.
            Backend.await(java.time.Duration.ofSeconds(10), "the final progress event",
                    () -> !progress.isEmpty() && progress.get(progress.size() - 1).done() == rowsWritten);

            assertThat(client.syncStatus().unsent()).isZero();
            assertThat(client.syncStatus().state()).isEqualTo(SyncStatus.State.SYNCED);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'user'"))
                    .isEqualTo(SESSIONS * MESSAGES_PER_SESSION);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'"))
                    .isEqualTo(SESSIONS * MESSAGES_PER_SESSION);
            assertThat(backend.queryLong("SELECT count(DISTINCT id) FROM chat_messages"))
                    .isEqualTo(2L * SESSIONS * MESSAGES_PER_SESSION);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions")).isEqualTo(SESSIONS);
            assertThat(backend.queryLong("SELECT sum(messages_sent) FROM user_usage_daily"))
                    .isEqualTo(SESSIONS * MESSAGES_PER_SESSION);
            assertThat(backend.mismatches()).isEmpty();

            assertThat(progress).isNotEmpty();
            assertThat(progress).allSatisfy(p -> assertThat(p.total()).isEqualTo(rowsWritten));
            for (int i = 1; i < progress.size(); i++) {
                assertThat(progress.get(i).done()).isGreaterThanOrEqualTo(progress.get(i - 1).done());
            }
            assertThat(progress.get(progress.size() - 1).done()).isEqualTo(rowsWritten);
            assertThat(client.sessions(null, null, 100)).hasSize(SESSIONS);
        }
    }
}
