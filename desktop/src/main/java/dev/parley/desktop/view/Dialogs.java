package dev.parley.desktop.view;

import javafx.beans.value.ObservableBooleanValue;
import javafx.beans.value.ObservableStringValue;
import javafx.scene.Parent;
import javafx.scene.Scene;
import javafx.scene.control.Label;
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
