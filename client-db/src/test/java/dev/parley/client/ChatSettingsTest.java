package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.RecordingModel;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Limits;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.Role;
import dev.parley.server.CompletionRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chat's own parameters (temperature, reply length) are this device's, fall back field by field to the client's
 * defaults, and reach the model; the conversation remembers the model it last used.
 */
class ChatSettingsTest {
    private static final String EMAIL = "ada@example.com";
    private static final String PASSWORD = "correct horse battery";

    @TempDir
    Path dir;

    final RecordingModel model = new RecordingModel();

    @Test
    void theModelIsAskedWithTheChatsOwnParametersElseTheClientDefaults() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            client.setDefaultParameters(new ChatParameters(0.9, 300));
            LocalSession tuned = client.newSession("Tuned");
            client.setChatParameters(tuned.id(), new ChatParameters(0.1, null));
            client.setSystemPrompt(tuned.id(), "Answer in French.");
            LocalSession plain = client.newSession("Plain");

            CompletionRequest own = ask(client, tuned, "Bonjour?");
            CompletionRequest defaults = ask(client, plain, "Hello?");
            client.setDefaultParameters(ChatParameters.NONE);
            CompletionRequest none = ask(client, plain, "Hello again?");

            assertThat(own.temperature()).isEqualTo(0.1);
            assertThat(own.maxTokens()).as("the chat leaves it to the default").isEqualTo(300);
            assertThat(own.messages().get(0)).as("signed out too").isEqualTo(
                    new ContextMessage(Role.SYSTEM, "Answer in French."));
            assertThat(defaults.temperature()).isEqualTo(0.9);
            assertThat(defaults.maxTokens()).isEqualTo(300);
            assertThat(none.temperature()).isNull();
            assertThat(none.maxTokens()).isNull();
            assertThat(client.chatParameters(tuned.id())).isEqualTo(new ChatParameters(0.1, null));
            assertThat(client.chatParameters(plain.id())).isEqualTo(ChatParameters.NONE);
        }
    }

    @Test
    void aChatsParametersStayOnThisDeviceAcrossRestartsAndAreNeverSynced() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model))) {
            String sessionId;
            try (ChatClient laptop = backend.client("laptop")) {
                laptop.signUp(EMAIL, PASSWORD);
                LocalSession session = laptop.newSession("Tuned");
                Backend.await(Duration.ofSeconds(20), "the new chat to be pushed",
                        () -> laptop.syncStatus().unsent() == 0);
                laptop.setChatParameters(session.id(), new ChatParameters(1.5, 4000));
                assertThat(laptop.syncStatus().unsent()).as("nothing queued").isZero();
                assertThat(laptop.session(session.id()).orElseThrow().syncState()).isEqualTo(SyncState.SYNCED);
                sessionId = session.id();
            }
            try (ChatClient reopened = backend.client("laptop"); ChatClient phone = backend.client("phone")) {
                phone.signIn(EMAIL, PASSWORD);

                assertThat(reopened.chatParameters(sessionId)).isEqualTo(new ChatParameters(1.5, 4000));
                assertThat(phone.session(sessionId)).isPresent();
                assertThat(phone.chatParameters(sessionId)).isEqualTo(ChatParameters.NONE);
            }
        }
    }

    @Test
    void parametersOutsideTheirRangesAreRefusedInPlainLanguage() {
        for (ChatParameters fine : new ChatParameters[] {new ChatParameters(0.0, 1),
                new ChatParameters(2.0, Limits.MAX_REPLY_TOKENS), ChatParameters.NONE}) {
            assertThat(fine.orElse(ChatParameters.NONE)).isEqualTo(fine);
        }
        assertRefused(() -> new ChatParameters(2.01, null), "temperature");
        assertRefused(() -> new ChatParameters(-0.1, null), "temperature");
        assertRefused(() -> new ChatParameters(Double.NaN, null), "temperature");
        assertRefused(() -> new ChatParameters(null, 0), "reply");
        assertRefused(() -> new ChatParameters(null, Limits.MAX_REPLY_TOKENS + 1), "reply");
    }

    @Test
    void aConversationRemembersTheModelOfItsNewestMessageThatNamesOne() throws Exception {
        try (Backend backend = new Backend(dir, b -> b.modelProvider(model));
             ChatClient client = backend.client("device")) {
            LocalSession session = client.newSession("Models");
            LocalSession empty = client.newSession("Empty");
            assertThat(client.lastModel(session.id())).isEmpty();

            client.send(session.id(), "With the other one", RecordingModel.OTHER_MODEL).outcome()
                    .get(20, TimeUnit.SECONDS);
            assertThat(client.lastModel(session.id())).contains(RecordingModel.OTHER_MODEL);

            client.send(session.id(), "With the server's default", null).outcome().get(20, TimeUnit.SECONDS);
            assertThat(client.lastModel(session.id())).as("the default the server answered with")
                    .contains(ModelsResponse.LOCAL_MODEL_ID);

            backend.proxy.mode(Mode.DOWN);
            Exchange.Outcome unanswered = client.send(session.id(), "Offline, with the other one",
                    RecordingModel.OTHER_MODEL).outcome().get(20, TimeUnit.SECONDS);
            assertThat(unanswered.userMessage().failed()).isTrue();
            assertThat(client.lastModel(session.id())).contains(RecordingModel.OTHER_MODEL);
            assertThat(client.lastModel(empty.id())).isEmpty();
            assertThat(client.lastModel("no-such-conversation")).isEmpty();
        }
    }

    private CompletionRequest ask(ChatClient client, LocalSession session, String text) throws Exception {
        Exchange.Outcome outcome = client.send(session.id(), text, null).outcome().get(20, TimeUnit.SECONDS);
        assertThat(outcome.reply()).as("reply to '%s'", text).isNotNull();
        return model.lastRequest();
    }

    private static void assertRefused(Runnable make, String mentioned) {
        assertThatThrownBy(make::run).isInstanceOfSatisfying(ClientException.class, e -> {
            assertThat(e.code()).isEqualTo("bad_request");
            assertThat(e.getMessage()).contains(mentioned);
        });
    }
}
