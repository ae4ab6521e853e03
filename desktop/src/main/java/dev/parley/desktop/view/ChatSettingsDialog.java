package dev.parley.desktop.view;

import dev.parley.desktop.viewmodel.ChatSettingsViewModel;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.TextArea;
import javafx.scene.control.TextField;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import javafx.stage.Window;

/** A conversation's own settings: system prompt, temperature, longest reply. Escape or Cancel closes it. */
public final class ChatSettingsDialog {
    private ChatSettingsDialog() {
    }

    public static Stage open(Window owner, ChatSettingsViewModel vm) {
        TextArea prompt = new TextArea();
        prompt.setId("chatSystemPrompt");
        prompt.setWrapText(true);
        prompt.setPrefRowCount(6);
        prompt.setPromptText("For example: You are a patient tutor. Answer in short paragraphs.");
        prompt.textProperty().bindBidirectional(vm.systemPromptProperty());
        Label promptHint = new Label("Sent to the model before the conversation, and kept on your other devices.");
        promptHint.getStyleClass().add("text-muted");
        promptHint.setWrapText(true);
        TextField temperature = new TextField();
        temperature.setId("chatTemperature");
        temperature.setPromptText("default");
        temperature.setPrefColumnCount(6);
        temperature.textProperty().bindBidirectional(vm.temperatureProperty());
        TextField maxTokens = new TextField();
        maxTokens.setId("chatMaxTokens");
        maxTokens.setPromptText("default");
        maxTokens.setPrefColumnCount(8);
        maxTokens.textProperty().bindBidirectional(vm.maxTokensProperty());
        GridPane parameters = Dialogs.parameters(temperature, maxTokens);
        Label defaults = new Label();
        defaults.textProperty().bind(vm.defaultsProperty());
        defaults.getStyleClass().add("text-muted");
        defaults.setWrapText(true);
        Label error = Dialogs.message("chatSettingsError", "danger", vm.errorProperty());
        Button save = new Button("Save");
        save.setId("chatSettingsSave");
        save.setDefaultButton(true);
        save.disableProperty().bind(vm.loadedProperty().not());
        save.setOnAction(e -> vm.save());
        Button cancel = new Button("Cancel");
        cancel.setCancelButton(true);
        cancel.setOnAction(e -> cancel.getScene().getWindow().hide());
        Label heading = new Label("System prompt");
        heading.getStyleClass().add("settings-heading");
        Label params = new Label("Parameters");
        params.getStyleClass().add("settings-heading");
        VBox box = new VBox(10, heading, prompt, promptHint, params, parameters, defaults, error,
                new HBox(8, save, cancel));
        box.setPadding(new Insets(16));
        box.setPrefWidth(520);
        vm.load();
        return Dialogs.show(owner, "Chat settings — " + vm.title(), box, vm.doneProperty());
    }
}
