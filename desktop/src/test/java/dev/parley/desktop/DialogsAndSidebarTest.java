package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ChatListener;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalChange;
import dev.parley.client.LocalSession;
import dev.parley.desktop.export.ConversationExport.Format;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.desktop.view.MainView;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javafx.application.Application;
import javafx.event.Event;
import javafx.geometry.Bounds;
import javafx.geometry.Point2D;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.TextField;
import javafx.scene.input.ContextMenuEvent;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/** Settings, export, Escape on every dialog, and a sidebar of 10,000 conversations, in the real window. */
@ExtendWith(ApplicationExtension.class)
class DialogsAndSidebarTest {
    private Stage stage;
    private Path dir;
    private ParleyServer server;
    private ChatClient client;
    private FxUiExecutor ui;
    private final List<Path> exportTargets = new CopyOnWriteArrayList<>();

    @Start
    void start(Stage stage) throws IOException {
        this.stage = stage;
        dir = Files.createTempDirectory("parley-dialogs");
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url())
                .backoff(Duration.ofSeconds(30), Duration.ofMinutes(1)).build());
        ui = new FxUiExecutor();
    }

    @AfterEach
    void stop() throws IOException {
        ui.close();
        client.close();
        server.close();
        Application.setUserAgentStylesheet(null);
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void ctrlCommaOpensSettingsWhichValidatesInlineSavesAndSwitchesToTheDarkTheme(FxRobot robot) throws Exception {
        showWindow(robot);
        assertThat(Application.getUserAgentStylesheet()).containsIgnoringCase("light");

        robot.press(KeyCode.CONTROL).type(KeyCode.COMMA).release(KeyCode.CONTROL);
        await("the settings dialog", () -> showing("Settings"));
        assertThat(fx(() -> robot.lookup("#settingsDataDir").queryAs(TextField.class).getText()))
                .isEqualTo(dir.toAbsolutePath().toString());
        robot.clickOn("#settingsRemote");
        robot.clickOn("#settingsServerUrl").write("parley.example.com");
        robot.clickOn("#settingsSave");

        assertThat(fx(() -> robot.lookup("#settingsError").queryAs(Label.class).getText()))
                .contains("must start with http:// or https://");
        assertThat(showing("Settings")).isTrue();

        robot.clickOn("#settingsEmbedded");
        robot.clickOn("#settingsDark");
        robot.clickOn("#settingsSave");

        await("the dialog closes", () -> !showing("Settings"));
        assertThat(Application.getUserAgentStylesheet()).containsIgnoringCase("dark");
        assertThat(new SettingsStore(dir).load()).isEqualTo(new Settings(null, null, true));
    }

    @Test
    void escapeClosesEveryDialog(FxRobot robot) throws Exception {
        client.newSession("Keep me");
        showWindow(robot);

        robot.press(KeyCode.CONTROL).type(KeyCode.COMMA).release(KeyCode.CONTROL);
        await("the settings dialog", () -> showing("Settings"));
        robot.type(KeyCode.ESCAPE);
        await("Escape closes settings", () -> !showing("Settings"));

        robot.clickOn("#signIn");
        await("the sign-in dialog", () -> showing("Sign in"));
        robot.type(KeyCode.ESCAPE);
        await("Escape closes sign-in", () -> !showing("Sign in"));

        openMenuOf(robot, "Keep me");
        robot.clickOn("Rename…");
        await("the rename dialog", () -> dialogCount() == 1);
        robot.type(KeyCode.ESCAPE);
        await("Escape closes rename", () -> dialogCount() == 0);

        openMenuOf(robot, "Keep me");
        robot.clickOn("Delete…");
        await("the delete confirmation", () -> dialogCount() == 1);
        robot.type(KeyCode.ESCAPE);
        await("Escape closes the confirmation", () -> dialogCount() == 0);

        assertThat(client.sessions(null, null, 10)).extracting(LocalSession::title)
                .as("cancelled dialogs change nothing").containsExactly("Keep me");
    }

    @Test
    void exportFromTheSidebarMenuWritesTheChosenFile(FxRobot robot) throws Exception {
        LocalSession session = client.newSession(null);
        client.send(session.id(), "Name three rivers", null).outcome().get(20, TimeUnit.SECONDS);
        showWindow(robot);
        Path target = dir.resolve("rivers.md");
        exportTargets.add(target);

        openMenuOf(robot, "Name three rivers");
        robot.clickOn("Export as Markdown…");

        await("the file is written", () -> Files.exists(target));
        assertThat(Files.readString(target)).startsWith("# Name three rivers").contains("## You · ", "## Parley · ");
        await("the window says where it went", () -> fx(() -> robot.lookup("#notice").queryAs(Label.class)
                .getText()).contains(target.toString()));
    }

    @Test
    void tenThousandConversationsArePagedAndOnlyTheVisibleRowsAreDrawn(FxRobot robot) throws Exception {
        // Each new conversation is told to listeners on the client's event thread; the window must open after the
        // last of them, or a late one would join the first page as a new row.
        AtomicInteger told = new AtomicInteger();
        client.addListener(new ChatListener() {
            @Override
            public void changed(LocalChange change) {
                told.incrementAndGet();
            }
        });
        for (int i = 0; i < 10_000; i++) {
            client.newSession("Conversation " + i);
        }
        await("every new conversation told to listeners", () -> told.get() >= 10_000);
        showWindow(robot);
        ListView<LocalSession> list = robot.lookup("#sessions").queryListView();
        await("the first page", () -> fx(() -> list.getItems().size()) > 0);
        assertThat(fx(() -> list.getItems().size())).as("one page, not everything").isEqualTo(200);
        assertThat(fx(() -> list.getItems().get(0).title())).isEqualTo("Conversation 9999");

        // Scroll to the end again and again, as someone holding End would: pages arrive as the end comes near.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (fx(() -> list.getItems().size()) < 10_000 && System.nanoTime() < deadline) {
            robot.interact(() -> list.scrollTo(list.getItems().size() - 1));
            WaitForAsyncUtils.sleep(20, TimeUnit.MILLISECONDS);
        }

        assertThat(fx(() -> list.getItems().size())).isEqualTo(10_000);
        assertThat(fx(() -> list.getItems().stream().map(LocalSession::id).distinct().count())).isEqualTo(10_000);
        assertThat(fx(() -> list.getItems().get(9_999).title())).isEqualTo("Conversation 0");
        int cells = fx(() -> list.lookupAll(".list-cell").stream().filter(n -> n instanceof ListCell<?>).toList()
                .size());
        assertThat(cells).as("a virtualized list draws about a screenful of rows").isBetween(5, 100);
    }

    // ------------------------------------------------------------------ helpers

    private void showWindow(FxRobot robot) {
        MainView.ExportTarget chooser = (owner, name, format) -> {
            assertThat(format).isEqualTo(Format.MARKDOWN);
            return exportTargets.isEmpty() ? Optional.empty() : Optional.of(exportTargets.remove(0));
        };
        robot.interact(() -> ParleyDesktop.show(stage, client, ui, "dialogs", new SettingsStore(dir),
                Settings.DEFAULTS, chooser));
        WaitForAsyncUtils.waitForFxEvents();
    }

    /**
     * Opens the sidebar menu of the conversation titled {@code title}. Headless Monocle turns a right click into
     * mouse events only; a real desktop also sends a context-menu request, which is fired here.
     */
    private void openMenuOf(FxRobot robot, String title) throws Exception {
        await("the sidebar shows " + title, () -> title(robot, title).isPresent());
        robot.interact(() -> {
            Label label = title(robot, title).orElseThrow();
            Bounds bounds = label.localToScreen(label.getBoundsInLocal());
            Point2D inScene = label.localToScene(label.getBoundsInLocal().getCenterX(),
                    label.getBoundsInLocal().getCenterY());
            Event.fireEvent(label, new ContextMenuEvent(ContextMenuEvent.CONTEXT_MENU_REQUESTED, inScene.getX(),
                    inScene.getY(), bounds.getCenterX(), bounds.getCenterY(), false, null));
        });
        WaitForAsyncUtils.waitForFxEvents();
    }

    private static Optional<Label> title(FxRobot robot, String title) {
        return robot.lookup(".session-title").queryAllAs(Label.class).stream()
                .filter(l -> title.equals(l.getText())).findFirst();
    }

    private boolean showing(String title) throws Exception {
        return fx(() -> Stage.getWindows().stream().anyMatch(w -> w instanceof Stage s && title.equals(s.getTitle())
                && s.isShowing()));
    }

    /** Windows owned by the main window other than the named dialogs: the Alert and TextInputDialog kind. */
    private long dialogCount() throws Exception {
        return fx(() -> Stage.getWindows().stream().filter(w -> w instanceof Stage s && s != stage && s.isShowing()
                && s.getOwner() == stage).count());
    }

}
