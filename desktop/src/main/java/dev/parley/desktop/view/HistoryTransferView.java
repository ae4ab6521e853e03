package dev.parley.desktop.view;

import dev.parley.desktop.viewmodel.HistoryTransferViewModel;
import java.util.function.Supplier;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Menu;
import javafx.scene.control.MenuItem;
import javafx.scene.control.ProgressBar;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.VBox;
import javafx.stage.Window;
import org.kordamp.ikonli.feather.Feather;
import org.kordamp.ikonli.javafx.FontIcon;

/**
 * File → Import chats… and Export all chats…, and the panel across the top of the window that shows how an import
 * or export goes (a bar, what it is doing, Cancel) and then what it did, or why it failed, until dismissed. The
 * window stays usable meanwhile. FX thread only.
 */
final class HistoryTransferView {
    private final HistoryTransferViewModel vm;
    private final Supplier<HistoryFiles> files;
    private final Supplier<Window> owner;

    /** @param files asked at each use, so that the window's choice of files may change after it is built */
    HistoryTransferView(HistoryTransferViewModel vm, Supplier<HistoryFiles> files, Supplier<Window> owner) {
        this.vm = vm;
        this.files = files;
        this.owner = owner;
    }

    /** The File menu. */
    Menu fileMenu() {
        MenuItem importChats = new MenuItem("Import chats…", new FontIcon(Feather.DOWNLOAD));
        importChats.setId("importChats");
        importChats.disableProperty().bind(vm.runningProperty());
        importChats.setOnAction(e -> files.get().importFrom(owner.get()).ifPresent(vm::importFrom));
        MenuItem exportAll = new MenuItem("Export all chats…", new FontIcon(Feather.UPLOAD));
        exportAll.setId("exportAll");
        exportAll.disableProperty().bind(vm.runningProperty());
        exportAll.setOnAction(e -> files.get().exportTo(owner.get(), vm.suggestedExportName())
                .ifPresent(vm::exportTo));
        Menu file = new Menu("_File", null, importChats, exportAll);
        file.setId("fileMenu");
        return file;
    }

    /** The panel: progress while running, then the outcome; takes no room otherwise. */
    Node panel() {
        ProgressBar bar = new ProgressBar();
        bar.setId("transferProgress");
        bar.setPrefWidth(220);
        bar.progressProperty().bind(vm.progressProperty());
        Label status = new Label();
        status.setId("transferStatus");
        status.textProperty().bind(vm.statusProperty());
        status.setMaxWidth(Double.MAX_VALUE);
        HBox.setHgrow(status, Priority.ALWAYS);
        Button cancel = new Button("Cancel");
        cancel.setId("transferCancel");
        cancel.disableProperty().bind(vm.cancellingProperty());
        cancel.visibleProperty().bind(vm.cancellableProperty().or(vm.cancellingProperty()));
        cancel.managedProperty().bind(cancel.visibleProperty());
        cancel.setOnAction(e -> vm.cancel());
        HBox working = new HBox(10, bar, status, cancel);
        working.setAlignment(Pos.CENTER_LEFT);
        working.visibleProperty().bind(vm.runningProperty());
        working.managedProperty().bind(working.visibleProperty());

        Label result = Dialogs.message("transferResult", "transfer-result", vm.resultProperty());
        Label error = Dialogs.message("transferError", "danger", vm.errorProperty());
        VBox texts = new VBox(2, result, error);
        texts.setAlignment(Pos.CENTER_LEFT);
        HBox.setHgrow(texts, Priority.ALWAYS);
        Button dismiss = new Button(null, new FontIcon(Feather.X));
        dismiss.setId("transferDismiss");
        dismiss.getStyleClass().addAll("button-icon", "flat", "small");
        dismiss.setAccessibleText("Dismiss");
        dismiss.setOnAction(e -> vm.dismiss());
        HBox done = new HBox(10, texts, dismiss);
        done.setAlignment(Pos.CENTER_LEFT);
        done.visibleProperty().bind(vm.runningProperty().not()
                .and(vm.resultProperty().isNotEmpty().or(vm.errorProperty().isNotEmpty())));
        done.managedProperty().bind(done.visibleProperty());

        VBox panel = new VBox(working, done);
        panel.setId("transferPanel");
        panel.getStyleClass().add("transfer-panel");
        panel.setPadding(new Insets(6, 8, 6, 8));
        panel.visibleProperty().bind(working.visibleProperty().or(done.visibleProperty()));
        panel.managedProperty().bind(panel.visibleProperty());
        return panel;
    }
}
