package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelProvider;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javafx.scene.Scene;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.ProgressBar;
import javafx.scene.image.PixelFormat;
import javafx.scene.image.WritableImage;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * Takes the screenshots of the main states from the real window, headless, over a real client and server. The
 * server answers with a scripted model ({@code demo-model}) so the replies show what the Markdown view draws.
 */
@ExtendWith(ApplicationExtension.class)
class ScreenshotsTest {
    private static final String PASSWORD = "a long password";

    private Stage stage;
    private Path dir;
    private ParleyServer server;
    private ChatClient client;
    private FxUiExecutor ui;

    @Start
    void start(Stage stage) throws IOException {
        this.stage = stage;
        dir = Files.createTempDirectory("parley-screenshots");
        server = ParleyServer.start(ServerConfig.builder().port(0)
                .databaseUrl("jdbc:sqlite:" + dir.resolve("server.db"))
                .modelProvider(new DemoModel())
                .anonymousChatsPerMinute(1_000)
                .build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url())
                .backoff(Duration.ofSeconds(30), Duration.ofMinutes(1))
                .httpTimeout(Duration.ofSeconds(10))
                .build());
        ui = new FxUiExecutor();
    }

    @AfterEach
    void stop() throws IOException {
        ui.close();
        client.close();
        if (server != null) {
            server.close();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void lightThemeShowsAConversationWithAMarkdownReply(FxRobot robot) throws Exception {
        conversationWithMarkdownReply(robot, false);

        assertIsAScreenshot(save(robot, stage.getScene(), "light.png"));
    }

    @Test
    void darkThemeShowsTheSameConversation(FxRobot robot) throws Exception {
        conversationWithMarkdownReply(robot, true);

        assertIsAScreenshot(save(robot, stage.getScene(), "dark.png"));
    }

    @Test
    void failedMessageShowsTryAgain(FxRobot robot) throws Exception {
        client.signUp("ada@example.com", PASSWORD);
        writeBackgroundConversations();
        showWindow(robot, false);
        robot.clickOn("#composer").write("Summarise the meeting notes in three bullets").type(KeyCode.ENTER);
        await("the reply appears", () -> messages(robot).size() == 2 && !thinking(robot));
        server.close();
        server = null;

        robot.clickOn("#composer").write("Now draft the follow-up e-mail").type(KeyCode.ENTER);

        await("the message is marked failed", () -> messages(robot).size() == 3 && messages(robot).get(2).failed()
                && !thinking(robot));
        await("the status bar counts it as unsent", () -> text(robot, "#syncStatus").endsWith("unsent"));
        assertThat(robot.lookup(".retry").queryButton().getText()).isEqualTo("Try again");
        assertIsAScreenshot(save(robot, stage.getScene(), "failed-message.png"));
    }

    @Test
    void signInDialogOverTheMainWindow(FxRobot robot) throws Exception {
        writeBackgroundConversations();
        showWindow(robot, false);
        await("the status bar offers the upload", () -> text(robot, "#syncStatus").contains("to upload at sign-in"));
        openConversation(robot, "Plan a weekend");

        robot.clickOn("#signIn");
        robot.clickOn("#email").write("ada@example.com");
        robot.clickOn("#password").write(PASSWORD);
        WaitForAsyncUtils.waitForFxEvents();

        assertIsAScreenshot(write(dialogOverWindow(robot, "Sign in"), "sign-in.png"));
    }

    @Test
    void settingsDialogOverTheMainWindow(FxRobot robot) throws Exception {
        writeBackgroundConversations();
        showWindow(robot, false);
        robot.press(KeyCode.CONTROL).type(KeyCode.COMMA).release(KeyCode.CONTROL);
        await("the settings dialog", () -> fx(() -> robot.lookup("#settingsSave").tryQuery().isPresent()));

        assertIsAScreenshot(write(dialogOverWindow(robot, "Settings"), "settings.png"));
    }

    /** The main window with the dialog titled {@code title} drawn where it sits over it. */
    private BufferedImage dialogOverWindow(FxRobot robot, String title) throws Exception {
        Stage dialog = (Stage) fx(() -> robot.listWindows().stream()
                .filter(w -> w instanceof Stage s && title.equals(s.getTitle()) && s.isShowing())
                .findFirst().orElseThrow());
        BufferedImage main = snapshot(stage.getScene());
        BufferedImage over = snapshot(dialog.getScene());
        int x = (int) Math.round(fx(() -> dialog.getX() - stage.getX()));
        int y = (int) Math.round(fx(() -> dialog.getY() - stage.getY()));
        return overlay(main, over, x, y);
    }

    @Test
    void syncingShowsProgressWhileUploadingAtSignUp(FxRobot robot) throws Exception {
        // More than one push batch (500 rows), so the bar is caught between batches.
        for (int i = 1; i <= 1_000; i++) {
            client.newSession(NOTE_TITLES.get(i % NOTE_TITLES.size()) + " " + (i / NOTE_TITLES.size() + 1));
        }
        writeBackgroundConversations();
        showWindow(robot, false);
        await("the status bar offers the upload", () -> text(robot, "#syncStatus").contains("to upload at sign-in"));
        openConversation(robot, "Plan a weekend");

        ProgressBar bar = robot.lookup("#syncProgress").queryAs(ProgressBar.class);
        Label status = robot.lookup("#syncStatus").queryAs(Label.class);
        CompletableFuture<String> statusWhenTaken = new CompletableFuture<>();
        CompletableFuture<BufferedImage> taken = new CompletableFuture<>();
        robot.interact(() -> bar.progressProperty().addListener((obs, old, now) -> {
            double progress = now.doubleValue();
            // Taken right here, on the FX thread, while the bar shows a part done: no timing luck needed.
            if (progress > 0 && progress < 1 && bar.isVisible() && !taken.isDone()) {
                statusWhenTaken.complete(status.getText());
                taken.complete(toBufferedImage(stage.getScene().snapshot(null)));
            }
        }));

        CompletableFuture<Void> signUp = CompletableFuture.runAsync(() -> client.signUp("ada@example.com", PASSWORD));

        BufferedImage image = taken.get(30, TimeUnit.SECONDS);
        assertThat(statusWhenTaken.get()).matches("Syncing [1-9]\\d* of \\d+");
        signUp.get(30, TimeUnit.SECONDS);
        assertIsAScreenshot(write(image, "syncing.png"));
    }

    // ------------------------------------------------------------------ scenes

    private void conversationWithMarkdownReply(FxRobot robot, boolean dark) throws Exception {
        writeBackgroundConversations();
        showWindow(robot, dark);
        robot.clickOn("#composer").write("How do I undo my last git commit?").type(KeyCode.ENTER);
        await("the reply appears", () -> messages(robot).size() == 2 && !thinking(robot));
        assertThat(messages(robot).get(1).message().content()).contains("git reset --soft HEAD~1");
        assertThat(robot.lookup(".code-block").tryQuery()).as("the fenced code is drawn as a code block").isPresent();
    }

    /** Two earlier conversations, so the sidebar is not empty. */
    private void writeBackgroundConversations() throws Exception {
        for (String question : List.of("Plan a weekend in Lisbon", "Keep a sourdough starter alive")) {
            LocalSession session = client.newSession(null);
            client.send(session.id(), question, null).outcome().get(20, TimeUnit.SECONDS);
        }
    }

    private static void openConversation(FxRobot robot, String titleStart) throws Exception {
        // The sidebar loads off the FX thread: wait for the row rather than read whatever is drawn now.
        await("the sidebar shows \"" + titleStart + "\"", () -> sessionTitle(robot, titleStart).isPresent());
        robot.clickOn(sessionTitle(robot, titleStart).orElseThrow());
        await("the conversation is open", () -> messages(robot).size() == 2);
    }

    private static java.util.Optional<Label> sessionTitle(FxRobot robot, String titleStart) throws Exception {
        return fx(() -> robot.lookup(".session-title").queryAllAs(Label.class).stream()
                .filter(l -> l.getText() != null && l.getText().startsWith(titleStart)).findFirst());
    }

    private void showWindow(FxRobot robot, boolean dark) {
        robot.interact(() -> ParleyDesktop.show(stage, client, ui, "embedded (" + server.url() + ")",
                new SettingsStore(dir), new Settings(null, null, dark)));
        WaitForAsyncUtils.waitForFxEvents();
    }

    // ------------------------------------------------------------------ images

    /**
     * target/screenshots in an ordinary test run, so that tests never change tracked files; docs/screenshots of
     * the repository with {@code -Dparley.screenshots=docs} (how the README's pictures are refreshed). The tests
     * run in desktop/.
     */
    private static Path screenshotsDir() throws IOException {
        Path here = Path.of("").toAbsolutePath();
        Path root = here.getFileName().toString().equals("desktop") ? here.getParent() : here;
        assertThat(root.resolve("desktop")).as("the repository root next to the desktop module").isDirectory();
        return Files.createDirectories("docs".equals(System.getProperty("parley.screenshots"))
                ? root.resolve("docs/screenshots") : here.resolve("target/screenshots"));
    }

    private static Path save(FxRobot robot, Scene scene, String name) throws Exception {
        WaitForAsyncUtils.waitForFxEvents();
        return write(snapshot(scene), name);
    }

    private static BufferedImage snapshot(Scene scene) throws Exception {
        return WaitForAsyncUtils.asyncFx(() -> toBufferedImage(scene.snapshot(null))).get(10, TimeUnit.SECONDS);
    }

    /** Copies the pixels, so no javafx-swing is needed to write a PNG. */
    private static BufferedImage toBufferedImage(WritableImage image) {
        int width = (int) image.getWidth();
        int height = (int) image.getHeight();
        int[] argb = new int[width * height];
        image.getPixelReader().getPixels(0, 0, width, height, PixelFormat.getIntArgbInstance(), argb, 0, width);
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
        out.setRGB(0, 0, width, height, argb, 0, width);
        return out;
    }

    /** The dialog drawn where it sits over the main window, with a thin frame as a window manager would. */
    private static BufferedImage overlay(BufferedImage main, BufferedImage dialog, int x, int y) {
        int left = Math.max(0, Math.min(x, main.getWidth() - dialog.getWidth()));
        int top = Math.max(0, Math.min(y, main.getHeight() - dialog.getHeight()));
        BufferedImage out = new BufferedImage(main.getWidth(), main.getHeight(), BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = out.createGraphics();
        try {
            g.drawImage(main, 0, 0, null);
            g.setColor(new Color(0, 0, 0, 40));
            g.fillRect(left - 2, top - 2, dialog.getWidth() + 8, dialog.getHeight() + 8); // shadow
            g.drawImage(dialog, left, top, null);
            g.setColor(new Color(0x8c959f));
            g.setStroke(new BasicStroke(1));
            g.drawRect(left - 1, top - 1, dialog.getWidth() + 1, dialog.getHeight() + 1);
        } finally {
            g.dispose();
        }
        return out;
    }

    private static Path write(BufferedImage image, String name) throws IOException {
        Path file = screenshotsDir().resolve(name);
        assertThat(ImageIO.write(image, "png", file.toFile())).as("a PNG writer exists").isTrue();
        return file;
    }

    private static void assertIsAScreenshot(Path file) throws IOException {
        assertThat(file).isRegularFile();
        BufferedImage image = ImageIO.read(file.toFile());
        assertThat(image).as("%s is a readable PNG", file).isNotNull();
        assertThat(image.getWidth()).isGreaterThan(200);
        assertThat(image.getHeight()).isGreaterThan(200);
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                colours.add(image.getRGB(x, y));
            }
        }
        assertThat(colours.size()).as("distinct colours in %s (text and controls, not a blank window)", file)
                .isGreaterThan(16);
    }

    // ------------------------------------------------------------------ reading the window

    private static String text(FxRobot robot, String query) throws Exception {
        Label label = robot.lookup(query).queryAs(Label.class);
        return fx(label::getText);
    }

    private static boolean thinking(FxRobot robot) throws Exception {
        return fx(() -> robot.lookup("#thinking").query().isVisible());
    }

    private static List<LocalMessage> messages(FxRobot robot) throws Exception {
        ListView<LocalMessage> list = robot.lookup("#messages").queryListView();
        return fx(() -> List.copyOf(list.getItems()));
    }

    // ------------------------------------------------------------------ the scripted model

    private static final List<String> NOTE_TITLES = List.of("Standup notes", "Reading list", "Recipe ideas",
            "Trip packing list", "Book club questions", "Garden plan", "Budget draft", "Gift ideas");

    /** Markdown replies for the screenshot questions; a short generic one otherwise. */
    private static final class DemoModel implements ModelProvider {
        private static final Map<String, String> REPLIES = Map.of(
                "git commit", """
                        To undo the last commit **but keep your changes** staged:

                        ```
                        git reset --soft HEAD~1
                        ```

                        Other options:

                        1. `git reset --hard HEAD~1` also throws the changes away — *be careful*.
                        2. `git revert HEAD` adds a new commit that undoes it, which is safe on a shared branch.

                        If you already pushed, prefer **revert**.""",
                "Lisbon", """
                        A relaxed weekend in **Lisbon**:

                        - *Saturday*: Alfama in the morning, tram 28, sunset at a miradouro.
                        - *Sunday*: Belém for pastéis de nata, then the LX Factory.""",
                "sourdough", """
                        Feed it **once a day** at room temperature, or keep it in the fridge and feed it weekly.""",
                "meeting notes", """
                        - The release moves to **Thursday**.
                        - Ada owns the migration; Grace reviews it.
                        - Next check-in: Monday 10:00.""");

        @Override
        public List<ModelInfo> models() {
            return List.of(new ModelInfo("demo-model", "Demo model (scripted replies)"));
        }

        @Override
        public String defaultModel() {
            return "demo-model";
        }

        @Override
        public Completion complete(CompletionRequest request) {
            List<ContextMessage> prompt = request.messages();
            String question = prompt.get(prompt.size() - 1).content();
            String reply = REPLIES.entrySet().stream().filter(e -> question.contains(e.getKey()))
                    .map(Map.Entry::getValue).findFirst().orElse("Here is a first draft — tell me what to change.");
            long input = prompt.stream().mapToLong(m -> tokens(m.content())).sum();
            return new Completion(reply, input, tokens(reply), null, 640);
        }

        /** Roughly four tokens for every three words, enough for the meta line. */
        private static long tokens(String text) {
            return Math.max(1, text.split("\\s+").length * 4L / 3);
        }
    }
}
