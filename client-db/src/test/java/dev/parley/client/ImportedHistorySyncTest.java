package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.ExportFiles;
import dev.parley.protocol.Message;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Imported history reaches the server through the ordinary offline queue: imported signed out, it is pushed once at
 * sign-in; it counts in its conversations' statistics and never in the user's daily usage; another device sees every
 * branch; importing the file again, signed in, sends nothing.
 */
class ImportedHistorySyncTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void importedSignedOutThenPushedOnceAtSignInAndNeverCountedAsUsage() throws Exception {
        Path export = ExportFiles.realistic(dir.resolve("download"));
        try (Backend backend = new Backend(dir);
             ChatClient laptop = backend.client("laptop");
             ChatClient desktop = backend.client("desktop")) {
            ImportSummary summary = laptop.importHistory(export, ImportListener.NONE);
            assertThat(summary.messagesAdded()).isEqualTo(12);
            assertThat(laptop.syncStatus().unsent()).as("3 conversations and 12 messages queued").isEqualTo(15);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isZero();

            laptop.signUp("ada@example.com", "correct horse battery");
            Backend.await(WAIT, "the import to be pushed", () -> laptop.syncStatus().unsent() == 0);

            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(12);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE origin = 'import'")).isEqualTo(12);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions")).isEqualTo(3);
            assertThat(backend.queryLong("SELECT sum(message_count) FROM chat_sessions"))
                    .as("imports count in their conversations").isEqualTo(12);
            assertThat(backend.queryLong("SELECT coalesce(sum(messages_sent + messages_received + total_tokens), 0)"
                    + " FROM user_usage_daily")).as("and never in usage").isZero();
            assertThat(backend.mismatches()).isEmpty();

            desktop.signIn("ada@example.com", "correct horse battery");
            desktop.pullNow().get(20, TimeUnit.SECONDS);
            LocalSession lisbon = desktop.sessions("Lisbon", null, 10).get(0);
            LocalSession here = laptop.sessions("Lisbon", null, 10).get(0);
            assertThat(lisbon.id()).isEqualTo(here.id());
            assertThat(messages(desktop, lisbon.id())).as("every branch, as imported")
                    .isEqualTo(messages(laptop, here.id()));
            assertThat(desktop.path(lisbon.id())).hasSize(4);

            ImportSummary again = laptop.importHistory(export, ImportListener.NONE);
            assertThat(again.messagesAdded()).isZero();
            assertThat(laptop.syncStatus().unsent()).isZero();
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(12);
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    @Test
    void importedSignedInIsQueuedForTheAccountAndPushed() throws Exception {
        try (Backend backend = new Backend(dir); ChatClient laptop = backend.client("laptop")) {
            laptop.signUp("grace@example.com", "correct horse battery");
            laptop.importHistory(ExportFiles.realistic(dir.resolve("download")), ImportListener.NONE);

            Backend.await(WAIT, "the import to be pushed", () -> laptop.syncStatus().unsent() == 0);
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE origin = 'import'")).isEqualTo(12);
            assertThat(backend.queryLong("SELECT coalesce(sum(messages_sent), 0) FROM user_usage_daily")).isZero();
            assertThat(backend.mismatches()).isEmpty();
        }
    }

    /** The conversation's messages as the wire has them, without what only one store knows. */
    private static List<Message> messages(ChatClient client, String sessionId) {
        return client.allMessages(sessionId).stream().map(m -> m.message().toBuilder().totalTokens(null).build())
                .sorted(Comparator.comparing(Message::id)).toList();
    }
}
