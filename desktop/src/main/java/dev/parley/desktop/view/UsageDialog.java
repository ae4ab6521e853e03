package dev.parley.desktop.view;

import dev.parley.desktop.viewmodel.UsageModelShare;
import dev.parley.desktop.viewmodel.UsageTotals;
import dev.parley.desktop.viewmodel.UsageViewModel;
import dev.parley.protocol.UsageResponse.UsageDay;
import java.util.List;
import java.util.Locale;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.value.ChangeListener;
import javafx.collections.FXCollections;
import javafx.collections.ListChangeListener;
import javafx.geometry.HPos;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.chart.CategoryAxis;
import javafx.scene.chart.NumberAxis;
import javafx.scene.chart.StackedBarChart;
import javafx.scene.chart.XYChart;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.control.Tooltip;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import javafx.stage.Window;
import javafx.stage.WindowEvent;
import javafx.util.StringConverter;

/**
 * Usage: messages sent and received per day of the last {@value UsageViewModel#DAYS} days as a chart, the totals,
 * the messages by model, and where the figures come from. Opening it loads the figures; Escape or Close closes it.
 * FX thread only.
 */
public final class UsageDialog {
    private UsageDialog() {
    }

    /** Shows the dialog over {@code owner} and starts {@link UsageViewModel#load()}. */
    public static Stage open(Window owner, UsageViewModel vm) {
        StackedBarChart<String, Number> chart = chart();
        XYChart.Series<String, Number> sent = new XYChart.Series<>();
        sent.setName("Sent");
        XYChart.Series<String, Number> received = new XYChart.Series<>();
        received.setName("Received");
        chart.getData().setAll(List.of(sent, received));
        Label empty = new Label(UsageViewModel.EMPTY_TEXT);
        empty.setId("usageEmpty");
        empty.getStyleClass().add("usage-empty");
        empty.visibleProperty().bind(vm.emptyProperty());
        ProgressIndicator loading = new ProgressIndicator();
        loading.setId("usageLoading");
        loading.setMaxSize(40, 40);
        loading.visibleProperty().bind(vm.loadingProperty());
        StackPane chartArea = new StackPane(chart, empty, loading);
        VBox.setVgrow(chartArea, Priority.ALWAYS);

        GridPane totals = new GridPane();
        totals.setId("usageTotals");
        totals.getStyleClass().add("usage-totals");
        totals.setHgap(16);
        totals.setVgap(4);
        totals.setMinWidth(Region.USE_PREF_SIZE);

        TableView<UsageModelShare> models = models(vm);

        Label source = new Label();
        source.setId("usageSource");
        source.getStyleClass().add("usage-source");
        source.setWrapText(true);
        source.textProperty().bind(vm.sourceTextProperty());

        Label error = Dialogs.message("usageError", "danger", vm.errorProperty());
        Button retry = new Button("Try again");
        retry.setId("usageRetry");
        retry.visibleProperty().bind(vm.errorProperty().isNotEmpty());
        retry.managedProperty().bind(retry.visibleProperty());
        retry.disableProperty().bind(vm.loadingProperty());
        retry.setOnAction(e -> vm.load());

        Button close = new Button("Close");
        close.setId("usageClose");
        close.setDefaultButton(true);
        close.setOnAction(e -> close.getScene().getWindow().hide());
        Region spacer = new Region();
        HBox.setHgrow(spacer, Priority.ALWAYS);

        ListChangeListener<UsageDay> daysShown = c -> showDays(vm.days(), sent, received, chart);
        ChangeListener<UsageTotals> totalsShown = (obs, old, now) -> showTotals(now, totals);
        vm.days().addListener(daysShown);
        vm.totalsProperty().addListener(totalsShown);
        showDays(vm.days(), sent, received, chart);
        showTotals(vm.totalsProperty().get(), totals);

        VBox totalsBox = new VBox(6, heading("Totals"), totals);
        totalsBox.setMinWidth(Region.USE_PREF_SIZE); // the figures are never cut short; the table gives way
        VBox modelsBox = new VBox(6, heading("Messages by model"), models, note());
        HBox.setHgrow(modelsBox, Priority.ALWAYS);
        HBox figures = new HBox(24, totalsBox, modelsBox);
        VBox box = new VBox(10, heading("Messages per day (UTC)"), chartArea, figures, source, error,
                new HBox(8, retry, spacer, close));
        box.setPadding(new Insets(16));
        box.setPrefSize(820, 640);
        Stage stage = Dialogs.show(owner, "Usage", box, new SimpleBooleanProperty(false));
        stage.addEventHandler(WindowEvent.WINDOW_HIDDEN, e -> {
            // the view model may outlive this dialog (opened again): it must not keep the closed one's nodes
            vm.days().removeListener(daysShown);
            vm.totalsProperty().removeListener(totalsShown);
        });
        vm.load();
        return stage;
    }

    private static StackedBarChart<String, Number> chart() {
        CategoryAxis dates = new CategoryAxis();
        dates.setTickLabelRotation(-90);
        dates.setAnimated(false);
        NumberAxis messages = new NumberAxis();
        messages.setLabel("Messages");
        messages.setMinorTickVisible(false);
        messages.setForceZeroInRange(true);
        messages.setTickLabelFormatter(new StringConverter<>() {
            @Override
            public String toString(Number n) {
                // messages come whole: a tick between two counts gets no label
                return n.doubleValue() == Math.rint(n.doubleValue()) ? String.format(Locale.ROOT, "%,d", n.longValue())
                        : "";
            }

            @Override
            public Number fromString(String text) {
                return Long.parseLong(text.replace(",", ""));
            }
        });
        StackedBarChart<String, Number> chart = new StackedBarChart<>(dates, messages);
        chart.setId("usageChart");
        chart.getStyleClass().add("usage-chart");
        chart.setAnimated(false); // the data is replaced whole on every load; moving bars would only blur it
        chart.setCategoryGap(4);
        chart.setMinHeight(260);
        return chart;
    }

    private static void showDays(List<UsageDay> days, XYChart.Series<String, Number> sent,
                                 XYChart.Series<String, Number> received, StackedBarChart<String, Number> chart) {
        List<String> labels = days.stream().map(d -> UsageViewModel.label(d.date())).toList();
        ((CategoryAxis) chart.getXAxis()).setCategories(FXCollections.observableArrayList(labels));
        sent.getData().setAll(days.stream().map(d -> point(d, d.messagesSent())).toList());
        received.getData().setAll(days.stream().map(d -> point(d, d.messagesReceived())).toList());
    }

    private static XYChart.Data<String, Number> point(UsageDay day, long value) {
        XYChart.Data<String, Number> point = new XYChart.Data<>(UsageViewModel.label(day.date()), value);
        String tip = String.format(Locale.ROOT, "%s: %,d sent, %,d received, %,d tokens", day.date(),
                day.messagesSent(), day.messagesReceived(), day.totalTokens());
        point.nodeProperty().addListener((obs, old, node) -> {
            if (node != null) {
                Tooltip.install(node, new Tooltip(tip));
            }
        });
        return point;
    }

    private static void showTotals(UsageTotals totals, GridPane grid) {
        grid.getChildren().clear();
        List<UsageTotals.Figure> figures = totals.figures();
        for (int row = 0; row < figures.size(); row++) {
            Label name = new Label(figures.get(row).name());
            name.getStyleClass().add("usage-figure-name");
            Label value = new Label(figures.get(row).value());
            value.getStyleClass().add("usage-figure-value");
            GridPane.setHalignment(value, HPos.RIGHT);
            grid.addRow(row, name, value);
        }
    }

    private static TableView<UsageModelShare> models(UsageViewModel vm) {
        TableView<UsageModelShare> table = new TableView<>(vm.models());
        table.setId("usageModels");
        table.getStyleClass().add("usage-models");
        table.setPlaceholder(new Label("No model used in these days"));
        table.setColumnResizePolicy(TableView.CONSTRAINED_RESIZE_POLICY_ALL_COLUMNS);
        table.setPrefHeight(170);
        TableColumn<UsageModelShare, String> model = new TableColumn<>("Model");
        model.setCellValueFactory(c -> new SimpleStringProperty(c.getValue().model()));
        TableColumn<UsageModelShare, String> messages = new TableColumn<>("Messages");
        messages.setCellValueFactory(c -> new SimpleStringProperty(c.getValue().messagesText()));
        messages.setStyle("-fx-alignment: CENTER-RIGHT;");
        messages.setPrefWidth(100);
        messages.setMaxWidth(120);
        TableColumn<UsageModelShare, String> share = new TableColumn<>("Share");
        share.setCellValueFactory(c -> new SimpleStringProperty(c.getValue().shareText()));
        share.setStyle("-fx-alignment: CENTER-RIGHT;");
        share.setPrefWidth(80);
        share.setMaxWidth(90);
        table.getColumns().setAll(List.of(model, messages, share));
        return table;
    }

    private static Label note() {
        Label note = new Label("Each message sent and each reply is one use of its model. Tokens are counted per "
                + "day, not per model.");
        note.getStyleClass().add("text-muted");
        note.setWrapText(true);
        note.setMinHeight(Region.USE_PREF_SIZE);
        note.setAlignment(Pos.TOP_LEFT);
        return note;
    }

    private static Label heading(String text) {
        Label label = new Label(text);
        label.getStyleClass().add("usage-heading");
        return label;
    }
}
