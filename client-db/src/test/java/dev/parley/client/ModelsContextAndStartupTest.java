package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.protocol.ModelsResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelsContextAndStartupTest {
    @TempDir
    Path dir;

    @Test
    void modelListComesFromTheServerAndIsRememberedForOfflineUse() throws Exception {
        try (Backend backend = new Backend(dir); ChatClient client = backend.client("device")) {
            ModelsResponse online = client.models();
            backend.proxy.mode(Mode.DOWN);
            ModelsResponse offline = client.models();

            assertThat(online.defaultModel()).isEqualTo("parley-local");
            assertThat(offline).isEqualTo(online);
        }
    }

    @Test
    void earlierMessagesOfTheConversationAreSentAsContext() throws Exception {
        try (Backend backend = new Backend(dir); ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Context");
            Exchange.Outcome first = client.send(session.id(), "remember the word pineapple", null).outcome()
                    .get(20, TimeUnit.SECONDS);
            Exchange.Outcome second = client.send(session.id(), "which word?", null).outcome()
                    .get(20, TimeUnit.SECONDS);
            LocalSession fresh = client.newSession("No context");
            Exchange.Outcome alone = client.send(fresh.id(), "which word?", null).outcome().get(20, TimeUnit.SECONDS);

            // The model's input is the context plus the question: with two earlier messages it is larger.
            long withContext = second.userMessage().message().inputTokens();
            long withoutContext = alone.userMessage().message().inputTokens();
            assertThat(withContext).isEqualTo(withoutContext + first.userMessage().message().inputTokens()
                    + first.reply().message().outputTokens());
        }
    }

    @Test
    void startingSignedInPullsWhatOtherDevicesWroteMeanwhile() throws Exception {
        try (Backend backend = new Backend(dir)) {
            ChatClient laptop = backend.client("laptop");
            laptop.signUp("ada@example.com", "correct horse battery");
            laptop.close();
            try (ChatClient phone = backend.client("phone")) {
                phone.signIn("ada@example.com", "correct horse battery");
                LocalSession session = phone.newSession("From the phone");
                phone.send(session.id(), "written on the phone", null).outcome().get(20, TimeUnit.SECONDS);
            }

            try (ChatClient reopened = backend.client("laptop")) {
                Backend.await(Duration.ofSeconds(20), "the pull at start",
                        () -> reopened.sessions(null, null, 10).size() == 1);

                LocalSession pulled = reopened.sessions(null, null, 10).get(0);
                assertThat(pulled.title()).isEqualTo("From the phone");
                assertThat(reopened.messages(pulled.id())).hasSize(2);
                assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
            }
        }
    }
}
