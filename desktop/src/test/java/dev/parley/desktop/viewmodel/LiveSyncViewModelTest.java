package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.Exchange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.protocol.Role;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import dev.parley.server.testing.PacedModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The window's side of live sync (SPEC §6), without a window: what another device of the same account does shows
 * up here with nothing done — its conversations, its reply growing in the open conversation, its delete of the
 * open conversation, which closes with a note — and the status bar says the changes arrive live.
 */
class LiveSyncViewModelTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String EMAIL = "ada@example.com";
    private static final String PASSWORD = "correct horse battery";

    @TempDir
    Path dir;

    private final PacedModel model = new PacedModel();
    private ParleyServer server;
    private ChatClient here;
    private ChatClient otherDevice;
    private QueuedUi ui;
    private MainViewModel vm;

    @BeforeEach
    void start() throws Exception {
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .modelProvider(model).build());
        otherDevice = ChatClient.open(config("other-device"));
        otherDevice.signUp(EMAIL, PASSWORD);
        here = ChatClient.open(config("this-device"));
        ui = new QueuedUi();
        vm = new MainViewModel(here, ui, "test server");
        vm.start();
        here.signIn(EMAIL, PASSWORD);
        ui.await(WAIT, "live", () -> "Synced ✓ · live".equals(vm.syncTextProperty().get()));
    }

    private ClientConfig config(String name) {
        return ClientConfig.builder(dir.resolve(name), server.url()).backoff(Duration.ofMillis(50),
                Duration.ofMillis(200)).liveBackoffMax(Duration.ofSeconds(1)).build();
    }

    @AfterEach
    void stop() {
        here.close();
        otherDevice.close();
        server.close();
    }

    @Test
    void anotherDevicesConversationAndItsReplyGrowingShowUpWithNothingDoneHere() throws Exception {
        LocalSession session = otherDevice.newSession("From the laptop");
        answer(otherDevice.send(session.id(), "First question", null), "First answer");
        ui.await(WAIT, "the conversation in the sidebar", () -> vm.sessions().stream()
                .anyMatch(s -> s.id().equals(session.id()) && s.title().equals("From the laptop")));
        vm.selectedProperty().set(vm.sessions().stream().filter(s -> s.id().equals(session.id())).findFirst()
                .orElseThrow());
        ui.await(WAIT, "its first turn", () -> vm.messages().size() == 2);

        Exchange second = otherDevice.send(session.id(), "Go on", null);
        PacedModel.Reply reply = model.awaitReply();
        reply.emit("Growing ");
        ui.await(WAIT, "the question and the growing reply", () -> vm.messages().size() == 4
                && vm.messages().get(3).message().content().equals("Growing "));
        LocalMessage growing = vm.messages().get(3);
        assertThat(growing.unfinished()).isTrue();
        assertThat(growing.id()).isEqualTo(second.replyId());
        assertThat(vm.stateLabel(growing)).isEqualTo(ReplyLabels.WRITING_ELSEWHERE);
        assertThat(vm.messages().get(2).message().content()).isEqualTo("Go on");
        assertThat(vm.canEdit(vm.messages().get(2))).as("a stand-in is not stored here: nothing to edit").isFalse();

        reply.emit("and grown.");
        ui.await(WAIT, "the reply grown", () -> vm.messages().get(vm.messages().size() - 1).message().content()
                .equals("Growing and grown."));
        reply.finish();
        assertThat(second.outcome().get(20, TimeUnit.SECONDS)).isNotNull();
        ui.await(WAIT, "the stored reply in the stand-in's place", () -> vm.messages().size() == 4
                && !vm.messages().get(3).unfinished() && vm.messages().get(3).id().equals(second.replyId()));
        assertThat(vm.messages()).extracting(m -> m.message().role())
                .containsExactly(Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT);
        assertThat(vm.stateLabel(vm.messages().get(3))).isNull();
    }

    @Test
    void theOpenConversationDeletedOnAnotherDeviceClosesWithANote() throws Exception {
        LocalSession session = otherDevice.newSession("Soon gone");
        answer(otherDevice.send(session.id(), "Hello", null), "Hi");
        ui.await(WAIT, "the conversation here", () -> vm.sessions().stream()
                .anyMatch(s -> s.id().equals(session.id())));
        vm.selectedProperty().set(vm.sessions().stream().filter(s -> s.id().equals(session.id())).findFirst()
                .orElseThrow());
        ui.await(WAIT, "its messages", () -> vm.messages().size() == 2);

        otherDevice.delete(session.id());

        ui.await(WAIT, "the conversation closed", () -> vm.selectedProperty().get() == null);
        assertThat(vm.noticeProperty().get()).isEqualTo("“Soon gone” was deleted on another device.");
        assertThat(vm.sessions()).extracting(LocalSession::id).doesNotContain(session.id());
        assertThat(vm.messages()).isEmpty();
    }

    @Test
    void theStatusBarSaysReconnectingWhileTheServerIsAway() throws Exception {
        int port = server.port();
        server.close();
        ui.await(WAIT, "reconnecting", () -> vm.syncTextProperty().get().endsWith("· reconnecting"));

        server = ParleyServer.start(ServerConfig.builder().port(port)
                .databaseUrl("jdbc:sqlite:" + dir.resolve("s.db")).modelProvider(model).build());
        ui.await(WAIT, "live again", () -> "Synced ✓ · live".equals(vm.syncTextProperty().get()));
    }

    private void answer(Exchange exchange, String text) throws Exception {
        model.awaitReply().emit(text).finish();
        assertThat(exchange.outcome().get(20, TimeUnit.SECONDS)).isNotNull();
    }
}
