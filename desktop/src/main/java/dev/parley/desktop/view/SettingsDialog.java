package dev.parley.desktop.view;

import dev.parley.desktop.viewmodel.SettingsViewModel;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.CheckBox;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.RadioButton;
import javafx.scene.control.ScrollPane;
import javafx.scene.control.TextField;
import javafx.scene.control.ToggleGroup;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import javafx.stage.Window;

/**
 * Settings: the server, its models, the default model and chat parameters, the theme, and where the data lives.
 * Escape or Cancel closes it. Opening it looks for local model servers.
 */
public final class SettingsDialog {
    private SettingsDialog() {
    }

    public static Stage open(Window owner, SettingsViewModel vm) {
        ToggleGroup server = new ToggleGroup();
        RadioButton embedded = new RadioButton("Embedded server on this computer (no setup)");
        embedded.setId("settingsEmbedded");
        embedded.setToggleGroup(server);
        RadioButton remote = new RadioButton("Server at this address:");
        remote.setId("settingsRemote");
        remote.setToggleGroup(server);
        (vm.embeddedProperty().get() ? embedded : remote).setSelected(true);
        embedded.selectedProperty().addListener((obs, old, now) -> vm.embeddedProperty().set(now));
        TextField url = new TextField();
        url.setId("settingsServerUrl");
        url.setPromptText("https://parley.example.com");
        url.textProperty().bindBidirectional(vm.serverUrlProperty());
        url.disableProperty().bind(vm.embeddedProperty());
        Label restart = new Label("A different server is used from the next start of Parley.");
        restart.getStyleClass().add("text-muted");

        ComboBox<String> model = new ComboBox<>(vm.models());
        model.setId("settingsModel");
        model.valueProperty().bindBidirectional(vm.defaultModelProperty());
        TextField temperature = new TextField();
        temperature.setId("settingsTemperature");
        temperature.setPromptText("model's own");
        temperature.setPrefColumnCount(6);
        temperature.textProperty().bindBidirectional(vm.temperatureProperty());
        TextField maxTokens = new TextField();
        maxTokens.setId("settingsMaxTokens");
        maxTokens.setPromptText("model's own");
        maxTokens.setPrefColumnCount(8);
        maxTokens.textProperty().bindBidirectional(vm.maxTokensProperty());
        GridPane parameters = Dialogs.parameters(temperature, maxTokens);
        CheckBox dark = new CheckBox("Dark theme");
        dark.setId("settingsDark");
        dark.selectedProperty().bindBidirectional(vm.darkProperty());
        TextField dataDir = new TextField(vm.dataDirectory());
        dataDir.setId("settingsDataDir");
        dataDir.setEditable(false);

        Label error = Dialogs.message("settingsError", "danger", vm.errorProperty());

        Button save = new Button("Save");
        save.setId("settingsSave");
        save.setDefaultButton(true);
        save.setOnAction(e -> vm.save());
        Button cancel = new Button("Cancel");
        cancel.setId("settingsCancel");
        cancel.setCancelButton(true);
        cancel.setOnAction(e -> cancel.getScene().getWindow().hide());

        VBox box = new VBox(10,
                heading("Server"), embedded, remote, url, restart,
                heading("Models"), ProvidersSection.of(vm.providers()),
                heading("Default model and parameters"), model, parameters,
                heading("Appearance"), dark,
                heading("Data directory"), dataDir);
        box.setPadding(new Insets(16));
        ScrollPane scroll = new ScrollPane(box);
        scroll.setFitToWidth(true);
        scroll.setPrefViewportHeight(600);
        scroll.setPrefViewportWidth(580);
        // Save and Cancel stay in sight below the scrolling part, with the error that keeps Save from closing.
        VBox bottom = new VBox(8, error, new HBox(8, save, cancel));
        bottom.setPadding(new Insets(10, 16, 16, 16));
        BorderPane pane = new BorderPane(scroll);
        pane.setBottom(bottom);
        vm.providers().findLocalServers();
        return Dialogs.show(owner, "Settings", pane, vm.doneProperty());
    }

    private static Label heading(String text) {
        Label label = new Label(text);
        label.getStyleClass().add("settings-heading");
        return label;
    }
}
