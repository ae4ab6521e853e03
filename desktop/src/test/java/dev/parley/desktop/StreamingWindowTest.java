package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.LocalMessage;
import dev.parley.desktop.viewmodel.ReplyLabels;
import dev.parley.protocol.Role;
import java.io.IOException;
import java.util.List;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.image.Image;
import javafx.scene.image.PixelReader;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/**
 * The whole app, headless, with its embedded server and a slow built-in model ({@code PARLEY_LOCAL_MODEL_TOKEN_MS},
 * as {@code ./parley desktop --local-model-token-ms N} sets it): a reply visibly grows, Escape stops it, and closing
 * the app mid-reply loses nothing — the next start shows the finished reply.
 */
@ExtendWith(ApplicationExtension.class)
class StreamingWindowTest {
    private WholeApp whole;

    @Start
    void start(Stage stage) throws IOException {
        whole = new WholeApp(stage, "parley-streaming");
    }

    @AfterEach
    void stop() throws Exception {
        whole.close();
    }

    private void startApp(long tokenMs) throws Exception {
        whole.app(whole.dir.resolve("data"),
                variable -> variable.equals("PARLEY_LOCAL_MODEL_TOKEN_MS") ? Long.toString(tokenMs) : null);
        whole.start();
        await("the main window", 60, () -> whole.stage.isShowing() && "Parley".equals(whole.stage.getTitle()));
    }

    @Test
    void aSlowReplyGrowsBetweenTwoScreenshotsAndEscapeStopsIt(FxRobot robot) throws Exception {
        startApp(150);
        robot.clickOn("#composer").write("Tell me about Lisbon").type(KeyCode.ENTER);

        await("the reply's first words", () -> growingText(robot).length() > 10);
        String early = growingText(robot);
        Image first = fx(() -> whole.stage.getScene().snapshot(null));
        await("the reply to grow", () -> growingText(robot).length() > early.length() + 10);
        String later = growingText(robot);
        Image second = fx(() -> whole.stage.getScene().snapshot(null));

        assertThat(later).startsWith(early);
        assertThat(differingPixels(first, second)).as("the window shows the reply growing").isPositive();
        assertThat(fx(() -> robot.lookup("#send").queryButton().getText())).isEqualTo("Stop");

        robot.type(KeyCode.ESCAPE);

        await("Stop to turn back into Send", () -> "Send".equals(fx(() ->
                robot.lookup("#send").queryButton().getText())));
        await("the stopped reply", () -> last(robot).stopped() && !last(robot).unfinished());
        LocalMessage stopped = last(robot);
        assertThat(stopped.message().content()).startsWith(later);
        assertThat(stopped.message().content()).as("stopped before the end").doesNotContain("That is");
        assertThat(fx(() -> robot.lookup(".message-state").queryAllAs(Label.class).stream().map(Label::getText)
                .toList())).contains(ReplyLabels.STOPPED);
    }

    @Test
    void closingTheAppMidReplyAndOpeningItAgainShowsTheFinishedReply(FxRobot robot) throws Exception {
        startApp(60);
        robot.clickOn("#composer").write("What is Parley?").type(KeyCode.ENTER);
        await("the reply's first words", () -> growingText(robot).length() > 10);

        whole.stop(); // closing the window

        startApp(60);
        await("the conversation in the sidebar", () -> !fx(() -> robot.lookup("#sessions")
                .<ListView<?>>query().getItems().isEmpty()));
        robot.clickOn(".session-title");
        await("the finished reply", () -> messages(robot).size() == 2 && !last(robot).unfinished());
        LocalMessage reply = last(robot);
        assertThat(reply.message().role()).isEqualTo(Role.ASSISTANT);
        assertThat(reply.failed()).isFalse();
        assertThat(reply.stopped()).isFalse();
        assertThat(reply.message().content()).as("the whole reply").contains("What is Parley?").contains("That is");
        assertThat(messages(robot).get(0).failed()).isFalse();
    }

    private static List<LocalMessage> messages(FxRobot robot) throws Exception {
        ListView<LocalMessage> list = robot.lookup("#messages").queryListView();
        return fx(() -> List.copyOf(list.getItems()));
    }

    private static LocalMessage last(FxRobot robot) throws Exception {
        List<LocalMessage> shown = messages(robot);
        return shown.get(shown.size() - 1);
    }

    /** The text of the reply being written, as shown; empty before it. */
    private static String growingText(FxRobot robot) throws Exception {
        List<LocalMessage> shown = messages(robot);
        return shown.size() == 2 && shown.get(1).unfinished() ? shown.get(1).message().content() : "";
    }

    private static long differingPixels(Image a, Image b) {
        PixelReader ra = a.getPixelReader();
        PixelReader rb = b.getPixelReader();
        int width = (int) Math.min(a.getWidth(), b.getWidth());
        int height = (int) Math.min(a.getHeight(), b.getHeight());
        long differing = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                if (ra.getArgb(x, y) != rb.getArgb(x, y)) {
                    differing++;
                }
            }
        }
        return differing;
    }
}
