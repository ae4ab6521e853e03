package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static dev.parley.desktop.FxWait.showing;
import static dev.parley.desktop.Screenshots.assertIsAScreenshot;
import static dev.parley.desktop.Screenshots.overlay;
import static dev.parley.desktop.Screenshots.save;
import static dev.parley.desktop.Screenshots.snapshot;
import static dev.parley.desktop.Screenshots.toBufferedImage;
import static dev.parley.desktop.Screenshots.write;
import static org.assertj.core.api.Assertions.assertThat;

import atlantafx.base.theme.PrimerDark;
import atlantafx.base.theme.PrimerLight;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.desktop.models.EmbeddedModels;
import dev.parley.desktop.models.LocalServers;
import dev.parley.desktop.models.ModelSetup;
import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.ProviderPreset;
import dev.parley.desktop.settings.ProviderSettings;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelProvider;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javafx.application.Application;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.control.PasswordField;
import javafx.scene.control.ProgressBar;
import javafx.scene.control.RadioButton;
import javafx.scene.control.TextField;
import javafx.scene.input.KeyCode;
import javafx.scene.text.Text;
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
 * Takes the screenshots of the main states from the real window, headless, over a real client and server, and
 * checks that each state shows what its picture is meant to show (the theme, the dialog and what is in it, the
 * failure, the progress). The server answers with a scripted model ({@code demo-model}) so the replies show what
 * the Markdown view draws. The theme is global to the JavaFX application: each test puts back the one it found.
 */
@ExtendWith(ApplicationExtension.class)
class ScreenshotsTest {
    private static final String PASSWORD = "a long password";

    private Stage stage;
    /** The user-agent stylesheet before the test; the window sets the theme's for the whole application. */
    private String userAgentStylesheet;
    private Path dir;
    private ParleyServer server;
    private ChatClient client;
    private FxUiExecutor ui;

    @Start
    void start(Stage stage) throws IOException {
        this.stage = stage;
        userAgentStylesheet = Application.getUserAgentStylesheet();
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
    void stop() throws Exception {
        WaitForAsyncUtils.asyncFx(() -> Application.setUserAgentStylesheet(userAgentStylesheet))
                .get(10, TimeUnit.SECONDS);
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

        Path file = save(robot, stage.getScene(), "light.png");
        assertIsAScreenshot(file);
        assertThat(fx(Application::getUserAgentStylesheet)).as("the applied user-agent stylesheet")
                .isEqualTo(new PrimerLight().getUserAgentStylesheet());
        assertThat(luminance(background(file))).as("brightness of the window's background").isGreaterThan(0.8);
        assertThat(messageTextLuminance(robot)).as("brightness of the messages' text").isLessThan(0.4);
    }

    @Test
    void aReplyBeingWrittenShowsItsTextSoFarAndStop(FxRobot robot) throws Exception {
        writeBackgroundConversations();
        showWindow(robot, false);
        robot.clickOn("#composer").write("A quick weeknight pasta, please").type(KeyCode.ENTER);
        await("the reply being written", () -> messages(robot).size() == 2 && messages(robot).get(1).unfinished()
                && messages(robot).get(1).message().content().equals(DemoModel.WRITING_SO_FAR));

        assertThat(fx(() -> robot.lookup("#send").queryButton().getText())).isEqualTo("Stop");
        assertThat(fx(() -> robot.lookup(".message-state").queryAllAs(Label.class).stream().map(Label::getText)
                .toList())).containsExactly(dev.parley.desktop.viewmodel.ReplyLabels.WRITING);
        assertIsAScreenshot(save(robot, stage.getScene(), "streaming.png"));

        robot.clickOn("#send"); // Stop: what was written is kept
        await("the stopped reply", () -> !messages(robot).get(1).unfinished() && messages(robot).get(1).stopped());
        assertThat(messages(robot).get(1).message().content()).isEqualTo(DemoModel.WRITING_SO_FAR);
    }

    @Test
    void aRegeneratedReplyShowsItsVersionsAndEachMessagesActions(FxRobot robot) throws Exception {
        writeBackgroundConversations();
        showWindow(robot, false);
        robot.clickOn("#composer").write("Write a haiku about the sea").type(KeyCode.ENTER);
        await("the first reply", () -> messages(robot).size() == 2 && !writing(robot)
                && messages(robot).get(1).message().content().equals(DemoModel.HAIKUS.get(0)));

        robot.clickOn(".message-regenerate .label");

        await("the second version shown", () -> messages(robot).size() == 2 && !writing(robot)
                && messages(robot).get(1).message().content().equals(DemoModel.HAIKUS.get(1)));
        await("its ‹ 2/2 ›", () -> fx(() -> robot.lookup(".version-label").queryAllAs(Label.class).stream()
                .filter(FxWait::showing).map(Label::getText).toList()).equals(List.of("2/2")));
        checkOnFx(() -> {
            assertThat(robot.lookup(".message-copy").queryAll().stream().filter(FxWait::showing))
                    .as("Copy on every message").hasSize(2);
            assertThat(robot.lookup(".message-edit").queryAll().stream().filter(FxWait::showing))
                    .as("Edit on the question").hasSize(1);
            assertThat(robot.lookup(".message-regenerate").queryAll().stream().filter(FxWait::showing))
                    .as("Regenerate on the reply").hasSize(1);
            assertThat(robot.lookup(".version-previous").queryAll().stream().filter(FxWait::showing)
                    .allMatch(n -> !n.isDisabled())).as("‹ leads to the first version").isTrue();
        });
        assertIsAScreenshot(save(robot, stage.getScene(), "branches.png"));
    }

    @Test
    void darkThemeShowsTheSameConversation(FxRobot robot) throws Exception {
        conversationWithMarkdownReply(robot, true);

        Path file = save(robot, stage.getScene(), "dark.png");
        assertIsAScreenshot(file);
        assertThat(fx(Application::getUserAgentStylesheet)).as("the applied user-agent stylesheet")
                .isEqualTo(new PrimerDark().getUserAgentStylesheet());
        assertThat(luminance(background(file))).as("brightness of the window's background").isLessThan(0.2);
        assertThat(messageTextLuminance(robot)).as("brightness of the messages' text").isGreaterThan(0.6);
    }

    @Test
    void failedMessageShowsTryAgain(FxRobot robot) throws Exception {
        client.signUp("ada@example.com", PASSWORD);
        writeBackgroundConversations();
        showWindow(robot, false);
        robot.clickOn("#composer").write("Summarise the meeting notes in three bullets").type(KeyCode.ENTER);
        await("the reply appears", () -> messages(robot).size() == 2 && !writing(robot));
        server.close();
        server = null;

        robot.clickOn("#composer").write("Now draft the follow-up e-mail").type(KeyCode.ENTER);

        await("the message is marked failed", () -> messages(robot).size() == 3 && messages(robot).get(2).failed()
                && !writing(robot));
        await("the status bar counts it as unsent", () -> text(robot, "#syncStatus")
                .matches(".*\\d+ unsent( · (live|reconnecting))?"));
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

        Stage dialog = dialog(robot, "Sign in");
        assertIsAScreenshot(write(dialogOverWindow(dialog), "sign-in.png"));
        assertThat(fx(dialog::getOwner)).as("the dialog's window").isSameAs(stage);
        assertThat(messages(robot).get(0).message().content()).as("the conversation open behind it")
                .startsWith("Plan a weekend");
        checkOnFx(() -> {
            assertThat(shownTexts(dialog)).as("what the dialog says").contains("Sign in to Parley",
                    "Conversations written on this device are uploaded to your account.");
            TextField email = shown(dialog, "#email", TextField.class);
            assertThat(email.getText()).as("the e-mail field").isEqualTo("ada@example.com");
            PasswordField password = shown(dialog, "#password", PasswordField.class);
            assertThat(password.getText()).as("the password field").isEqualTo(PASSWORD);
            assertThat(shown(dialog, "#doSignIn", Button.class)).satisfies(b -> {
                assertThat(b.getText()).isEqualTo("Sign in");
                assertThat(b.isDisabled()).isFalse();
            });
            assertThat(shown(dialog, "#doSignUp", Button.class)).satisfies(b -> {
                assertThat(b.getText()).isEqualTo("Create account");
                assertThat(b.isDisabled()).isFalse();
            });
            assertThat(dialog.getScene().lookup("#signInError").isVisible()).as("an error is shown").isFalse();
        });
    }

    @Test
    void settingsDialogOverTheMainWindow(FxRobot robot) throws Exception {
        writeBackgroundConversations();
        showWindow(robot, false);
        robot.press(KeyCode.CONTROL).type(KeyCode.COMMA).release(KeyCode.CONTROL);
        await("the settings dialog", () -> fx(() -> robot.lookup("#settingsSave").tryQuery().isPresent()));

        Stage dialog = dialog(robot, "Settings");
        assertIsAScreenshot(write(dialogOverWindow(dialog), "settings.png"));
        assertThat(fx(dialog::getOwner)).as("the dialog's window").isSameAs(stage);
        checkOnFx(() -> {
            assertThat(shownTexts(dialog)).as("the dialog's headings")
                    .contains("Server", "Models", "Default model and parameters", "Appearance", "Data directory",
                            "The models are the server's: it offers what its operator set up.");
            assertThat(shown(dialog, "#settingsEmbedded", RadioButton.class).isSelected())
                    .as("the embedded server is chosen").isTrue();
            assertThat(shown(dialog, "#settingsRemote", RadioButton.class).isSelected()).isFalse();
            assertThat(shown(dialog, "#settingsServerUrl", TextField.class).isDisabled())
                    .as("the address field is off while the embedded server is chosen").isTrue();
            assertThat(shown(dialog, "#settingsModel", ComboBox.class).getValue()).as("the default model")
                    .isEqualTo("Server default");
            assertThat(shown(dialog, "#settingsDark", CheckBox.class).isSelected()).as("dark theme").isFalse();
            assertThat(shown(dialog, "#settingsDataDir", TextField.class).getText()).as("the data directory")
                    .isEqualTo(dir.toAbsolutePath().toString());
            assertThat(shown(dialog, "#settingsSave", Button.class).getText()).isEqualTo("Save");
            assertThat(shown(dialog, "#settingsCancel", Button.class).getText()).isEqualTo("Cancel");
        });
    }

    @Test
    void settingsModelsSectionShowsALocalServerAndAnAddedProvider(FxRobot robot) throws Exception {
        try (mockwebserver3.MockWebServer ollama = new mockwebserver3.MockWebServer()) {
            ollama.enqueue(new mockwebserver3.MockResponse.Builder().code(200)
                    .addHeader("Content-Type", "application/json")
                    .body("{\"data\":[{\"id\":\"llama3.1:8b\"},{\"id\":\"qwen2.5:7b\"},"
                            + "{\"id\":\"mistral-nemo:12b\"}]}")
                    .build());
            ollama.start();
            ProviderKeys keys = ProviderKeys.open(dir, "file");
            LocalServers local = new LocalServers(List.of(
                    new LocalServers.Candidate("ollama", "Ollama", ollama.url("/v1").toString())));
            ModelSetup setup = ModelSetup.embedded(keys, local, new EmbeddedModels(keys, Duration.ZERO),
                    EmbeddedModels.Built::close);
            Settings settings = new Settings(null, null, false, List.of(new ProviderSettings("openrouter",
                    ProviderPreset.OPENROUTER, "https://openrouter.ai/api/v1", List.of("openai/gpt-4o-mini",
                    "anthropic/claude-3.5-haiku", "google/gemini-2.0-flash-001"))), 0.7, null);
            robot.interact(() -> ParleyDesktop.show(stage, client, ui, "embedded (" + server.url() + ")",
                    new SettingsStore(dir), settings, setup, dev.parley.desktop.view.MainView.ExportTarget
                            .fileChooser()));
            robot.clickOn("#settings");
            await("the local server listed", () -> fx(() -> robot.lookup("#localServers").tryQuery()
                    .map(n -> ((ListView<?>) n).getItems().size() == 1).orElse(false)));

            Stage dialog = dialog(robot, "Settings");
            robot.interact(() -> { // the models section at the top of the scrolling part, as a user scrolls to it
                javafx.scene.control.ScrollPane scroll = (javafx.scene.control.ScrollPane) dialog.getScene()
                        .lookup(".scroll-pane");
                Node models = dialog.getScene().lookup("#localServers").getParent();
                double y = models.localToScene(0, 0).getY() - scroll.getContent().localToScene(0, 0).getY() - 40;
                double range = scroll.getContent().getBoundsInLocal().getHeight()
                        - scroll.getViewportBounds().getHeight();
                scroll.setVvalue(Math.max(0, Math.min(1, y / range)));
            });
            assertIsAScreenshot(save(robot, dialog.getScene(), "settings-models.png"));
            checkOnFx(() -> {
                assertThat(shown(dialog, "#localServers", ListView.class).getItems()).singleElement()
                        .asString().startsWith("Ollama — 3 models: llama3.1:8b");
                assertThat(shown(dialog, "#providers", ListView.class).getItems()).hasSize(1);
                assertThat(shown(dialog, "#settingsTemperature", TextField.class).getText()).isEqualTo("0.7");
                assertThat(shown(dialog, "#providerAdd", Button.class).isDisabled())
                        .as("Add waits for a test").isTrue();
            });
        }
    }

    @Test
    void usagePanelShowsTheLastThirtyDays(FxRobot robot) throws Exception {
        String token = pushThreeWeeksOfHistory();
        assertThat(token).isNotBlank();
        client.signIn("grace@example.com", PASSWORD);
        showWindow(robot, false);
        robot.clickOn("#usage");
        await("the usage panel's figures", () -> fx(() -> robot.lookup("#usageModels").tryQuery()
                .map(n -> !((javafx.scene.control.TableView<?>) n).getItems().isEmpty()).orElse(false)));

        Stage dialog = dialog(robot, "Usage");
        assertIsAScreenshot(write(dialogOverWindow(dialog), "usage.png"));
        checkOnFx(() -> {
            assertThat(shown(dialog, "#usageSource", Label.class).getText()).startsWith("Exact: every message counted"
                    + " once");
            assertThat(((javafx.scene.control.TableView<?>) shown(dialog, "#usageModels", Node.class)).getItems())
                    .hasSize(3);
        });
    }

    /**
     * A user with three weeks of chats, pushed through the direct-write endpoint as another device would: a few
     * exchanges a day with three models. Returns the access token.
     */
    private String pushThreeWeeksOfHistory() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = dev.parley.protocol.Json.newMapper();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpResponse<String> signUp = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(server.url() + "/api/auth/signup"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"email\":\"grace@example.com\",\"password\":\"" + PASSWORD + "\"}"))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(signUp.statusCode()).isEqualTo(201);
        String token = json.readTree(signUp.body()).get("accessToken").asText();
        List<String> models = List.of("ollama/llama3.1:8b", "openrouter/openai/gpt-4o-mini", "parley-local");
        List<dev.parley.protocol.Session> sessions = new java.util.ArrayList<>();
        List<dev.parley.protocol.Message> rows = new java.util.ArrayList<>();
        java.time.Instant now = java.time.Instant.now();
        for (int day = 20; day >= 0; day--) {
            int exchanges = (day * 7) % 5 + (day % 3 == 0 ? 0 : 2);
            if (exchanges == 0) {
                continue;
            }
            java.time.Instant at = now.minus(Duration.ofDays(day)).minus(Duration.ofHours(1));
            String sessionId = com.fasterxml.uuid.Generators.timeBasedEpochGenerator().generate().toString();
            sessions.add(dev.parley.protocol.Session.of(sessionId, "Day " + day, at, at, null));
            for (int i = 0; i < exchanges; i++) {
                String model = models.get((day + i) % models.size());
                String question = com.fasterxml.uuid.Generators.timeBasedEpochGenerator().generate().toString();
                java.time.Instant asked = at.plusSeconds(60L * i);
                rows.add(dev.parley.protocol.Message.builder(question, sessionId, dev.parley.protocol.Role.USER)
                        .content("Question " + i).model(model).tokens(40 + 13L * i, 0).messageTimestamp(asked)
                        .build());
                rows.add(dev.parley.protocol.Message.builder(com.fasterxml.uuid.Generators.timeBasedEpochGenerator().generate().toString(), sessionId,
                                dev.parley.protocol.Role.ASSISTANT)
                        .content("Answer " + i).model(model).tokens(0, 180 + 37L * i).userMessageId(question)
                        .messageTimestamp(asked.plusSeconds(5)).elapsedMs(2_400L + 300L * i).build());
            }
        }
        java.net.http.HttpResponse<String> pushed = http.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(server.url() + "/api/chat/messages"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(json.writeValueAsString(
                        new dev.parley.protocol.PushRequest(sessions, rows))))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(pushed.statusCode()).as(pushed.body()).isEqualTo(200);
        assertThat(pushed.body()).doesNotContain("rejected");
        return token;
    }

    /** The showing window titled {@code title}. */
    private static Stage dialog(FxRobot robot, String title) throws Exception {
        return (Stage) fx(() -> robot.listWindows().stream()
                .filter(w -> w instanceof Stage s && title.equals(s.getTitle()) && s.isShowing())
                .findFirst().orElseThrow(() -> new AssertionError("no window titled " + title + " is showing")));
    }

    /** The main window with {@code dialog} drawn where it sits over it. */
    private BufferedImage dialogOverWindow(Stage dialog) throws Exception {
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
        await("the reply appears", () -> messages(robot).size() == 2 && !writing(robot));
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

    /** The colour most of the picture has: the window's background. */
    private static int background(Path file) throws IOException {
        BufferedImage image = ImageIO.read(file.toFile());
        Map<Integer, Integer> counts = new HashMap<>();
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                counts.merge(image.getRGB(x, y), 1, Integer::sum);
            }
        }
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    /** Brightness from 0 (black) to 1 (white), weighted as the eye sees red, green and blue. */
    private static double luminance(int rgb) {
        Color c = new Color(rgb);
        return (0.2126 * c.getRed() + 0.7152 * c.getGreen() + 0.0722 * c.getBlue()) / 255;
    }

    /** The brightness of the first run of message text shown, as drawn. */
    private static double messageTextLuminance(FxRobot robot) throws Exception {
        return fx(() -> {
            Text text = robot.lookup(".md-text").queryAllAs(Text.class).stream().filter(FxWait::showing)
                    .findFirst().orElseThrow(() -> new AssertionError("no message text is shown"));
            javafx.scene.paint.Color fill = (javafx.scene.paint.Color) text.getFill();
            return 0.2126 * fill.getRed() + 0.7152 * fill.getGreen() + 0.0722 * fill.getBlue();
        });
    }

    // ------------------------------------------------------------------ reading the window

    /** Runs {@code checks} on the FX thread; a failed check fails the test with its own message. */
    private static void checkOnFx(Runnable checks) throws Exception {
        try {
            WaitForAsyncUtils.asyncFx(checks).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AssertionError failed) {
                throw failed;
            }
            throw e;
        }
    }

    /** The node of {@code dialog} matching {@code query}, which must be showing. FX thread. */
    private static <T extends Node> T shown(Stage dialog, String query, Class<T> type) {
        Node node = dialog.getScene().lookup(query);
        assertThat(node).as("%s in the %s dialog", query, dialog.getTitle()).isNotNull().isInstanceOf(type);
        assertThat(showing(node)).as("%s is showing", query).isTrue();
        return type.cast(node);
    }

    /** The texts of the labels showing in {@code dialog}. FX thread. */
    private static List<String> shownTexts(Stage dialog) {
        return dialog.getScene().getRoot().lookupAll(".label").stream()
                .filter(n -> n instanceof Label && showing(n)).map(n -> ((Label) n).getText()).toList();
    }

    private static String text(FxRobot robot, String query) throws Exception {
        Label label = robot.lookup(query).queryAs(Label.class);
        return fx(label::getText);
    }

    private static boolean thinking(FxRobot robot) throws Exception {
        return fx(() -> robot.lookup("#thinking").query().isVisible());
    }

    /** True while a reply is being written in the open conversation: its button says Stop. */
    private static boolean writing(FxRobot robot) throws Exception {
        return fx(() -> "Stop".equals(robot.lookup("#send").queryButton().getText()));
    }

    private static List<LocalMessage> messages(FxRobot robot) throws Exception {
        ListView<LocalMessage> list = robot.lookup("#messages").queryListView();
        return fx(() -> List.copyOf(list.getItems()));
    }

    // ------------------------------------------------------------------ the scripted model

    private static final List<String> NOTE_TITLES = List.of("Standup notes", "Reading list", "Recipe ideas",
            "Trip packing list", "Book club questions", "Garden plan", "Budget draft", "Gift ideas");

    /**
     * Markdown replies for the screenshot questions; a short generic one otherwise. The pasta question's reply stops
     * after its first part and waits there, being written, until it is stopped.
     */
    private static final class DemoModel implements ModelProvider {
        /** The haiku question is answered with each of these in turn: a regenerate gets another. */
        static final List<String> HAIKUS = List.of("""
                *Grey waves fold and break —*
                the tide keeps the shore's secrets
                one grain at a time.""", """
                *Salt wind on the pier,*
                gulls stitch the sky to the swell —
                **the sea breathes, and waits.**""");
        private final java.util.concurrent.atomic.AtomicInteger haikus = new java.util.concurrent.atomic.AtomicInteger();

        static final String WRITING_SO_FAR = """
                A **15-minute** garlic and lemon spaghetti:

                1. Boil the pasta in well-salted water.
                2. Meanwhile, warm sliced garlic in olive oil over low heat.
                3. Toss the drained pasta with the oil,""";

        @Override
        public dev.parley.server.ModelStream stream(CompletionRequest request,
                                                    java.util.function.Consumer<String> pieces) {
            List<ContextMessage> prompt = request.messages();
            if (!prompt.get(prompt.size() - 1).content().contains("pasta")) {
                return ModelProvider.super.stream(request, pieces);
            }
            for (String word : WRITING_SO_FAR.split("(?<=\\s)")) {
                pieces.accept(word);
            }
            CompletableFuture<Completion> result = new CompletableFuture<>();
            return new dev.parley.server.ModelStream() {
                @Override
                public CompletableFuture<Completion> result() {
                    return result;
                }

                @Override
                public void cancel() {
                    result.complete(new Completion(WRITING_SO_FAR, 12, tokens(WRITING_SO_FAR), null, 900,
                            dev.parley.protocol.FinishReason.STOPPED));
                }
            };
        }

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
            if (question.contains("haiku")) {
                String haiku = HAIKUS.get(haikus.getAndIncrement() % HAIKUS.size());
                return new Completion(haiku, tokens(question), tokens(haiku), null, 520);
            }
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
