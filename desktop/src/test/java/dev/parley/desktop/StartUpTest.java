package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.stage.Stage;
import javafx.stage.Window;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/**
 * The app's own start, headless, over a data directory of the test's: the embedded server (and its migrations) and
 * the local store open off the FX thread behind a "Starting Parley…" window, and a failed start says why.
 */
@ExtendWith(ApplicationExtension.class)
class StartUpTest {
    private WholeApp whole;
    private Stage stage;
    private Path dir;
    private ParleyDesktop app;

    @Start
    void start(Stage stage) throws IOException {
        this.whole = new WholeApp(stage, "parley-startup");
        this.stage = stage;
        this.dir = whole.dir;
    }

    @AfterEach
    void stop() throws Exception {
        whole.close();
    }

    @Test
    void startShowsProgressWhileTheServerAndStoreOpenOffTheFxThreadThenTheMainWindow(FxRobot robot) throws Exception {
        app = whole.app(dir.resolve("data"), variable -> null);

        List<String> whenStartReturned = fx(() -> {
            app.start(stage);
            // Still on the FX thread: had start() opened the server and the store itself, the window would show.
            return List.of(String.valueOf(stage.isShowing()), titlesShowing().toString(),
                    robot.lookup("#startupStatus").queryAs(Label.class).getText(),
                    String.valueOf(robot.lookup("#startupProgress").queryAs(ProgressIndicator.class).isVisible()));
        });

        assertThat(whenStartReturned).containsExactly("false", "[Starting Parley]", "Starting Parley…", "true");
        await("the main window", 60, () -> stage.isShowing() && "Parley".equals(stage.getTitle()));
        assertThat(fx(this::titlesShowing)).containsExactly("Parley");
        assertThat(fx(() -> robot.lookup("#server").queryAs(Label.class).getText()))
                .startsWith("Server: embedded (http://127.0.0.1:");
        assertThat(dir.resolve("data").resolve("embedded-server.db")).exists();
    }

    @Test
    void aFailedStartSaysWhyInsteadOfExiting(FxRobot robot) throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("data"), "a file where the data directory should be");
        app = whole.app(notADirectory, variable -> null);

        whole.start();

        await("the start-up error", () -> robot.lookup("#startupError").tryQuery().isPresent());
        assertThat(fx(() -> robot.lookup("#startupError").queryAs(Label.class).getText()))
                .isEqualTo("Parley could not start");
        assertThat(fx(() -> robot.lookup("#startupReason").queryAs(Label.class).getText()))
                .contains("cannot create the data directory", notADirectory.toString());
        assertThat(fx(this::titlesShowing)).containsExactly("Parley could not start");
        assertThat(robot.lookup("#startupQuit").tryQuery()).isPresent();
        assertThat(fx(stage::isShowing)).isFalse();
    }

    /** The titles of the windows showing. FX thread. */
    private List<String> titlesShowing() {
        return Window.getWindows().stream().filter(Window::isShowing)
                .map(w -> w instanceof Stage s ? s.getTitle() : w.getClass().getSimpleName()).toList();
    }
}
