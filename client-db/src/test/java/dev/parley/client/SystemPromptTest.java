package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.RecordingModel;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Role;
import dev.parley.server.CompletionRequest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A conversation's system prompt (SPEC §5.0, §6): set locally at once, queued like a rename without sending any
 * message again, carried to the other devices of the account, resolved last-writer-wins on its own apart from the
 * title, and told to the model first on every request of the chat.
 */
class SystemPromptTest {
    private static final String EMAIL = "ada@example.com";
    private static final String PASSWORD = "correct horse battery";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    final RecordingModel model = new RecordingModel();
    Backend backend;
    FaultProxy netA;
    FaultProxy netB;
    ChatClient deviceA;
    ChatClient deviceB;

    @BeforeEach
    void start() throws Exception {
        backend = new Backend(dir, b -> b.modelProvider(model));
        netA = backend.newProxy();
        netB = backend.newProxy();
        deviceA = backend.client("device-a", netA);
        deviceA.signUp(EMAIL, PASSWORD);
    }

    @AfterEach
    void stop() throws Exception {
        deviceA.close();
        if (deviceB != null) {
            deviceB.close();
        }
        backend.close();
    }

    @Test
    void aSystemPromptIsShownAtOnceAndPushedWithoutSendingAnyMessageAgain() throws Exception {
        LocalSession session = deviceA.newSession("Lisbon");
        chat(deviceA, session, "Where should we eat?");
        awaitDrained(deviceA);
        long messagesBefore = backend.queryLong("SELECT count(*) FROM chat_messages");
        int modelCallsBefore = model.requests().size();
        netA.mode(Mode.DOWN);

        deviceA.setSystemPrompt(session.id(), "You are a travel agent.");

        LocalSession local = deviceA.session(session.id()).orElseThrow();
        assertThat(local.systemPrompt()).isEqualTo("You are a travel agent.");
        assertThat(local.syncState()).isEqualTo(SyncState.PENDING);
        assertThat(deviceA.syncStatus().unsent()).as("the conversation only").isEqualTo(1);
        assertThat(deviceA.messages(session.id()))
                .allSatisfy(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));

        reconnect(deviceA, netA);

        assertThat(serverPrompt(session)).isEqualTo("You are a travel agent.");
        assertThat(deviceA.session(session.id()).orElseThrow().syncState()).isEqualTo(SyncState.SYNCED);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(messagesBefore);
        assertThat(model.requests()).hasSize(modelCallsBefore);
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void aPromptTheServerCouldNotStoreIsRefusedAndChangesNothing() throws Exception {
        LocalSession session = deviceA.newSession("Limits");
        deviceA.setSystemPrompt(session.id(), "Short.");
        awaitDrained(deviceA);

        assertThatThrownBy(() -> deviceA.setSystemPrompt(session.id(), "x".repeat(Limits.MAX_SYSTEM_PROMPT_CHARS + 1)))
                .isInstanceOfSatisfying(ClientException.class, e -> {
                    assertThat(e.code()).isEqualTo("bad_request");
                    assertThat(e.getMessage()).contains(Integer.toString(Limits.MAX_SYSTEM_PROMPT_CHARS));
                });
        assertThatThrownBy(() -> deviceA.setSystemPrompt(session.id(), "Pasted\0from a file"))
                .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.code()).isEqualTo("bad_request"));
        assertThat(deviceA.session(session.id()).orElseThrow().systemPrompt()).isEqualTo("Short.");
        assertThat(deviceA.syncStatus().unsent()).isZero();

        deviceA.setSystemPrompt(session.id(), "y".repeat(Limits.MAX_SYSTEM_PROMPT_CHARS));
        awaitDrained(deviceA);
        assertThat(serverPrompt(session)).hasSize(Limits.MAX_SYSTEM_PROMPT_CHARS);
    }

    @Test
    void aPromptAndItsClearingReachTheOtherDevice() throws Exception {
        LocalSession session = deviceA.newSession("Sourdough");
        deviceA.setSystemPrompt(session.id(), "You are a baker.\nAnswer briefly.");
        chat(deviceA, session, "How long should it proof?");
        awaitDrained(deviceA);

        deviceB = backend.client("device-b", netB);
        deviceB.signIn(EMAIL, PASSWORD);
        assertThat(deviceB.session(session.id()).orElseThrow().systemPrompt())
                .isEqualTo("You are a baker.\nAnswer briefly.");

        deviceA.setSystemPrompt(session.id(), "   ");
        awaitDrained(deviceA);
        deviceB.pullNow().get(20, TimeUnit.SECONDS);

        assertThat(deviceA.session(session.id()).orElseThrow().systemPrompt()).isNull();
        assertThat(deviceB.session(session.id()).orElseThrow().systemPrompt()).isNull();
        assertThat(serverPrompt(session)).isNullOrEmpty();
        assertThat(deviceB.syncStatus().unsent()).isZero();
    }

    @Test
    void titleAndPromptEachGoToWhicheverDeviceWroteThemLast() throws Exception {
        LocalSession session = sharedSession();
        netA.mode(Mode.DOWN);
        deviceA.rename(session.id(), "Renamed on A");
        deviceA.setSystemPrompt(session.id(), "Prompt from A");
        awaitClockPast(Instant.now());

        deviceB.setSystemPrompt(session.id(), "Prompt from B"); // later than A's prompt, but B never renamed
        awaitDrained(deviceB);
        reconnect(deviceA, netA);
        deviceB.pullNow().get(20, TimeUnit.SECONDS);

        for (ChatClient device : List.of(deviceA, deviceB)) {
            LocalSession seen = device.session(session.id()).orElseThrow();
            assertThat(seen.title()).isEqualTo("Renamed on A");
            assertThat(seen.systemPrompt()).isEqualTo("Prompt from B");
            assertThat(seen.syncState()).isEqualTo(SyncState.SYNCED);
        }
        assertThat(serverPrompt(session)).isEqualTo("Prompt from B");
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void aLaterOfflinePromptWinsOverAnEarlierOneOnTheOtherDevice() throws Exception {
        LocalSession session = sharedSession();
        deviceB.setSystemPrompt(session.id(), "Prompt from B");
        awaitDrained(deviceB);
        netA.mode(Mode.DOWN);
        awaitClockPast(Instant.now());

        deviceA.setSystemPrompt(session.id(), "Prompt from A, later");
        reconnect(deviceA, netA);
        deviceB.pullNow().get(20, TimeUnit.SECONDS);

        assertThat(deviceA.session(session.id()).orElseThrow().systemPrompt()).isEqualTo("Prompt from A, later");
        assertThat(deviceB.session(session.id()).orElseThrow().systemPrompt()).isEqualTo("Prompt from A, later");
        assertThat(serverPrompt(session)).isEqualTo("Prompt from A, later");
    }

    @Test
    void theModelIsToldThePromptFirstWhenAMessageIsSentAndWhenItIsTriedAgain() throws Exception {
        LocalSession session = deviceA.newSession("Poems");
        chat(deviceA, session, "A haiku about rain?");
        deviceA.setSystemPrompt(session.id(), "You write only haiku.");
        model.failNext(1);

        Exchange.Outcome failed = deviceA.send(session.id(), "One about snow?", null).outcome()
                .get(20, TimeUnit.SECONDS);
        assertThat(failed.userMessage().failed()).isTrue();
        CompletionRequest first = model.lastRequest();
        Exchange.Outcome retried = deviceA.retry(failed.userMessage().id()).outcome().get(20, TimeUnit.SECONDS);
        CompletionRequest again = model.lastRequest();

        assertThat(retried.reply()).isNotNull();
        for (CompletionRequest request : List.of(first, again)) {
            assertThat(request.messages()).hasSize(4);
            assertThat(request.messages().get(0)).isEqualTo(new ContextMessage(Role.SYSTEM, "You write only haiku."));
            assertThat(request.messages().get(1)).isEqualTo(new ContextMessage(Role.USER, "A haiku about rain?"));
            assertThat(request.messages().get(3)).isEqualTo(new ContextMessage(Role.USER, "One about snow?"));
        }
        assertThat(model.requests().get(0).messages()).as("before the prompt was set")
                .noneMatch(m -> m.role() == Role.SYSTEM);
    }

    /** A conversation with one exchange, created on A and known (synced) on B; both devices online and drained. */
    private LocalSession sharedSession() throws Exception {
        LocalSession session = deviceA.newSession("Shared");
        chat(deviceA, session, "Hello from A");
        awaitDrained(deviceA);
        deviceB = backend.client("device-b", netB);
        deviceB.signIn(EMAIL, PASSWORD);
        assertThat(deviceB.session(session.id())).isPresent();
        return session;
    }

    private static void chat(ChatClient device, LocalSession session, String text) throws Exception {
        Exchange.Outcome outcome = device.send(session.id(), text, null).outcome().get(20, TimeUnit.SECONDS);
        assertThat(outcome.reply()).as("reply to '%s'", text).isNotNull();
    }

    private static void awaitDrained(ChatClient device) throws Exception {
        Backend.await(WAIT, "the outbox to drain", () -> device.syncStatus().unsent() == 0);
    }

    /** Edits are ordered by millisecond times: make sure the next one is strictly later. */
    private static void awaitClockPast(Instant instant) throws Exception {
        Backend.await(WAIT, "the clock to pass " + instant,
                () -> Instant.now().toEpochMilli() > instant.toEpochMilli());
    }

    private static void reconnect(ChatClient device, FaultProxy net) throws Exception {
        net.mode(Mode.PASS);
        device.connectivityRegained();
        awaitDrained(device);
        device.pullNow().get(20, TimeUnit.SECONDS);
    }

    private String serverPrompt(LocalSession session) throws SQLException {
        try (Connection c = DriverManager.getConnection(backend.dbUrl);
             PreparedStatement ps = c.prepareStatement("SELECT system_prompt FROM chat_sessions WHERE id = ?")) {
            ps.setString(1, session.id());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
