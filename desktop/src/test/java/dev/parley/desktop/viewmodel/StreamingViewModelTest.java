package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.protocol.FinishReason;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import dev.parley.server.testing.PacedModel;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reply as the window shows it while it is written, without a window: the text grows, Send is Stop meanwhile,
 * stopped and cut-off replies say so, and a reply keeps growing in its own conversation while another is open.
 */
class StreamingViewModelTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    final PacedModel model = new PacedModel();
    ParleyServer server;
    ChatClient client;
    QueuedUi ui;
    MainViewModel vm;

    @BeforeEach
    void start() {
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .modelProvider(model).build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url()).build());
        client.signUp("ada@example.com", "correct horse battery");
        ui = new QueuedUi();
        vm = new MainViewModel(client, ui, "test server");
        vm.start();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private LocalMessage shownReply() {
        return vm.messages().size() < 2 ? null : vm.messages().get(1);
    }

    private PacedModel.Reply send(String text) throws InterruptedException {
        vm.draftProperty().set(text);
        vm.send();
        return model.awaitReply();
    }

    @Test
    void theReplyGrowsWhileSendIsStopAndEndsComplete() throws Exception {
        PacedModel.Reply reply = send("tell me a story");
        assertThat(vm.writingProperty().get()).as("Send is Stop at once").isTrue();
        assertThat(vm.thinkingProperty().get()).as("no word yet").isTrue();

        reply.emit("Once");
        ui.await(WAIT, "the first word", () -> shownReply() != null
                && shownReply().message().content().equals("Once"));
        assertThat(shownReply().unfinished()).isTrue();
        assertThat(ReplyLabels.of(shownReply())).isEqualTo(ReplyLabels.WRITING);
        assertThat(vm.thinkingProperty().get()).isFalse();
        assertThat(vm.writingProperty().get()).isTrue();

        reply.emit(" upon").emit(" a time");
        ui.await(WAIT, "more words", () -> shownReply().message().content().equals("Once upon a time"));
        vm.draftProperty().set("a second question");
        vm.send();
        assertThat(vm.draftProperty().get()).as("no second send while one is written").isEqualTo("a second question");

        reply.finish();
        ui.await(WAIT, "the stored reply", () -> !vm.writingProperty().get() && !shownReply().unfinished());
        assertThat(vm.messages()).hasSize(2);
        assertThat(shownReply().message().content()).isEqualTo("Once upon a time");
        assertThat(shownReply().message().outputTokens()).isPositive();
        assertThat(ReplyLabels.of(shownReply())).as("complete: no label").isNull();
    }

    @Test
    void stopKeepsWhatWasWrittenAndLabelsItStopped() throws Exception {
        PacedModel.Reply reply = send("go on and on");
        reply.emit("This is enough");
        ui.await(WAIT, "the text", () -> shownReply() != null
                && shownReply().message().content().equals("This is enough"));

        vm.stop();

        ui.await(WAIT, "the stopped reply", () -> !vm.writingProperty().get() && shownReply() != null
                && shownReply().stopped() && !shownReply().unfinished());
        assertThat(reply.wasCancelled()).isTrue();
        assertThat(shownReply().message().content()).isEqualTo("This is enough");
        assertThat(ReplyLabels.of(shownReply())).isEqualTo(ReplyLabels.STOPPED);
    }

    @Test
    void aReplyCutOffByTheTokenLimitIsLabelledSo() throws Exception {
        PacedModel.Reply reply = send("a long essay");
        reply.emit("It was the best of times");
        reply.finish(FinishReason.LENGTH);

        ui.await(WAIT, "the cut-off reply", () -> !vm.writingProperty().get() && shownReply() != null
                && !shownReply().unfinished());
        assertThat(shownReply().cutOff()).isTrue();
        assertThat(ReplyLabels.of(shownReply())).isEqualTo(ReplyLabels.CUT_OFF);
    }

    @Test
    void switchingConversationsMidReplyKeepsItGrowingInItsOwn() throws Exception {
        PacedModel.Reply reply = send("first conversation");
        reply.emit("Partly ");
        ui.await(WAIT, "the first words", () -> shownReply() != null
                && shownReply().message().content().equals("Partly "));
        LocalSession first = vm.selectedProperty().get();

        vm.newChat();
        ui.await(WAIT, "the other conversation", () -> vm.selectedProperty().get() != null
                && !vm.selectedProperty().get().id().equals(first.id()));
        assertThat(vm.messages()).isEmpty();
        assertThat(vm.writingProperty().get()).as("nothing is written here").isFalse();
        reply.emit("written while away");
        ui.drain();
        assertThat(vm.messages()).as("its words do not land here").isEmpty();

        vm.selectedProperty().set(first);
        ui.await(WAIT, "the reply as it stands", () -> shownReply() != null
                && shownReply().message().content().equals("Partly written while away"));
        assertThat(vm.writingProperty().get()).isTrue();

        reply.finish();
        ui.await(WAIT, "the stored reply", () -> !vm.writingProperty().get() && !shownReply().unfinished());
        assertThat(shownReply().message().content()).isEqualTo("Partly written while away");
    }
}
