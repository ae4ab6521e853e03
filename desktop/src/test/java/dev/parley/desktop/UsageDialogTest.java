package dev.parley.desktop;

import static dev.parley.desktop.FxWait.await;
import static dev.parley.desktop.FxWait.fx;
import static dev.parley.desktop.FxWait.showing;
import static org.assertj.core.api.Assertions.assertThat;

import atlantafx.base.theme.PrimerLight;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.Exchange;
import dev.parley.client.LocalSession;
import dev.parley.desktop.view.UsageDialog;
import dev.parley.desktop.viewmodel.UsageModelShare;
import dev.parley.desktop.viewmodel.UsageTotals;
import dev.parley.desktop.viewmodel.UsageViewModel;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javafx.application.Application;
import javafx.scene.Node;
import javafx.scene.Scene;
import javafx.scene.chart.CategoryAxis;
import javafx.scene.chart.StackedBarChart;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.TableView;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.StackPane;
import javafx.stage.Stage;
import javafx.stage.Window;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;

/** The usage dialog in a real window, headless: the chart of 30 days, the totals, the models, Escape and Close. */
@ExtendWith(ApplicationExtension.class)
class UsageDialogTest {
    private Stage owner;
    private Path dir;
    private String userAgentStylesheet;
    private ParleyServer server;
    private ChatClient client;
    private FxUiExecutor ui;

    @Start
    void start(Stage stage) throws IOException {
        owner = stage;
        dir = Files.createTempDirectory("parley-usage");
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url()).build());
        ui = new FxUiExecutor();
        userAgentStylesheet = Application.getUserAgentStylesheet();
        Application.setUserAgentStylesheet(new PrimerLight().getUserAgentStylesheet());
        Scene scene = new Scene(new StackPane(), 400, 300);
        scene.getStylesheets().add(UsageDialog.class.getResource("/dev/parley/desktop/parley.css").toExternalForm());
        stage.setScene(scene);
        stage.setTitle("Parley");
        stage.show();
    }

    @AfterEach
    void stop() throws Exception {
        fx(() -> {
            List.copyOf(Window.getWindows()).stream().filter(w -> w != owner).forEach(Window::hide);
            Application.setUserAgentStylesheet(userAgentStylesheet);
            return null;
        });
        ui.close();
        client.close();
        server.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void theDialogChartsThirtyDaysAndShowsTheViewModelsTotalsModelsAndSource(FxRobot robot) throws Exception {
        client.signUp("ada@example.com", "correct horse battery");
        LocalSession session = client.newSession("Counting");
        reply(client.send(session.id(), "First question", null));
        reply(client.send(session.id(), "Second question", null));
        UsageViewModel vm = fx(() -> new UsageViewModel(client, ui, Clock.systemUTC()));

        fx(() -> UsageDialog.open(owner, vm));
        await("the figures are loaded", () -> fx(() -> !vm.loadingProperty().get() && vm.days().size() == 30));

        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        StackedBarChart<?, ?> chart = robot.lookup("#usageChart").queryAs(StackedBarChart.class);
        List<String> categories = fx(() -> List.copyOf(((CategoryAxis) chart.getXAxis()).getCategories()));
        assertThat(categories).hasSize(30).doesNotHaveDuplicates()
                .endsWith(UsageViewModel.label(today)).startsWith(UsageViewModel.label(today.minusDays(29)));
        assertThat(fx(() -> seriesTotals(chart))).containsExactly(2L, 2L);
        assertThat(fx(() -> showing(chart))).isTrue();

        UsageTotals totals = fx(() -> vm.totalsProperty().get());
        assertThat(totals.messagesSent()).isEqualTo(2);
        List<String> expected = new ArrayList<>();
        totals.figures().forEach(f -> {
            expected.add(f.name());
            expected.add(f.value());
        });
        assertThat(fx(() -> texts(robot.lookup("#usageTotals").queryAs(GridPane.class)))).isEqualTo(expected)
                .contains("Messages sent", "2", "Total tokens", String.format(Locale.ROOT, "%,d", totals.totalTokens()));

        @SuppressWarnings("unchecked")
        TableView<UsageModelShare> models = robot.lookup("#usageModels").queryAs(TableView.class);
        assertThat(fx(() -> List.copyOf(models.getItems()))).isEqualTo(fx(() -> List.copyOf(vm.models())))
                .extracting(UsageModelShare::model).containsExactly("parley-local");
        assertThat(fx(() -> robot.lookup("#usageSource").queryAs(Label.class).getText()))
                .isEqualTo("Exact: every message counted once — the server's own figures for ada@example.com");
        assertThat(fx(() -> robot.lookup("#usageError").queryAs(Label.class).isVisible())).isFalse();
        assertThat(fx(() -> robot.lookup("#usageEmpty").queryAs(Label.class).isVisible())).isFalse();

        reply(client.send(session.id(), "Third question", null));
        System.gc(); // nothing the open dialog listens to may be collected from under it
        fx(() -> {
            vm.load();
            return null;
        });
        await("the chart follows a new load", () -> fx(() -> seriesTotals(chart).equals(List.of(3L, 3L))));
        assertThat(fx(() -> texts(robot.lookup("#usageTotals").queryAs(GridPane.class))))
                .containsSubsequence("Messages sent", "3", "Messages received", "3");
    }

    @Test
    void escapeClosesTheDialogAndSoDoesClose(FxRobot robot) throws Exception {
        UsageViewModel vm = fx(() -> new UsageViewModel(client, ui, Clock.systemUTC()));
        Stage dialog = fx(() -> UsageDialog.open(owner, vm));
        await("the empty state", () -> fx(() -> vm.emptyProperty().get()
                && showing(robot.lookup("#usageEmpty").queryAs(Label.class))));
        assertThat(fx(() -> robot.lookup("#usageEmpty").queryAs(Label.class).getText()))
                .isEqualTo("No messages in the last 30 days");
        assertThat(fx(() -> robot.lookup("#usageSource").queryAs(Label.class).getText()))
                .isEqualTo("On this device only: sign in to see your account's exact usage");

        robot.type(KeyCode.ESCAPE);
        await("Escape closes it", () -> fx(() -> !dialog.isShowing()));

        Stage again = fx(() -> UsageDialog.open(owner, vm));
        await("it is open again", () -> fx(again::isShowing));
        robot.clickOn("#usageClose");
        await("Close closes it", () -> fx(() -> !again.isShowing()));
        assertThat(fx(owner::isShowing)).isTrue();
    }

    @Test
    void aFailureIsShownInlineWithTryAgain(FxRobot robot) throws Exception {
        ChatClient gone = ChatClient.open(ClientConfig.builder(dir.resolve("gone"), server.url()).build());
        gone.close();
        UsageViewModel vm = fx(() -> new UsageViewModel(gone, ui, Clock.systemUTC()));

        fx(() -> UsageDialog.open(owner, vm));
        await("the error", () -> fx(() -> showing(robot.lookup("#usageError").queryAs(Label.class))));

        assertThat(fx(() -> robot.lookup("#usageError").queryAs(Label.class).getText()))
                .isEqualTo(fx(() -> vm.errorProperty().get())).startsWith("Usage could not be loaded");
        assertThat(fx(() -> showing(robot.lookup("#usageRetry").queryAs(Button.class)))).isTrue();
        assertThat(fx(() -> robot.lookup("#usageTotals").queryAs(GridPane.class).getChildren().isEmpty()))
                .isFalse(); // the totals stay laid out, at zero
    }

    private static void reply(Exchange exchange) throws Exception {
        assertThat(exchange.outcome().get(20, TimeUnit.SECONDS).reply()).isNotNull();
    }

    /** The sum of each series of the chart, in order. FX thread. */
    private static List<Long> seriesTotals(StackedBarChart<?, ?> chart) {
        List<Long> sums = new ArrayList<>();
        for (XYChart.Series<?, ?> series : chart.getData()) {
            sums.add(series.getData().stream().mapToLong(d -> ((Number) d.getYValue()).longValue()).sum());
        }
        return sums;
    }

    /** The texts of the labels of a grid, row by row. FX thread. */
    private static List<String> texts(GridPane grid) {
        List<String> texts = new ArrayList<>();
        for (Node node : grid.getChildren()) {
            texts.add(((Label) node).getText());
        }
        return texts;
    }
}
