package dev.parley.desktop.view;

import dev.parley.desktop.settings.ProviderPreset;
import dev.parley.desktop.settings.ProviderSettings;
import dev.parley.desktop.viewmodel.ProvidersViewModel;
import javafx.beans.binding.Bindings;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.PasswordField;
import javafx.scene.control.TextField;
import javafx.scene.layout.GridPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;

/** The models section of Settings: built in, found on this computer, added providers and the form to add one. */
final class ProvidersSection {
    private ProvidersSection() {
    }

    static Node of(ProvidersViewModel vm) {
        if (!vm.embedded()) {
            Label remote = new Label("The models are the server's: it offers what its operator set up.");
            remote.setId("modelsRemote");
            remote.getStyleClass().add("text-muted");
            remote.setWrapText(true);
            return remote;
        }
        Label builtIn = new Label("Built in: Parley local (offline), always there.");
        builtIn.getStyleClass().add("text-muted");

        ListView<String> local = new ListView<>(vm.localServers());
        local.setId("localServers");
        local.setPrefHeight(56);
        local.visibleProperty().bind(Bindings.isNotEmpty(vm.localServers()));
        local.managedProperty().bind(local.visibleProperty());
        Label localStatus = Dialogs.message("localServersStatus", "text-muted", vm.localStatusProperty());

        ListView<ProviderSettings> added = new ListView<>(vm.providers());
        added.setId("providers");
        added.setPrefHeight(84);
        added.setCellFactory(v -> new ProviderCell(vm));
        added.visibleProperty().bind(Bindings.isNotEmpty(vm.providers()));
        added.managedProperty().bind(added.visibleProperty());

        ComboBox<ProviderPreset> preset = new ComboBox<>();
        preset.getItems().setAll(ProviderPreset.values());
        preset.setId("providerPreset");
        preset.valueProperty().bindBidirectional(vm.presetProperty());
        TextField name = new TextField();
        name.setId("providerName");
        name.textProperty().bindBidirectional(vm.nameProperty());
        TextField url = new TextField();
        url.setId("providerUrl");
        url.setPromptText("https://…/v1");
        url.textProperty().bindBidirectional(vm.baseUrlProperty());
        PasswordField key = new PasswordField();
        key.setId("providerKey");
        key.setPromptText("API key (kept in " + vm.keysLocation() + ")");
        key.textProperty().bindBidirectional(vm.apiKeyProperty());
        Button test = new Button("Test connection");
        test.setId("providerTest");
        test.disableProperty().bind(vm.testingProperty());
        test.setOnAction(e -> vm.testConnection());
        Button add = new Button("Add provider");
        add.setId("providerAdd");
        add.disableProperty().bind(vm.canAddProperty().not());
        add.setOnAction(e -> vm.add());
        Label result = new Label();
        result.setId("providerTestResult");
        result.setWrapText(true);
        result.textProperty().bind(vm.testResultProperty());
        result.getStyleClass().add("text-muted");
        vm.testOkProperty().addListener((obs, old, ok) -> {
            result.getStyleClass().removeAll("success", "danger", "text-muted");
            result.getStyleClass().add(ok ? "success" : "danger");
        });

        GridPane form = new GridPane();
        form.setHgap(8);
        form.setVgap(6);
        form.addRow(0, new Label("Provider"), preset);
        form.addRow(1, new Label("Name"), name);
        form.addRow(2, new Label("Base URL"), url);
        form.addRow(3, new Label("API key"), key);
        GridPane.setHgrow(url, Priority.ALWAYS);
        HBox buttons = new HBox(8, test, add);
        return new VBox(6, builtIn, new Label("On this computer"), local, localStatus,
                new Label("Added providers"), added, form, buttons, result);
    }

    /** A provider added: its name, where it is, how many models it listed, and Remove. */
    private static final class ProviderCell extends ListCell<ProviderSettings> {
        private final ProvidersViewModel vm;

        ProviderCell(ProvidersViewModel vm) {
            this.vm = vm;
        }

        @Override
        protected void updateItem(ProviderSettings item, boolean empty) {
            super.updateItem(item, empty);
            if (empty || item == null) {
                setGraphic(null);
                setText(null);
                return;
            }
            Label text = new Label(item.name() + " — " + item.baseUrl() + " — " + item.models().size()
                    + (item.models().size() == 1 ? " model" : " models"));
            Region gap = new Region();
            HBox.setHgrow(gap, Priority.ALWAYS);
            Button remove = new Button("Remove");
            remove.setId("providerRemove-" + item.name());
            remove.setOnAction(e -> vm.remove(item));
            HBox row = new HBox(8, text, gap, remove);
            row.setAlignment(Pos.CENTER_LEFT);
            setText(null);
            setGraphic(row);
        }
    }
}
