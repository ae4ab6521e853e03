package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.LocalMessage;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import javafx.scene.Node;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.TextArea;
import javafx.scene.input.Clipboard;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/**
 * Versions in the real window, over the app's embedded server and its built-in model (SPEC §4.3): Regenerate on a
 * reply, ‹ 1/2 › to flip back and forth, Edit with Escape to cancel, Up in the empty composer to edit and Enter to
 * send the new version, Copy.
 */
@ExtendWith(ApplicationExtension.class)
class BranchesWindowTest {
    private WholeApp whole;

    @Start
    void start(Stage stage) throws IOException {
        whole = new WholeApp(stage, "parley-branches");
    }

    @AfterEach
    void stop() throws Exception {
        whole.close();
    }

    @Test
    void regenerateFlipEditEscapeAndUpArrowInTheWindow(FxRobot robot) throws Exception {
        whole.app(whole.dir.resolve("data"),
                variable -> variable.equals("PARLEY_LOCAL_MODEL_TOKEN_MS") ? "15" : null);
        whole.start();
        await("the main window", 60, () -> whole.stage.isShowing() && "Parley".equals(whole.stage.getTitle()));
        robot.clickOn("#composer").write("Name a colour").type(KeyCode.ENTER);
        await("the reply", () -> messages(robot).size() == 2 && !last(robot).unfinished() && !writing(robot));
        LocalMessage first = last(robot);
        assertThat(versionLabels(robot)).as("one version: no ‹ n/m ›").isEmpty();

        robot.clickOn(".message-regenerate .label"); // the button's own part: this reply's model

        await("the second version", () -> messages(robot).size() == 2 && !last(robot).unfinished()
                && !writing(robot) && !last(robot).id().equals(first.id()) && versionLabels(robot).equals(
                List.of("2/2")));
        LocalMessage second = last(robot);
        assertThat(second.failed()).isFalse();
        assertThat(disabled(robot, ".version-next")).as("› at the last version").isTrue();
        assertThat(disabled(robot, ".version-previous")).isFalse();

        robot.clickOn(".version-previous");
        await("version 1/2", () -> last(robot).id().equals(first.id()) && versionLabels(robot).equals(
                List.of("1/2")));
        assertThat(disabled(robot, ".version-previous")).as("‹ at the first version").isTrue();
        robot.clickOn(".version-next");
        await("version 2/2 again", () -> last(robot).id().equals(second.id()));

        robot.clickOn(".message-edit");
        await("the editor in place of the question", () -> editor(robot).isPresent()
                && fx(() -> editor(robot).get().isFocused()));
        assertThat(fx(() -> editor(robot).get().getText())).isEqualTo("Name a colour");
        robot.write(" and a fruit");
        robot.type(KeyCode.ESCAPE);
        await("the question back as it was", () -> editor(robot).isEmpty());
        assertThat(messages(robot)).extracting(m -> m.message().content()).first().isEqualTo("Name a colour");
        assertThat(messages(robot)).hasSize(2);
        assertThat(fx(() -> robot.lookup("#composer").queryTextInputControl().isFocused())).isTrue();

        robot.type(KeyCode.UP); // in the empty composer: edit the last question
        await("the editor again", () -> editor(robot).isPresent() && fx(() -> editor(robot).get().isFocused()));
        robot.push(KeyCode.CONTROL, KeyCode.A).write("Name a fruit").type(KeyCode.ENTER);

        await("the edited question and its reply", () -> editor(robot).isEmpty() && messages(robot).size() == 2
                && messages(robot).get(0).message().content().equals("Name a fruit") && !last(robot).unfinished()
                && !writing(robot));
        assertThat(versionLabels(robot)).as("the question's versions; its reply has one").containsExactly("2/2");
        assertThat(last(robot).message().content()).contains("Name a fruit");

        robot.clickOn(topmost(robot, ".message-copy")); // the question's
        assertThat(fx(() -> Clipboard.getSystemClipboard().getString())).isEqualTo("Name a fruit");
        robot.clickOn(topmost(robot, ".message-regenerate").lookup(".label")); // bottom to top: the reply's
        await("the reply's second version", () -> !writing(robot) && versionLabels(robot).size() == 2);
        assertThat(versionLabels(robot)).containsExactly("2/2", "2/2");
    }

    private static List<LocalMessage> messages(FxRobot robot) throws Exception {
        ListView<LocalMessage> list = robot.lookup("#messages").queryListView();
        return fx(() -> List.copyOf(list.getItems()));
    }

    private static LocalMessage last(FxRobot robot) throws Exception {
        List<LocalMessage> shown = messages(robot);
        return shown.get(shown.size() - 1);
    }

    private static boolean writing(FxRobot robot) throws Exception {
        return fx(() -> "Stop".equals(robot.lookup("#send").queryButton().getText()));
    }

    /** The ‹ n/m › labels on screen, top to bottom. */
    private static List<String> versionLabels(FxRobot robot) throws Exception {
        return fx(() -> robot.lookup(".version-label").queryAllAs(Label.class).stream().filter(FxWait::showing)
                .sorted(java.util.Comparator.comparingDouble(l -> l.localToScene(0, 0).getY()))
                .map(Label::getText).toList());
    }

    /** The first node on screen that {@code query} finds, from the top of the window. */
    private static Node topmost(FxRobot robot, String query) throws Exception {
        return fx(() -> robot.lookup(query).queryAll().stream().filter(FxWait::showing)
                .min(java.util.Comparator.comparingDouble(n -> n.localToScene(0, 0).getY())).orElseThrow());
    }

    private static boolean disabled(FxRobot robot, String query) throws Exception {
        return fx(() -> robot.lookup(query).queryAll().stream().filter(FxWait::showing).findFirst()
                .map(Node::isDisabled).orElseThrow());
    }

    private static Optional<TextArea> editor(FxRobot robot) throws Exception {
        return fx(() -> robot.lookup("#messageEditor").queryAllAs(TextArea.class).stream()
                .filter(FxWait::showing).findFirst());
    }
}
