package dev.parley.desktop.view;

import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.desktop.export.ConversationExport;
import dev.parley.desktop.export.ConversationExport.Format;
import dev.parley.desktop.viewmodel.MainViewModel;
import dev.parley.desktop.viewmodel.ModelPicker;
import dev.parley.desktop.viewmodel.Versions;
import dev.parley.protocol.Role;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.Parent;
import javafx.scene.control.Alert;
import javafx.scene.control.Button;
import javafx.scene.control.ButtonType;
import javafx.scene.control.ComboBox;
import javafx.scene.control.ContextMenu;
import javafx.scene.control.Dialog;
import javafx.scene.control.Label;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.MenuBar;
import javafx.scene.control.MenuItem;
import javafx.scene.control.ProgressBar;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.control.SplitMenuButton;
import javafx.scene.control.TextArea;
import javafx.scene.control.TextField;
import javafx.scene.control.TextInputDialog;
import javafx.scene.control.Tooltip;
import javafx.scene.input.Clipboard;
import javafx.scene.input.ClipboardContent;
import javafx.scene.input.KeyCode;
import javafx.scene.input.KeyCodeCombination;
import javafx.scene.input.KeyCombination;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import javafx.stage.FileChooser;
import javafx.stage.Window;
import org.kordamp.ikonli.feather.Feather;
import org.kordamp.ikonli.javafx.FontIcon;

/** The main window: conversations on the left, the chat in the middle, the composer below, a status bar. */
public final class MainView {
    /** How close to the end of the loaded conversations the sidebar asks for the next page. */
    private static final int LOAD_AHEAD = 20;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneId.systemDefault());

    private final MainViewModel vm;
    private final Runnable openSignIn;
    private final Runnable openSettings;
    private final ExportTarget exportTarget;
    private HistoryFiles historyFiles = HistoryFiles.fileChooser();
    private final BorderPane root = new BorderPane();
    private final TextField search = new TextField();
    private final TextArea composer = new TextArea();

    /** Where an export goes: asks the user for a file, or answers empty when they cancel. */
    @FunctionalInterface
    public interface ExportTarget {
        Optional<Path> choose(Window owner, String suggestedName, Format format);

        /** The platform's Save dialog. */
        static ExportTarget fileChooser() {
            return (owner, suggestedName, format) -> {
                FileChooser chooser = new FileChooser();
                chooser.setTitle("Export conversation");
                chooser.setInitialFileName(suggestedName);
                chooser.getExtensionFilters().add(format == Format.MARKDOWN
                        ? new FileChooser.ExtensionFilter("Markdown", "*.md")
                        : new FileChooser.ExtensionFilter("JSON", "*.json"));
                File file = chooser.showSaveDialog(owner);
                return Optional.ofNullable(file).map(File::toPath);
            };
        }
    }

    public MainView(MainViewModel vm, Runnable openSignIn, Runnable openSettings, ExportTarget exportTarget) {
        this.vm = vm;
        this.openSignIn = openSignIn;
        this.openSettings = openSettings;
        this.exportTarget = exportTarget;
        root.setTop(top());
        root.setLeft(sidebar());
        root.setCenter(chat());
        root.setBottom(statusBar());
        root.getStyleClass().add("parley-main");
        root.sceneProperty().addListener((obs, old, scene) -> {
            if (scene != null) {
                scene.getAccelerators().put(new KeyCodeCombination(KeyCode.N, KeyCombination.SHORTCUT_DOWN),
                        vm::newChat);
                scene.getAccelerators().put(new KeyCodeCombination(KeyCode.F, KeyCombination.SHORTCUT_DOWN),
                        search::requestFocus);
                scene.getAccelerators().put(new KeyCodeCombination(KeyCode.COMMA, KeyCombination.SHORTCUT_DOWN),
                        openSettings);
                // Escape stops a reply being written (dialogs have their own Escape, and are other windows).
                scene.addEventHandler(javafx.scene.input.KeyEvent.KEY_PRESSED, e -> {
                    if (e.getCode() == KeyCode.ESCAPE && vm.writingProperty().get()) {
                        e.consume();
                        vm.stop();
                    }
                });
            }
        });
    }

    public Parent root() {
        return root;
    }

    /**
     * Where File → Import chats and Export all chats take their files from: the platform's Open and Save dialogs
     * unless a test gives its own.
     */
    public void chooseHistoryFilesWith(HistoryFiles files) {
        historyFiles = java.util.Objects.requireNonNull(files);
    }

    /** Gives the composer keyboard focus (when the window opens). */
    public void focusComposer() {
        composer.requestFocus();
    }

    /** The menu bar (the system's on macOS), and under it how an import or export goes. */
    private Node top() {
        HistoryTransferView transfer = new HistoryTransferView(vm.historyTransfer(), () -> historyFiles,
                () -> root.getScene() == null ? null : root.getScene().getWindow());
        MenuBar menus = new MenuBar(transfer.fileMenu());
        menus.setId("menuBar");
        menus.setUseSystemMenuBar(true);
        return new VBox(menus, transfer.panel());
    }

    private Node sidebar() {
        search.setPromptText("Search conversations");
        search.setId("search");
        search.textProperty().bindBidirectional(vm.searchProperty());
        Button newChat = new Button("New chat", new FontIcon(Feather.EDIT));
        newChat.setId("newChat");
        newChat.setMaxWidth(Double.MAX_VALUE);
        newChat.setOnAction(e -> vm.newChat());
        newChat.setTooltip(new Tooltip("New chat (Ctrl+N)"));
        Button settings = new Button(null, new FontIcon(Feather.SETTINGS));
        settings.setId("settings");
        settings.setTooltip(new Tooltip("Settings (Ctrl+,)"));
        settings.setOnAction(e -> openSettings.run());
        Button usage = new Button(null, new FontIcon(Feather.BAR_CHART_2));
        usage.setId("usage");
        usage.setTooltip(new Tooltip("Usage: messages and tokens of the last 30 days"));
        usage.setOnAction(e -> UsageDialog.open(root.getScene().getWindow(), vm.usage()));
        HBox.setHgrow(newChat, Priority.ALWAYS);
        HBox top = new HBox(6, newChat, usage, settings);
        ListView<LocalSession> list = new ListView<>(vm.sessions());
        list.setId("sessions");
        list.setCellFactory(v -> new SessionCell());
        list.getSelectionModel().selectedItemProperty().addListener((obs, old, now) -> {
            if (now != null && (vm.selectedProperty().get() == null
                    || !vm.selectedProperty().get().id().equals(now.id()))) {
                vm.selectedProperty().set(now);
            }
        });
        Runnable showSelection = () -> {
            LocalSession now = vm.selectedProperty().get();
            if (now == null) {
                list.getSelectionModel().clearSelection();
            } else if (list.getSelectionModel().getSelectedItem() == null
                    || !list.getSelectionModel().getSelectedItem().id().equals(now.id())) {
                list.getItems().stream().filter(s -> s.id().equals(now.id())).findFirst()
                        .ifPresent(s -> list.getSelectionModel().select(s));
            }
        };
        vm.selectedProperty().addListener((obs, old, now) -> showSelection.run());
        // A new conversation is selected before the refreshed list that holds it arrives: select it then.
        vm.sessions().addListener((javafx.collections.ListChangeListener<LocalSession>) c -> showSelection.run());
        VBox.setVgrow(list, Priority.ALWAYS);
        VBox box = new VBox(8, top, search, list);
        box.setPadding(new Insets(8));
        box.setPrefWidth(280);
        return box;
    }

    private Node chat() {
        ListView<LocalMessage> messages = new ListView<>(vm.messages());
        messages.setId("messages");
        messages.setCellFactory(v -> new MessageCell());
        messages.setFocusTraversable(false);
        FollowTheEnd.install(messages);
        // Versions and the editor are drawn by the cells from the view model's state: draw them again when it moves.
        vm.versions().addListener((javafx.collections.MapChangeListener<String, Versions>) c -> messages.refresh());
        vm.editingProperty().addListener((obs, old, now) -> {
            messages.refresh();
            if (now == null) {
                composer.requestFocus();
            } else {
                for (int i = 0; i < vm.messages().size(); i++) {
                    if (vm.messages().get(i).id().equals(now)) {
                        messages.scrollTo(i);
                    }
                }
            }
        });
        VBox.setVgrow(messages, Priority.ALWAYS);

        ProgressIndicator spinner = new ProgressIndicator();
        spinner.setPrefSize(16, 16);
        Label thinking = new Label("Thinking…", spinner);
        thinking.setId("thinking");
        thinking.visibleProperty().bind(vm.thinkingProperty());
        thinking.managedProperty().bind(thinking.visibleProperty());

        Label notice = Dialogs.message("notice", "text-muted", vm.noticeProperty());
        Label error = Dialogs.message("error", "danger", vm.errorProperty());

        composer.setId("composer");
        composer.setPromptText("Message Parley (Enter sends, Shift+Enter adds a line)");
        composer.setWrapText(true);
        composer.setPrefRowCount(3);
        composer.textProperty().bindBidirectional(vm.draftProperty());
        composer.addEventFilter(javafx.scene.input.KeyEvent.KEY_PRESSED, e -> {
            if (e.getCode() == KeyCode.ENTER && !e.isShiftDown()) {
                e.consume();
                vm.send();
            } else if (e.getCode() == KeyCode.ENTER) {
                e.consume();
                composer.insertText(composer.getCaretPosition(), "\n");
            } else if (e.getCode() == KeyCode.UP && composer.getText().isEmpty() && vm.editLastUserMessage()) {
                e.consume(); // Up in an empty box edits the last message sent, in place
            }
        });
        ComboBox<ModelPicker.Choice> model = modelPicker(vm.modelPicker());
        Button chatSettings = new Button(null, new FontIcon(Feather.SLIDERS));
        chatSettings.setId("chatSettings");
        chatSettings.setTooltip(new Tooltip("This conversation's system prompt and parameters"));
        chatSettings.disableProperty().bind(vm.selectedProperty().isNull());
        chatSettings.setOnAction(e -> vm.chatSettings().ifPresent(
                c -> ChatSettingsDialog.open(root.getScene().getWindow(), c)));
        // Send becomes Stop while a reply is being written here (Escape stops too).
        Button send = new Button("Send");
        send.setId("send");
        send.setDefaultButton(false);
        send.textProperty().bind(javafx.beans.binding.Bindings.when(vm.writingProperty()).then("Stop")
                .otherwise("Send"));
        send.setOnAction(e -> {
            if (vm.writingProperty().get()) {
                vm.stop();
            } else {
                vm.send();
            }
        });
        HBox.setHgrow(composer, Priority.ALWAYS);
        VBox controls = new VBox(6, new HBox(4, model, chatSettings), send);
        HBox composerRow = new HBox(8, composer, controls);
        VBox box = new VBox(8, messages, thinking, notice, error, composerRow);
        box.setPadding(new Insets(8));
        return box;
    }

    /**
     * The composer's model list: models under their provider's heading (headings cannot be picked), a model the
     * conversation used that is gone shown as unavailable.
     */
    private static ComboBox<ModelPicker.Choice> modelPicker(ModelPicker picker) {
        ComboBox<ModelPicker.Choice> box = new ComboBox<>(picker.choices());
        box.setId("model");
        box.setCellFactory(v -> new ModelCell());
        box.setButtonCell(new ModelCell());
        Runnable show = () -> {
            String id = picker.modelProperty().get();
            ModelPicker.Choice now = box.getValue();
            if (now == null || !java.util.Objects.equals(now.id(), id)) {
                box.setValue(picker.choices().stream().filter(c -> !c.heading() && c.id().equals(id)).findFirst()
                        .orElse(null));
            }
        };
        picker.modelProperty().addListener((obs, old, now) -> show.run());
        picker.choices().addListener((javafx.collections.ListChangeListener<ModelPicker.Choice>) c -> show.run());
        box.valueProperty().addListener((obs, old, now) -> {
            if (now != null && now.heading()) {
                show.run(); // a heading is not a model: back to the chosen one
            } else if (now != null) {
                picker.choose(now.id());
            }
        });
        show.run();
        return box;
    }

    /** A heading in small capitals, or a model (muted when unavailable). */
    private static final class ModelCell extends ListCell<ModelPicker.Choice> {
        @Override
        protected void updateItem(ModelPicker.Choice item, boolean empty) {
            super.updateItem(item, empty);
            getStyleClass().removeAll("model-heading", "model-unavailable");
            setDisable(false);
            if (empty || item == null) {
                setText(null);
                return;
            }
            setText(item.heading() ? item.group().toUpperCase(java.util.Locale.ROOT) : item.label());
            if (item.heading()) {
                getStyleClass().add("model-heading");
                setDisable(true);
            } else if (!item.available()) {
                getStyleClass().add("model-unavailable");
            }
        }
    }

    private Node statusBar() {
        Label account = new Label();
        account.setId("account");
        account.textProperty().bind(vm.accountTextProperty());
        Button signIn = new Button("Sign in");
        signIn.setId("signIn");
        signIn.setOnAction(e -> openSignIn.run());
        signIn.visibleProperty().bind(vm.signedInProperty().not());
        signIn.managedProperty().bind(signIn.visibleProperty());
        Button signOut = new Button("Sign out");
        signOut.setId("signOut");
        signOut.setOnAction(e -> vm.signOut());
        signOut.visibleProperty().bind(vm.signedInProperty());
        signOut.managedProperty().bind(signOut.visibleProperty());
        Label sync = new Label();
        sync.setId("syncStatus");
        sync.textProperty().bind(vm.syncTextProperty());
        sync.setOnMouseClicked(e -> showRejected());
        Tooltip why = new Tooltip("Click to see why the server refused them");
        vm.syncStatusProperty().addListener((obs, old, status) -> {
            boolean refused = status != null && status.rejected() > 0;
            sync.setCursor(refused ? javafx.scene.Cursor.HAND : javafx.scene.Cursor.DEFAULT);
            sync.setTooltip(refused ? why : null);
        });
        ProgressBar progress = new ProgressBar();
        progress.setId("syncProgress");
        progress.progressProperty().bind(vm.syncProgressProperty());
        progress.visibleProperty().bind(vm.syncProgressProperty().greaterThanOrEqualTo(0));
        progress.managedProperty().bind(progress.visibleProperty());
        Label server = new Label("Server: " + vm.serverLabel());
        server.setId("server");
        Region spacer = new Region();
        HBox.setHgrow(spacer, Priority.ALWAYS);
        HBox bar = new HBox(10, account, signIn, signOut, spacer, sync, progress, server);
        bar.setAlignment(Pos.CENTER_LEFT);
        bar.setPadding(new Insets(4, 8, 4, 8));
        bar.getStyleClass().add("status-bar");
        return bar;
    }

    private void showRejected() {
        vm.rejected(this::showRejected);
    }

    private void showRejected(java.util.List<LocalMessage> rejected) {
        if (rejected.isEmpty()) {
            return;
        }
        StringBuilder text = new StringBuilder();
        for (LocalMessage m : rejected) {
            text.append("• ").append(abbreviate(m.message().content())).append(" — ").append(m.rejectReason())
                    .append('\n');
        }
        Alert alert = new Alert(Alert.AlertType.INFORMATION, text.toString(), ButtonType.OK);
        alert.setHeaderText("The server refused these messages");
        ownedByWindow(alert);
        alert.show();
    }

    /** Dialogs open over the main window (and close with it); Escape closes them, as every dialog here. */
    private void ownedByWindow(Dialog<?> dialog) {
        if (root.getScene() != null && root.getScene().getWindow() != null) {
            dialog.initOwner(root.getScene().getWindow());
        }
    }

    private void export(LocalSession session, Format format) {
        exportTarget.choose(root.getScene().getWindow(), ConversationExport.fileName(session, format), format)
                .ifPresent(file -> vm.export(session, format, file));
    }

    private static String abbreviate(String text) {
        return text.length() > 60 ? text.substring(0, 59) + "…" : text;
    }

    /** A preview without Markdown's marks (emphasis, code, headings, quotes). */
    static String plain(String markdown) {
        return markdown == null ? "" : markdown.replaceAll("[*_`#>]+", "").replaceAll("\\s+", " ").strip();
    }

    static String relative(Instant then, Instant now) {
        Duration ago = Duration.between(then, now);
        if (ago.toMinutes() < 1) {
            return "now";
        }
        if (ago.toHours() < 1) {
            return ago.toMinutes() + " min";
        }
        if (ago.toDays() < 1) {
            return ago.toHours() + " h";
        }
        return ago.toDays() + " d";
    }

    /** A conversation in the sidebar: title, preview, relative time; rename and delete from its menu. */
    private final class SessionCell extends ListCell<LocalSession> {
        SessionCell() {
            setPrefWidth(0); // fit the sidebar: long titles end in an ellipsis instead of a scroll bar
        }

        @Override
        protected void updateItem(LocalSession session, boolean empty) {
            super.updateItem(session, empty);
            if (empty || session == null) {
                setGraphic(null);
                setText(null);
                setContextMenu(null);
                return;
            }
            if (getIndex() >= getListView().getItems().size() - LOAD_AHEAD) {
                vm.loadMore(); // drawing one of the last rows: fetch the next page before the user reaches the end
            }
            Label title = new Label(session.title());
            title.getStyleClass().add("session-title");
            title.setMinWidth(0);
            title.setMaxWidth(Double.MAX_VALUE);
            HBox.setHgrow(title, Priority.ALWAYS);
            Label when = new Label(relative(session.lastActivityAt(), Instant.now()));
            when.getStyleClass().add("text-muted");
            when.setMinWidth(Region.USE_PREF_SIZE);
            Label preview = new Label(plain(session.preview()));
            preview.getStyleClass().add("text-muted");
            preview.setMinWidth(0);
            VBox box = new VBox(2, new HBox(6, title, when), preview);
            box.setMinWidth(0);
            setGraphic(box);
            setText(null);
            MenuItem rename = new MenuItem("Rename…");
            rename.setOnAction(e -> {
                TextInputDialog dialog = new TextInputDialog(session.title());
                dialog.setHeaderText("Rename conversation");
                ownedByWindow(dialog);
                dialog.showAndWait().map(String::strip).filter(t -> !t.isEmpty())
                        .ifPresent(t -> vm.rename(session, t));
            });
            MenuItem delete = new MenuItem("Delete…");
            delete.setOnAction(e -> {
                Alert confirm = new Alert(Alert.AlertType.CONFIRMATION,
                        "Delete \"" + session.title() + "\"? This removes it on every device.",
                        ButtonType.CANCEL, ButtonType.OK);
                confirm.setHeaderText("Delete conversation");
                ownedByWindow(confirm);
                confirm.showAndWait().filter(b -> b == ButtonType.OK).ifPresent(b -> vm.delete(session));
            });
            MenuItem markdown = new MenuItem("Export as Markdown…");
            markdown.setOnAction(e -> export(session, Format.MARKDOWN));
            MenuItem json = new MenuItem("Export as JSON…");
            json.setOnAction(e -> export(session, Format.JSON));
            setContextMenu(new ContextMenu(rename, delete, markdown, json));
        }
    }

    /** One message: who, the Markdown text, and time · model · tokens · reply time; failures with Try again. */
    private final class MessageCell extends ListCell<LocalMessage> {
        /** The reply being written that this cell shows, if any: drawn again block by block as it grows. */
        private MarkdownView.Growing growing;
        private String growingFor;
        private String growingId;
        private Label growingState;

        MessageCell() {
            setPrefWidth(0); // wrap to the list's width instead of widening it
        }

        @Override
        protected void updateItem(LocalMessage message, boolean empty) {
            super.updateItem(message, empty);
            if (empty || message == null) {
                growingFor = null;
                setGraphic(null);
                return;
            }
            var m = message.message();
            if (message.unfinished() && m.userMessageId() != null && m.userMessageId().equals(growingFor)
                    && message.id().equals(growingId)) {
                // The same reply, grown: only its changed blocks are drawn, the rest keeps its nodes and styles.
                growing.show(m.content());
                growingState.setText(vm.stateLabel(message));
                return;
            }
            growingFor = null;
            Label who = new Label(m.role() == Role.USER ? "You" : m.role() == Role.ASSISTANT ? "Parley" : "System");
            who.getStyleClass().add("message-author");
            Node text;
            boolean editing = message.id().equals(vm.editingProperty().get());
            if (editing) {
                text = editor();
            } else if (message.unfinished()) {
                growing = new MarkdownView.Growing();
                growing.show(m.content());
                text = growing.node();
            } else {
                text = MarkdownView.render(m.content());
            }
            VBox box = new VBox(4, who, text);
            StringBuilder meta = new StringBuilder(TIME.format(m.messageTimestamp()));
            if (m.model() != null) {
                meta.append(" · ").append(m.model());
            }
            long tokens = m.role() == Role.ASSISTANT ? valueOf(m.outputTokens()) : valueOf(m.inputTokens());
            if (tokens > 0) {
                meta.append(" · ").append(tokens).append(" tokens");
            }
            if (m.elapsedMs() != null && m.role() == Role.ASSISTANT) {
                meta.append(" · ").append(m.elapsedMs()).append(" ms");
            }
            Label metaLabel = new Label(meta.toString());
            metaLabel.getStyleClass().addAll("text-muted", "message-meta");
            HBox metaRow = new HBox(10, metaLabel);
            metaRow.setAlignment(Pos.CENTER_LEFT);
            if (!editing) {
                metaRow.getChildren().add(actions(message)); // on the meta line, to keep each message compact
            }
            box.getChildren().add(metaRow);
            String state = vm.stateLabel(message);
            if (state != null) {
                Label mark = new Label(state);
                mark.getStyleClass().addAll("text-muted", "message-state");
                box.getChildren().add(mark);
                if (message.unfinished()) {
                    growingFor = m.userMessageId();
                    growingId = message.id();
                    growingState = mark;
                }
            }
            if (message.failed()) {
                Label mark = new Label("● " + m.errorMessage());
                mark.getStyleClass().addAll("danger", "message-error");
                box.getChildren().add(mark);
                if (message.retryable()) {
                    Button retry = new Button("Try again");
                    retry.getStyleClass().add("retry");
                    retry.setOnAction(e -> vm.retry(message));
                    box.getChildren().add(retry);
                }
            }
            box.getStyleClass().add(m.role() == Role.USER ? "message-user" : "message-assistant");
            box.setPadding(new Insets(6));
            setGraphic(box);
        }

        private static long valueOf(Long value) {
            return value == null ? 0 : value;
        }

        /**
         * The text of the message being edited, in place of its bubble: Enter sends it as a new version, Shift+Enter
         * adds a line, Escape puts the message back as it was.
         */
        private Node editor() {
            TextArea editor = new TextArea(vm.editTextProperty().get());
            editor.setId("messageEditor");
            editor.setWrapText(true);
            editor.setPrefRowCount(3);
            editor.setAccessibleText("Edit message: Enter sends it as a new version, Escape cancels");
            editor.textProperty().addListener((obs, old, now) -> vm.editTextProperty().set(now));
            editor.addEventFilter(javafx.scene.input.KeyEvent.KEY_PRESSED, e -> {
                if (e.getCode() == KeyCode.ENTER && !e.isShiftDown()) {
                    e.consume();
                    vm.submitEdit();
                } else if (e.getCode() == KeyCode.ENTER) {
                    e.consume();
                    editor.insertText(editor.getCaretPosition(), "\n");
                } else if (e.getCode() == KeyCode.ESCAPE) {
                    e.consume();
                    vm.cancelEdit();
                }
            });
            Button save = new Button("Send as new version");
            save.setId("editSend");
            save.getStyleClass().add("accent");
            save.setOnAction(e -> vm.submitEdit());
            save.disableProperty().bind(vm.editTextProperty().isEmpty().or(vm.writingProperty()));
            Button cancel = new Button("Cancel");
            cancel.setId("editCancel");
            cancel.setOnAction(e -> vm.cancelEdit());
            Label hint = new Label("Enter sends · Shift+Enter adds a line · Escape cancels");
            hint.getStyleClass().addAll("text-muted", "message-meta");
            HBox buttons = new HBox(6, save, cancel, hint);
            buttons.setAlignment(Pos.CENTER_LEFT);
            javafx.application.Platform.runLater(() -> {
                editor.requestFocus();
                editor.end();
            });
            return new VBox(6, editor, buttons);
        }

        /** Under each message: ‹ n/m › when it has versions, Copy, and Edit (yours) or Regenerate (replies). */
        private Node actions(LocalMessage message) {
            HBox bar = new HBox(2);
            bar.getStyleClass().add("message-actions");
            bar.setAlignment(Pos.CENTER_LEFT);
            vm.versionsOf(message).ifPresent(v -> bar.getChildren().addAll(versionSwitch(message, v)));
            Button copy = iconButton(Feather.COPY, "message-copy", "Copy the text");
            copy.setOnAction(e -> {
                ClipboardContent content = new ClipboardContent();
                content.putString(message.message().content());
                Clipboard.getSystemClipboard().setContent(content);
                copy.setGraphic(new FontIcon(Feather.CHECK));
                copy.getTooltip().setText("Copied");
            });
            bar.getChildren().add(copy);
            Role role = message.message().role();
            if (role == Role.USER && !message.unfinished()) {
                Button edit = iconButton(Feather.EDIT_2, "message-edit",
                        "Edit and send as a new version (Up arrow in an empty message box edits your last one)");
                edit.disableProperty().bind(vm.writingProperty());
                edit.setOnAction(e -> vm.startEdit(message));
                bar.getChildren().add(edit);
            } else if (role == Role.ASSISTANT && !message.unfinished() && !message.failed()) {
                bar.getChildren().add(regenerate(message));
            }
            return bar;
        }

        /** ‹ n/m ›: the previous and next versions, disabled at either end. */
        private java.util.List<Node> versionSwitch(LocalMessage message, Versions v) {
            Button previous = iconButton(Feather.CHEVRON_LEFT, "version-previous", "Previous version");
            previous.setDisable(v.previous().isEmpty());
            previous.setOnAction(e -> vm.previousVersion(message));
            Label label = new Label(v.label());
            label.getStyleClass().addAll("text-muted", "version-label");
            label.setAccessibleText("Version " + v.version() + " of " + v.count());
            Button next = iconButton(Feather.CHEVRON_RIGHT, "version-next", "Next version");
            next.setDisable(v.next().isEmpty());
            next.setOnAction(e -> vm.nextVersion(message));
            return java.util.List.of(previous, label, next);
        }

        /** Regenerate: with this reply's model at a click, or with any model the picker offers from its menu. */
        private Node regenerate(LocalMessage reply) {
            String own = reply.message().model();
            SplitMenuButton button = new SplitMenuButton();
            button.setGraphic(new FontIcon(Feather.REFRESH_CW));
            button.getStyleClass().addAll("flat", "small", "message-regenerate");
            String tip = own == null ? "Regenerate: another reply" : "Regenerate: another reply from " + own;
            button.setTooltip(new Tooltip(tip + " (the menu picks another model)"));
            button.setAccessibleText(tip);
            button.setOnAction(e -> vm.regenerate(reply, null));
            for (ModelPicker.Choice choice : vm.modelPicker().choices()) {
                if (choice.heading() || !choice.available()) {
                    continue;
                }
                MenuItem item = new MenuItem(choice.id().equals(own) ? choice.label() + " (this reply's)"
                        : choice.label());
                item.getStyleClass().add("regenerate-with");
                item.setOnAction(e -> vm.regenerate(reply, choice.id()));
                button.getItems().add(item);
            }
            button.disableProperty().bind(vm.writingProperty());
            return button;
        }

        private static Button iconButton(Feather icon, String styleClass, String tip) {
            Button button = new Button(null, new FontIcon(icon));
            button.getStyleClass().addAll("button-icon", "flat", "small", styleClass);
            button.setTooltip(new Tooltip(tip));
            button.setAccessibleText(tip);
            return button;
        }

    }
}
