package dev.parley.desktop.view;

import java.io.File;
import java.nio.file.Path;
import java.util.Optional;
import javafx.stage.FileChooser;
import javafx.stage.Window;

/**
 * Where File → Import chats reads from and File → Export all chats writes to: asks the user, or answers empty when
 * they cancel. The platform's Open and Save dialogs in the app; a test answers with its own files. FX thread only.
 */
public interface HistoryFiles {
    /** The export to import: a ChatGPT {@code conversations.json} or its zip, or a Parley export zip. */
    Optional<Path> importFrom(Window owner);

    /** The zip to export every conversation to, suggesting {@code suggestedName}. */
    Optional<Path> exportTo(Window owner, String suggestedName);

    /** The platform's Open and Save dialogs. */
    static HistoryFiles fileChooser() {
        return new HistoryFiles() {
            @Override
            public Optional<Path> importFrom(Window owner) {
                FileChooser chooser = new FileChooser();
                chooser.setTitle("Import chats");
                chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter(
                        "ChatGPT or Parley export (conversations.json, .zip)", "*.json", "*.zip"));
                return Optional.ofNullable(chooser.showOpenDialog(owner)).map(File::toPath);
            }

            @Override
            public Optional<Path> exportTo(Window owner, String suggestedName) {
                FileChooser chooser = new FileChooser();
                chooser.setTitle("Export all chats");
                chooser.setInitialFileName(suggestedName);
                chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Zip archive", "*.zip"));
                return Optional.ofNullable(chooser.showSaveDialog(owner)).map(File::toPath);
            }
        };
    }
}
