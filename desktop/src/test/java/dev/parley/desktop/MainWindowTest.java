package dev.parley.desktop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.client.LocalMessage;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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

/** The real window, headless: what a person sees and does. */
@ExtendWith(ApplicationExtension.class)
class MainWindowTest {
    private Path dir;
    private ParleyServer server;
    private ChatClient client;
    private FxUiExecutor ui;

    @Start
    void start(Stage stage) throws Exception {
        dir = Files.createTempDirectory("parley-ui");
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url())
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200)).build());
        ui = new FxUiExecutor();
        ParleyDesktop.show(stage, client, ui, "test", new SettingsStore(dir), Settings.DEFAULTS);
    }

    @AfterEach
    void stop() {
        ui.close();
        client.close();
        server.close();
    }

    @Test
    void typingAndPressingEnterShowsTheReplyWithTokenCounts(FxRobot robot) throws Exception {
        assertThat(robot.listWindows()).anySatisfy(w -> assertThat(((Stage) w).getTitle()).isEqualTo("Parley"));

        robot.clickOn("#composer").write("Hello from the window").type(KeyCode.ENTER);

        ListView<LocalMessage> messages = robot.lookup("#messages").queryListView();
        WaitForAsyncUtils.waitFor(20, TimeUnit.SECONDS, () -> messages.getItems().size() == 2);
        WaitForAsyncUtils.waitForFxEvents();
        assertThat(messages.getItems().get(1).message().outputTokens()).isPositive();
        assertThat(robot.lookup(".message-meta").queryAllAs(Label.class))
                .anySatisfy(meta -> assertThat(meta.getText()).contains("tokens"));
        assertThat(robot.lookup("#composer").queryTextInputControl().getText()).isEmpty();
    }
}
