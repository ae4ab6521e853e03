package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static dev.parley.desktop.FxWait.showing;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.protocol.Role;
import dev.parley.server.AnalyticsVerifier;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javafx.event.Event;
import javafx.geometry.Bounds;
import javafx.geometry.Point2D;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ListView;
import javafx.scene.input.ContextMenuEvent;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import javafx.stage.Window;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.matcher.control.LabeledMatchers;
import org.testfx.util.WaitForAsyncUtils;

/**
 * Whole user journeys through the real window, headless, over a real client and a real server: each test has its
 * own data directory, database and port. The client talks to a {@link TcpRelay} whose port is the test's own from
 * start to end, so the server can be stopped and started again (on a new port 0 each time) where the client expects
 * it, and no other process can take that port in between.
 */
@ExtendWith(ApplicationExtension.class)
class UserJourneysTest {
    private static final Pattern UNSENT =
            Pattern.compile("(?:Offline · )?(\\d+) unsent(?: · (?:live|reconnecting))?");

    private Path dir;
    private String serverDbUrl;
    private TcpRelay relay;
    private ParleyServer server;
    private ChatClient client;
    private FxUiExecutor ui;

    @Start
    void start(Stage stage) throws Exception {
        dir = Files.createTempDirectory("parley-journeys");
        serverDbUrl = "jdbc:sqlite:" + dir.resolve("server.db");
        relay = new TcpRelay();
        startServer();
        // A long push backoff: after a failed push, only the person's own "Try again" (or a new row) sends again.
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), relay.url())
                .backoff(Duration.ofSeconds(30), Duration.ofMinutes(1))
                .httpTimeout(Duration.ofSeconds(10))
                .build());
        ui = new FxUiExecutor();
        ParleyDesktop.show(stage, client, ui, "journeys", new SettingsStore(dir), Settings.DEFAULTS);
    }

    @AfterEach
    void stop() throws IOException {
        ui.close();
        client.close();
        if (server != null) {
            server.close();
        }
        relay.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void messageSentWhileTheServerIsDownFailsAndTryAgainDeliversItOnceTheServerIsBack(FxRobot robot)
            throws Exception {
        client.signUp("ada@example.com", "a long password");
        await("the status bar shows the account as synced", () -> "Synced ✓ · live".equals(syncText(robot)));
        stopServer();

        robot.clickOn("#composer").write("Are you still there?").type(KeyCode.ENTER);

        await("the message is marked failed", () -> !visible(robot, ".message-error").isEmpty());
        assertThat(visible(robot, ".retry")).singleElement()
                .satisfies(retry -> assertThat(((Button) retry).getText()).isEqualTo("Try again"));
        await("the status bar counts the message as unsent", () -> unsent(syncText(robot)) > 0);
        assertThat(messages(robot)).singleElement().satisfies(m -> {
            assertThat(m.message().content()).isEqualTo("Are you still there?");
            assertThat(m.failed()).isTrue();
        });

        startServer();
        robot.clickOn(".retry");

        await("the reply appears", () -> messages(robot).size() == 2);
        await("the status bar says everything is synced", () -> "Synced ✓ · live".equals(syncText(robot)));
        assertThat(messages(robot)).extracting(m -> m.message().role()).containsExactly(Role.USER, Role.ASSISTANT);
        assertThat(messages(robot).get(0).failed()).isFalse();
        assertThat(visible(robot, ".message-error")).isEmpty();
        assertThat(visible(robot, ".retry")).isEmpty();
        // Once on the server too: one question and one reply stored, the question counted once, analytics exact.
        assertThat(serverRows("SELECT role, count(*) FROM chat_messages GROUP BY role"))
                .containsExactlyEntriesOf(new TreeMap<>(Map.of("assistant", 1L, "user", 1L)));
        assertThat(serverRows("SELECT usage_date, messages_sent FROM user_usage_daily").values())
                .as("messages_sent of each day in user_usage_daily").containsExactly(1L);
        assertThat(AnalyticsVerifier.verify(serverDbUrl)).as("analytics mismatches").isEmpty();
    }

    @Test
    void chatsWrittenSignedOutAreUploadedWithVisibleProgressWhenSigningUpInTheDialog(FxRobot robot)
            throws Exception {
        robot.clickOn("#composer").write("A thought before signing up").type(KeyCode.ENTER);
        await("the first reply appears", () -> messages(robot).size() == 2 && !thinking(robot));
        robot.clickOn("#newChat");
        await("a second conversation is open", () -> sessions(robot).size() == 2);
        robot.clickOn("#composer").write("Another one").type(KeyCode.ENTER);
        await("the second reply appears", () -> messages(robot).size() == 2 && !thinking(robot));
        await("the status bar offers the upload",
                () -> syncText(robot).matches("On this device only · \\d+ to upload at sign-in"));

        AtomicBoolean progressShown = new AtomicBoolean();
        List<String> statuses = new CopyOnWriteArrayList<>();
        robot.interact(() -> {
            robot.lookup("#syncProgress").query().visibleProperty().addListener((obs, old, now) -> {
                if (now) {
                    progressShown.set(true);
                }
            });
            robot.lookup("#syncStatus").queryLabeled().textProperty().addListener((obs, old, now) ->
                    statuses.add(now));
        });

        robot.clickOn("#signIn");
        robot.clickOn("#email").write("grace@example.com");
        robot.clickOn("#password").write("a long password");
        robot.clickOn("#doSignUp");

        await("the status bar says everything is synced", () -> "Synced ✓ · live".equals(syncText(robot)));
        assertThat(progressShown.get() || statuses.stream().anyMatch(s -> s.startsWith("Syncing")))
                .as("the progress bar or a 'Syncing n of m' status was shown; statuses seen: %s", statuses)
                .isTrue();
        await("the account is shown", () -> "grace@example.com".equals(
                robot.lookup("#account").queryLabeled().getText()));
        await("the dialog has closed", () -> window(robot, "Sign in") == null);
        assertThat(sessions(robot)).hasSize(2);
    }

    @Test
    void renamingAndDeletingFromTheSidebarMenuUpdateTheList(FxRobot robot) throws Exception {
        client.newSession("Groceries");
        client.newSession("Holiday plans");
        await("both conversations are listed", () -> shownTitles(robot).size() == 2);

        rightClickSession(robot, "Groceries");
        robot.clickOn(LabeledMatchers.hasText("Rename…"));
        // Headless Monocle leaves keyboard focus on the menu's popup; a click puts it in the dialog's field.
        robot.clickOn(".dialog-pane .text-field");
        robot.press(KeyCode.CONTROL).type(KeyCode.A).release(KeyCode.CONTROL);
        robot.write("Weekly groceries").type(KeyCode.ENTER);

        await("the new title is listed", () -> shownTitles(robot).contains("Weekly groceries"));
        assertThat(shownTitles(robot)).containsExactlyInAnyOrder("Weekly groceries", "Holiday plans");

        rightClickSession(robot, "Holiday plans");
        robot.clickOn(LabeledMatchers.hasText("Delete…"));
        robot.clickOn(LabeledMatchers.hasText("OK"));

        await("the deleted conversation is gone", () -> !shownTitles(robot).contains("Holiday plans"));
        assertThat(shownTitles(robot)).containsExactly("Weekly groceries");
        assertThat(client.sessions(null, null, 10)).extracting(LocalSession::title)
                .containsExactly("Weekly groceries");
    }

    @Test
    void searchFiltersConversationsByTitleAndByMessageContent(FxRobot robot) throws Exception {
        LocalSession trip = client.newSession("Trip to Lisbon");
        client.send(trip.id(), "Which pastries should I try?", null).outcome().get(20, TimeUnit.SECONDS);
        LocalSession tax = client.newSession("Tax return");
        client.send(tax.id(), "May I deduct my home office?", null).outcome().get(20, TimeUnit.SECONDS);
        await("both conversations are listed", () -> shownTitles(robot).size() == 2);

        robot.clickOn("#search").write("Lisbon");
        await("only the title match is listed", () -> shownTitles(robot).equals(List.of("Trip to Lisbon")));

        clearSearch(robot);
        robot.write("home office");
        await("only the content match is listed", () -> shownTitles(robot).equals(List.of("Tax return")));

        clearSearch(robot);
        await("everything is listed again", () -> shownTitles(robot).size() == 2);
        assertThat(shownTitles(robot)).containsExactlyInAnyOrder("Trip to Lisbon", "Tax return");
    }

    @Test
    void escapeClosesTheSignInDialog(FxRobot robot) throws Exception {
        robot.clickOn("#signIn");
        await("the sign-in dialog is open", () -> window(robot, "Sign in") != null);
        assertThat(robot.lookup("#email").tryQuery()).isPresent();

        robot.type(KeyCode.ESCAPE);

        await("the sign-in dialog is closed", () -> window(robot, "Sign in") == null);
        assertThat(robot.lookup("#account").queryLabeled().getText()).isEqualTo("Not signed in");
    }

    @Test
    void ctrlNStartsANewChatAndSelectsItInTheSidebar(FxRobot robot) throws Exception {
        assertThat(sessions(robot)).isEmpty();
        // As in a window that has been open a while: whatever the window holds only weakly is gone.
        collectGarbage();

        robot.press(KeyCode.CONTROL).type(KeyCode.N).release(KeyCode.CONTROL);

        await("a new chat is listed", () -> sessions(robot).size() == 1);
        assertThat(sessions(robot).get(0).title()).isEqualTo("New chat");
        ListView<LocalSession> list = robot.lookup("#sessions").queryListView();
        // Local work only: 5 s is plenty.
        await("the new chat is selected in the sidebar", 5,
                () -> fx(() -> list.getSelectionModel().getSelectedItem() != null));
        assertThat(fx(() -> list.getSelectionModel().getSelectedItem().id())).isEqualTo(sessions(robot).get(0).id());
    }

    // ------------------------------------------------------------------ helpers

    /** Starts the server on a port of its own (over the same database) and points the relay at it. */
    private void startServer() {
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(serverDbUrl).build());
        relay.forwardTo(server.port());
    }

    /** Stops the server; from then on nothing answers at the client's address. */
    private void stopServer() {
        server.close();
        server = null;
        relay.refuse();
    }

    /** The server's rows for {@code sql} of two columns, as first column → second, sorted by the first. */
    private Map<String, Long> serverRows(String sql) throws SQLException {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(serverDbUrl); Statement s = c.createStatement();
             ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                rows.put(r.getString(1), r.getLong(2));
            }
        }
        return rows;
    }

    /** A full garbage collection: runs collections until a weakly held canary is gone. */
    private static void collectGarbage() {
        WeakReference<Object> canary = new WeakReference<>(new Object());
        for (int i = 0; i < 10 && canary.get() != null; i++) {
            System.gc();
        }
        assertThat(canary.get()).as("a garbage collection cleared weak references").isNull();
    }

    /**
     * A right click on the conversation titled {@code title} that opens its menu. Headless Monocle turns a right
     * click into mouse events only; a real desktop also sends a context-menu request, which is added here.
     */
    private static void rightClickSession(FxRobot robot, String title) {
        robot.rightClickOn(sessionTitle(robot, title));
        WaitForAsyncUtils.waitForFxEvents();
        robot.interact(() -> {
            Label label = sessionTitle(robot, title); // cells redraw, so look the label up again
            Bounds bounds = label.localToScreen(label.getBoundsInLocal());
            Point2D inScene = label.localToScene(label.getBoundsInLocal().getCenterX(),
                    label.getBoundsInLocal().getCenterY());
            Event.fireEvent(label, new ContextMenuEvent(ContextMenuEvent.CONTEXT_MENU_REQUESTED, inScene.getX(),
                    inScene.getY(), bounds.getCenterX(), bounds.getCenterY(), false, null));
        });
    }

    private static void clearSearch(FxRobot robot) {
        robot.clickOn("#search");
        robot.press(KeyCode.CONTROL).type(KeyCode.A).release(KeyCode.CONTROL);
        robot.type(KeyCode.BACK_SPACE);
    }

    private static String syncText(FxRobot robot) throws Exception {
        Label label = robot.lookup("#syncStatus").queryAs(Label.class);
        return fx(label::getText);
    }

    private static int unsent(String status) {
        Matcher m = UNSENT.matcher(status);
        return m.matches() ? Integer.parseInt(m.group(1)) : 0;
    }

    private static boolean thinking(FxRobot robot) throws Exception {
        Node thinking = robot.lookup("#thinking").query();
        return fx(thinking::isVisible);
    }

    private static List<LocalMessage> messages(FxRobot robot) throws Exception {
        ListView<LocalMessage> list = robot.lookup("#messages").queryListView();
        return fx(() -> List.copyOf(list.getItems()));
    }

    private static List<LocalSession> sessions(FxRobot robot) throws Exception {
        ListView<LocalSession> list = robot.lookup("#sessions").queryListView();
        return fx(() -> List.copyOf(list.getItems()));
    }

    /** The titles the sidebar actually draws (visible cells only), top to bottom. */
    private static List<String> shownTitles(FxRobot robot) throws Exception {
        return fx(() -> robot.lookup(".session-title").queryAllAs(Label.class).stream()
                .filter(FxWait::showing)
                .sorted(Comparator.comparingDouble(l -> l.localToScene(0, 0).getY()))
                .map(Label::getText).toList());
    }

    private static Label sessionTitle(FxRobot robot, String title) {
        return robot.lookup(".session-title").queryAllAs(Label.class).stream()
                .filter(l -> title.equals(l.getText()) && showing(l)).findFirst()
                .orElseThrow(() -> new AssertionError("no conversation titled " + title + " is shown"));
    }

    private static List<Node> visible(FxRobot robot, String query) throws Exception {
        return fx(() -> robot.lookup(query).queryAll().stream().filter(FxWait::showing).toList());
    }

    private static Window window(FxRobot robot, String title) throws Exception {
        return fx(() -> robot.listWindows().stream()
                .filter(w -> w instanceof Stage s && title.equals(s.getTitle()) && s.isShowing())
                .findFirst().orElse(null));
    }
}
