package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static dev.parley.desktop.Screenshots.assertIsAScreenshot;
import static dev.parley.desktop.Screenshots.sideBySide;
import static dev.parley.desktop.Screenshots.snapshot;
import static dev.parley.desktop.Screenshots.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.desktop.viewmodel.ReplyLabels;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import dev.parley.server.testing.PacedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javafx.scene.Node;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * Two windows of the app, two data directories, one account on one server — two devices on one desk: what is
 * typed in one shows up in the other with nothing done there, a reply being written is seen growing in both, and
 * the picture of the pair is the README's (two-windows-live.png).
 */
@ExtendWith(ApplicationExtension.class)
class TwoWindowsLiveTest {
    private static final String EMAIL = "ada@example.com";
    private static final String PASSWORD = "a long password";

    private final PacedModel model = new PacedModel();
    private Path dir;
    private ParleyServer server;
    private ChatClient laptop;
    private ChatClient desktop;
    private FxUiExecutor ui;
    private Stage laptopWindow;
    private Stage desktopWindow;

    @Start
    void start(Stage stage) throws IOException {
        laptopWindow = stage;
        dir = Files.createTempDirectory("parley-two-windows");
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .modelProvider(model).build());
        laptop = ChatClient.open(config("laptop"));
        desktop = ChatClient.open(config("desktop"));
        ui = new FxUiExecutor();
    }

    private ClientConfig config(String name) {
        return ClientConfig.builder(dir.resolve(name), server.url()).backoff(Duration.ofMillis(100),
                Duration.ofSeconds(1)).liveBackoffMax(Duration.ofSeconds(1)).build();
    }

    @AfterEach
    void stop() throws Exception {
        ui.close();
        laptop.close();
        desktop.close();
        server.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void eachWindowShowsTheOthersMessagesAndRepliesLive(FxRobot robot) throws Exception {
        laptop.signUp(EMAIL, PASSWORD);
        desktop.signIn(EMAIL, PASSWORD);
        robot.interact(() -> {
            desktopWindow = new Stage();
            show(laptopWindow, laptop, "laptop");
            show(desktopWindow, desktop, "desktop");
            desktopWindow.setX(laptopWindow.getX() + 40);
            desktopWindow.setY(laptopWindow.getY() + 40);
        });
        WaitForAsyncUtils.waitForFxEvents();
        for (Stage window : List.of(laptopWindow, desktopWindow)) {
            await("both windows live", () -> "Synced ✓ · live".equals(text(window, "#syncStatus")));
        }

        typeIn(robot, laptopWindow, "Which trail for Saturday?");
        model.awaitReply().emit("The ridge trail: shade all morning.").finish();
        await("the laptop's conversation in the desktop's sidebar", () -> sessionTitle(desktopWindow).isPresent());
        robot.interact(desktopWindow::toFront);
        robot.clickOn(sessionTitle(desktopWindow).orElseThrow());
        await("the laptop's turn in the desktop window", () -> contents(desktopWindow)
                .equals(List.of("Which trail for Saturday?", "The ridge trail: shade all morning.")));

        typeIn(robot, laptopWindow, "And if it rains?");
        PacedModel.Reply reply = model.awaitReply();
        reply.emit("Then the lake loop: ");
        await("the reply growing in the desktop window", () -> contents(desktopWindow).equals(List.of(
                "Which trail for Saturday?", "The ridge trail: shade all morning.", "And if it rains?",
                "Then the lake loop: ")));
        await("marked as written on another device", () -> fx(() -> desktopWindow.getScene().getRoot()
                .lookupAll(".message-state").stream().map(n -> ((Label) n).getText()).toList())
                .contains(ReplyLabels.WRITING_ELSEWHERE));
        assertIsAScreenshot(write(sideBySide(24, snapshot(laptopWindow.getScene()),
                snapshot(desktopWindow.getScene())), "two-windows-live.png"));

        reply.emit("flat, and the café opens at nine.").finish();
        List<String> whole = List.of("Which trail for Saturday?", "The ridge trail: shade all morning.",
                "And if it rains?", "Then the lake loop: flat, and the café opens at nine.");
        await("the stored reply in the desktop window", () -> contents(desktopWindow).equals(whole)
                && messages(desktopWindow).stream().noneMatch(LocalMessage::unfinished));
        await("the same in the laptop window", () -> contents(laptopWindow).equals(whole));

        typeIn(robot, desktopWindow, "Booked. Thanks!");
        model.awaitReply().emit("Enjoy the walk.").finish();
        await("the desktop's message in the laptop window", () -> contents(laptopWindow).size() == 6
                && contents(laptopWindow).get(4).equals("Booked. Thanks!"));
        assertThat(desktop.messages(messages(desktopWindow).get(0).message().sessionId()))
                .extracting(m -> m.message().content()).isEqualTo(contents(laptopWindow));
        assertThat(laptop.liveExchanges()).isEmpty();
        assertThat(desktop.liveExchanges()).isEmpty();
    }

    // ----------------------------------------------------------------- helpers

    private void show(Stage window, ChatClient client, String name) {
        try {
            ParleyDesktop.show(window, client, ui, "test server", new SettingsStore(Files.createDirectories(
                    dir.resolve(name + "-settings"))), new Settings(null, null, false));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void typeIn(FxRobot robot, Stage window, String text) throws Exception {
        robot.interact(window::toFront);
        Node composer = fx(() -> window.getScene().getRoot().lookup("#composer"));
        robot.clickOn(composer).write(text).type(KeyCode.ENTER);
    }

    private static String text(Stage window, String query) throws Exception {
        return fx(() -> ((Label) window.getScene().getRoot().lookup(query)).getText());
    }

    private static Optional<Label> sessionTitle(Stage window) throws Exception {
        return fx(() -> window.getScene().getRoot().lookupAll(".session-title").stream().map(n -> (Label) n)
                .filter(l -> "Which trail for Saturday?".equals(l.getText())).findFirst());
    }

    @SuppressWarnings("unchecked")
    private static List<LocalMessage> messages(Stage window) throws Exception {
        return fx(() -> List.copyOf(((ListView<LocalMessage>) window.getScene().getRoot().lookup("#messages"))
                .getItems()));
    }

    private static List<String> contents(Stage window) throws Exception {
        return messages(window).stream().map(m -> m.message().content()).toList();
    }
}
