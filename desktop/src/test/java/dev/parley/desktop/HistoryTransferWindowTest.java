package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static dev.parley.desktop.FxWait.showing;
import static dev.parley.desktop.Screenshots.assertIsAScreenshot;
import static dev.parley.desktop.Screenshots.save;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.desktop.view.HistoryFiles;
import dev.parley.desktop.view.MainView;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javafx.application.Application;
import javafx.scene.Node;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.stage.Stage;
import javafx.stage.Window;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * File → Import chats… and Export all chats… in the real window, headless, over a real client and server. The
 * platform's Open and Save dialogs are replaced by the window's {@link HistoryFiles} seam; everything else is what
 * the user clicks. The import test also takes the README's picture of an import ({@code import.png}).
 */
@ExtendWith(ApplicationExtension.class)
class HistoryTransferWindowTest {
    private Stage stage;
    private String userAgentStylesheet;
    private Path dir;
    private ParleyServer server;
    private ChatClient client;
    private FxUiExecutor ui;
    /** What the seam was asked, in order: "open", or "save " and the suggested name. */
    private final List<String> asked = new CopyOnWriteArrayList<>();

    @Start
    void start(Stage stage) throws IOException {
        this.stage = stage;
        userAgentStylesheet = Application.getUserAgentStylesheet();
        dir = Files.createTempDirectory("parley-history");
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url())
                .backoff(Duration.ofSeconds(30), Duration.ofMinutes(1)).build());
        ui = new FxUiExecutor();
    }

    @AfterEach
    void stop() throws Exception {
        WaitForAsyncUtils.asyncFx(() -> Application.setUserAgentStylesheet(userAgentStylesheet))
                .get(10, TimeUnit.SECONDS);
        ui.close();
        client.close();
        server.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void fileMenuImportsAChatGptExportIntoTheSidebar(FxRobot robot) throws Exception {
        Path export = dir.resolve("conversations.json");
        try (InputStream in = getClass().getResourceAsStream("/chatgpt/conversations.json")) {
            Files.copy(in, export);
        }
        showWindow(robot, export, null);
        assertThat(fx(() -> robot.lookup("#sessions").queryAs(ListView.class).getItems().size())).isZero();

        robot.clickOn("File");
        robot.clickOn("Import chats…");

        await("the imported conversations in the sidebar", () -> titles(robot).size() == 4);
        assertThat(titles(robot)).containsExactlyInAnyOrder("Weekend in Lisbon", "Is my sourdough starter ready?",
                "Rust lifetimes, simply", "Birthday gift for my sister");
        await("what the import did", () -> text(robot, "#transferResult").startsWith("Imported"));
        assertThat(asked).containsExactly("open");
        assertThat(text(robot, "#transferResult")).isEqualTo(
                "Imported 4 conversations (15 messages) from ChatGPT. 1 image or file was kept as a note.");
        assertThat(fx(() -> showing(robot.lookup("#transferPanel").query()))).isTrue();
        assertThat(fx(() -> showing(robot.lookup("#transferProgress").query()))).as("the bar, once done").isFalse();

        // The imported conversation opens like any other, on the version the export showed last.
        robot.clickOn("Weekend in Lisbon");
        await("the conversation's messages", () -> messages(robot).size() == 4);
        assertThat(messages(robot).get(3).message().content()).contains("prato do dia");

        Path picture = save(robot, stage.getScene(), "import.png");
        assertIsAScreenshot(picture);

        robot.clickOn("#transferDismiss");
        await("the panel goes", () -> !fx(() -> showing(robot.lookup("#transferPanel").query())));
    }

    @Test
    void fileMenuExportsAllChatsToTheZipChosen(FxRobot robot) throws Exception {
        LocalSession kept = client.newSession("Keep this one");
        client.send(kept.id(), "Hello", null); // no reply needed: the question is a message to export
        Path zip = dir.resolve("everything.zip");
        showWindow(robot, null, zip);

        robot.clickOn("File");
        robot.clickOn("Export all chats…");

        await("what the export did", () -> text(robot, "#transferResult").startsWith("Exported"));
        assertThat(asked).containsExactly("save parley-export-" + LocalDate.now() + ".zip");
        assertThat(text(robot, "#transferResult")).startsWith("Exported 1 conversation (")
                .endsWith(") to everything.zip.");
        assertThat(zip).isRegularFile();
    }

    private void showWindow(FxRobot robot, Path importFrom, Path exportTo) throws Exception {
        HistoryFiles files = new HistoryFiles() {
            @Override
            public Optional<Path> importFrom(Window owner) {
                asked.add("open");
                return Optional.ofNullable(importFrom);
            }

            @Override
            public Optional<Path> exportTo(Window owner, String suggestedName) {
                asked.add("save " + suggestedName);
                return Optional.ofNullable(exportTo);
            }
        };
        fx(() -> {
            MainView view = ParleyDesktop.show(stage, client, ui, "history", new SettingsStore(dir), Settings.DEFAULTS,
                    (owner, name, format) -> Optional.empty());
            view.chooseHistoryFilesWith(files);
            return view;
        });
        WaitForAsyncUtils.waitForFxEvents();
    }

    @SuppressWarnings("unchecked")
    private static List<String> titles(FxRobot robot) throws Exception {
        return fx(() -> ((ListView<LocalSession>) robot.lookup("#sessions").queryAs(ListView.class)).getItems()
                .stream().map(LocalSession::title).toList());
    }

    @SuppressWarnings("unchecked")
    private static List<LocalMessage> messages(FxRobot robot) throws Exception {
        return fx(() -> List.copyOf(((ListView<LocalMessage>) robot.lookup("#messages").queryAs(ListView.class))
                .getItems()));
    }

    private static String text(FxRobot robot, String id) throws Exception {
        return fx(() -> {
            Node node = robot.lookup(id).query();
            return ((Label) node).getText();
        });
    }
}
