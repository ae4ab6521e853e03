package dev.parley.desktop.view;

import javafx.beans.value.ObservableBooleanValue;
import javafx.beans.value.ObservableStringValue;
import javafx.scene.Parent;
import javafx.scene.Scene;
import javafx.scene.control.Label;
import javafx.scene.control.TextField;
import javafx.scene.layout.GridPane;
import javafx.scene.input.KeyCode;
import javafx.stage.Modality;
import javafx.stage.Stage;
import javafx.stage.Window;

/** What every Parley dialog shares: modal over its window, the window's styles, Escape closes it. FX thread only. */
final class Dialogs {
    private Dialogs() {
    }

    /** Shows {@code content} as a modal dialog of {@code owner} that closes on Escape and once {@code done} holds. */
    static Stage show(Window owner, String title, Parent content, ObservableBooleanValue done) {
        Stage stage = new Stage();
        stage.initOwner(owner);
        stage.initModality(Modality.WINDOW_MODAL);
        stage.setTitle(title);
        Scene scene = new Scene(content);
        if (owner != null && owner.getScene() != null) {
            scene.getStylesheets().addAll(owner.getScene().getStylesheets());
        }
        scene.setOnKeyPressed(e -> {
            if (e.getCode() == KeyCode.ESCAPE) {
                stage.close();
            }
        });
        stage.setScene(scene);
        done.addListener((obs, old, now) -> {
            if (now) {
                stage.close();
            }
        });
        stage.show();
        return stage;
    }

    /** The temperature and longest-reply fields, one per row with what each takes. */
    static GridPane parameters(TextField temperature, TextField maxTokens) {
        GridPane grid = new GridPane();
        grid.setHgap(8);
        grid.setVgap(6);
        Label temperatureRange = new Label("0 to 2: lower is more focused");
        temperatureRange.getStyleClass().add("text-muted");
        Label tokensRange = new Label("tokens, 1 to 200,000");
        tokensRange.getStyleClass().add("text-muted");
        grid.addRow(0, new Label("Temperature"), temperature, temperatureRange);
        grid.addRow(1, new Label("Longest reply"), maxTokens, tokensRange);
        javafx.scene.layout.ColumnConstraints labels = new javafx.scene.layout.ColumnConstraints();
        labels.setMinWidth(javafx.scene.layout.Region.USE_PREF_SIZE); // never "Tempera…"
        grid.getColumnConstraints().add(labels);
        return grid;
    }

    /** A wrapping label showing {@code text}, taking no room while it is empty. */
    static Label message(String id, String styleClass, ObservableStringValue text) {
        Label label = new Label();
        label.setId(id);
        label.getStyleClass().add(styleClass);
        label.setWrapText(true);
        label.textProperty().bind(text);
        label.visibleProperty().bind(label.textProperty().isNotEmpty());
        label.managedProperty().bind(label.visibleProperty());
        return label;
    }
}
