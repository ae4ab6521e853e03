package dev.parley.desktop.viewmodel;

import dev.parley.client.Account;
import dev.parley.client.ChatClient;
import dev.parley.client.ChatListener;
import dev.parley.client.ClientException;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.SyncStatus;
import dev.parley.desktop.export.ConversationExport;
import dev.parley.desktop.files.WholeFile;
import dev.parley.desktop.settings.Settings;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyDoubleProperty;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

/**
 * The main window's state and actions, over a {@link ChatClient}. Knows no controls; every property is read and
 * written on the UI thread, and all client calls go through the {@link UiExecutor}.
 */
public final class MainViewModel {
    /** Conversations shown per page of the sidebar. */
    static final int PAGE = 200;

    private final ChatClient client;
    private final UiExecutor ui;
    private final String serverLabel;

    private final ObservableList<LocalSession> sessions = FXCollections.observableArrayList();
    private final ObservableList<LocalMessage> messages = FXCollections.observableArrayList();
    private final ObservableList<ModelInfo> models = FXCollections.observableArrayList();
    /*
     * The read-only views handed out, made once: a view listens to its list only weakly, so a view made per call
     * (and not kept by its caller) is garbage collected and silently takes the caller's listeners with it.
     */
    private final ObservableList<LocalSession> sessionsView = FXCollections.unmodifiableObservableList(sessions);
    private final ObservableList<LocalMessage> messagesView = FXCollections.unmodifiableObservableList(messages);
    private final ObservableList<ModelInfo> modelsView = FXCollections.unmodifiableObservableList(models);
    private final ObjectProperty<LocalSession> selected = new SimpleObjectProperty<>();
    private final StringProperty search = new SimpleStringProperty("");
    private final StringProperty draft = new SimpleStringProperty("");
    private final ObjectProperty<String> model = new SimpleObjectProperty<>();
    private final BooleanProperty thinking = new SimpleBooleanProperty();
    private final StringProperty syncText = new SimpleStringProperty("");
    private final DoubleProperty syncProgress = new SimpleDoubleProperty(-1);
    private final ObjectProperty<SyncStatus> syncStatus = new SimpleObjectProperty<>();
    private final StringProperty accountText = new SimpleStringProperty("Not signed in");
    private final BooleanProperty signedIn = new SimpleBooleanProperty();
    private final StringProperty error = new SimpleStringProperty("");
    private final StringProperty notice = new SimpleStringProperty("");
    /** Counts list refreshes, so that only the newest one's result (and pages loaded after it) is shown. */
    private long sessionsGeneration;
    /** Whether the sidebar may hold more conversations than it has loaded; false while a page is on its way. */
    private boolean moreToLoad;
    private boolean loadingMore;
    /** The model chosen in Settings, preselected once the server's list is known. */
    private String preferredModel;

    public MainViewModel(ChatClient client, UiExecutor ui, String serverLabel) {
        this.client = client;
        this.ui = ui;
        this.serverLabel = serverLabel;
        search.addListener((obs, old, now) -> refreshSessions());
        selected.addListener((obs, old, now) -> refreshMessages());
        client.addListener(new ChatListener() {
            @Override
            public void messagesChanged(String sessionId) {
                ui.onUi(() -> {
                    if (selected.get() != null && selected.get().id().equals(sessionId)) {
                        refreshMessages();
                    }
                });
            }

            @Override
            public void sessionsChanged() {
                ui.onUi(MainViewModel.this::refreshSessions);
            }

            @Override
            public void syncStatusChanged(SyncStatus status) {
                ui.onUi(() -> showStatus(status));
            }

            @Override
            public void accountChanged(Account account) {
                ui.onUi(() -> showAccount(account));
            }
        });
    }

    /** Loads the first state: account, conversations, models, sync status. */
    public void start() {
        showAccount(client.account().orElse(null));
        refreshSessions();
        ui.run(client::models, this::showModels, e -> { });
        ui.run(client::syncStatus, this::showStatus, e -> { });
    }

    // ------------------------------------------------------------------ actions

    public void newChat() {
        ui.run(() -> client.newSession(null), session -> {
            refreshSessions();
            selected.set(session);
        }, this::showError);
    }

    /** Sends the draft in the selected conversation (starting one when none is selected). */
    public void send() {
        String text = draft.get() == null ? "" : draft.get().strip();
        if (text.isEmpty() || thinking.get()) {
            return;
        }
        draft.set("");
        error.set("");
        thinking.set(true);
        LocalSession current = selected.get();
        String chosenModel = model.get();
        ui.run(() -> {
            LocalSession session = current != null ? current : client.newSession(null);
            return new Sent(session, client.send(session.id(), text, chosenModel));
        }, sent -> {
            if (current == null) {
                selected.set(sent.session());
            }
            refreshMessages();
            sent.exchange().outcome().thenAccept(outcome -> ui.onUi(() -> {
                thinking.set(false);
                refreshMessages();
            }));
        }, e -> {
            thinking.set(false);
            draft.set(text); // nothing is lost: the text goes back into the composer
            showError(e);
        });
    }

    /** "Try again" on a failed message: the same message id is sent again. */
    public void retry(LocalMessage message) {
        thinking.set(true);
        ui.run(() -> client.retry(message.id()), exchange -> exchange.outcome().thenAccept(outcome ->
                ui.onUi(() -> {
                    thinking.set(false);
                    refreshMessages();
                })), e -> {
                    thinking.set(false);
                    showError(e);
                });
    }

    public void rename(LocalSession session, String title) {
        ui.run(() -> {
            client.rename(session.id(), title);
            return null;
        }, done -> refreshSessions(), this::showError);
    }

    public void delete(LocalSession session) {
        ui.run(() -> {
            client.delete(session.id());
            return null;
        }, done -> {
            if (selected.get() != null && selected.get().id().equals(session.id())) {
                selected.set(null);
            }
            refreshSessions();
        }, this::showError);
    }

    public void signOut() {
        ui.run(() -> {
            client.signOut();
            return null;
        }, done -> {
            selected.set(null);
            refreshSessions();
        }, this::showError);
    }

    /**
     * Writes {@code session} to {@code file} in {@code format}, off the UI thread. The file is replaced whole or not
     * at all; the outcome is reported in {@link #noticeProperty()} or {@link #errorProperty()}.
     */
    public void export(LocalSession session, ConversationExport.Format format, Path file) {
        ui.run(() -> {
            String text = ConversationExport.render(format, session, client.messages(session.id()), Instant.now(),
                    ZoneId.systemDefault());
            WholeFile.write(file, text);
            return file;
        }, written -> notice.set("Exported \"" + session.title() + "\" to " + written), e -> error.set(
                "Could not export \"" + session.title() + "\" to " + file + ": " + describe(e)));
    }

    /** Takes saved settings into use: the default model now (when the server offers it); the theme is the view's. */
    public void applySettings(Settings settings) {
        preferredModel = settings.defaultModel();
        if (preferredModel != null && models.stream().anyMatch(m -> m.id().equals(preferredModel))) {
            model.set(preferredModel);
        }
    }

    /** Shows a short message in the window, e.g. that a restart is needed; empty hides it. */
    public void notify(String text) {
        notice.set(text == null ? "" : text);
    }

    /** The rows the server refused, for "see why". */
    public List<LocalMessage> rejected() {
        return client.rejectedMessages();
    }

    /**
     * Reloads the sidebar: as many conversations as are shown now (at least a page), so that a change does not
     * scroll the list back to the top.
     */
    public void refreshSessions() {
        String query = search.get();
        long generation = ++sessionsGeneration;
        int wanted = Math.max(PAGE, sessions.size());
        loadingMore = false;
        ui.run(() -> client.sessions(query, null, wanted), list -> {
            if (generation != sessionsGeneration) {
                return; // a later refresh (the next keystroke of a search) supersedes this one
            }
            moreToLoad = list.size() == wanted;
            sessions.setAll(list);
            LocalSession current = selected.get();
            if (current != null) {
                list.stream().filter(s -> s.id().equals(current.id())).findFirst().ifPresent(fresh -> {
                    if (!fresh.equals(current)) {
                        selected.set(fresh);
                    }
                });
            }
        }, this::showError);
    }

    /**
     * Loads the next page of conversations after the last one shown, when there may be more and none is on its
     * way. The sidebar calls it as the user scrolls near the end; SQLite pages by keyset, never by offset.
     */
    public void loadMore() {
        if (!moreToLoad || loadingMore || sessions.isEmpty()) {
            return;
        }
        loadingMore = true;
        String query = search.get();
        long generation = sessionsGeneration;
        LocalSession last = sessions.get(sessions.size() - 1);
        ui.run(() -> client.sessions(query, last, PAGE), page -> {
            if (generation != sessionsGeneration) {
                return; // the list was reloaded meanwhile; this page belongs to the old one
            }
            loadingMore = false;
            moreToLoad = page.size() == PAGE;
            Set<String> shown = new HashSet<>();
            sessions.forEach(s -> shown.add(s.id()));
            List<LocalSession> fresh = new ArrayList<>();
            page.stream().filter(s -> shown.add(s.id())).forEach(fresh::add);
            sessions.addAll(fresh);
        }, e -> {
            loadingMore = false;
            showError(e);
        });
    }

    private void refreshMessages() {
        LocalSession current = selected.get();
        if (current == null) {
            messages.clear();
            return;
        }
        ui.run(() -> client.messages(current.id()), list -> {
            if (selected.get() != null && selected.get().id().equals(current.id())) {
                messages.setAll(list);
            }
        }, this::showError);
    }

    private void showStatus(SyncStatus status) {
        syncStatus.set(status);
        syncText.set(SyncText.of(status));
        syncProgress.set(status.state() == SyncStatus.State.SYNCING && status.total() > 0
                ? (double) status.done() / status.total() : -1);
    }

    private void showAccount(Account account) {
        signedIn.set(account != null);
        accountText.set(account == null ? "Not signed in" : account.email());
        refreshSessions();
    }

    private void showModels(ModelsResponse response) {
        models.setAll(response.models());
        if (preferredModel != null && response.models().stream().anyMatch(m -> m.id().equals(preferredModel))) {
            model.set(preferredModel);
        } else if (model.get() == null) {
            model.set(response.defaultModel());
        }
    }

    private void showError(Throwable e) {
        error.set(describe(e));
    }

    /** The problem in plain words: a client error's own message, else what failed. */
    private static String describe(Throwable e) {
        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                ? e.getCause() : e;
        if (cause instanceof ClientException) {
            return cause.getMessage();
        }
        if (cause instanceof java.nio.file.NoSuchFileException) {
            return "the folder does not exist";
        }
        if (cause instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (cause instanceof IOException io) {
            return io.getMessage() == null ? "the file could not be written" : io.getMessage();
        }
        return "Something went wrong: " + cause;
    }

    private record Sent(LocalSession session, dev.parley.client.Exchange exchange) {
    }

    // ------------------------------------------------------------------ properties

    /** The sidebar's conversations, read-only; always the same list, so listeners on it last as long as this. */
    public ObservableList<LocalSession> sessions() {
        return sessionsView;
    }

    /** The selected conversation's messages, read-only; always the same list. */
    public ObservableList<LocalMessage> messages() {
        return messagesView;
    }

    /** The models the server offers, read-only; always the same list. */
    public ObservableList<ModelInfo> models() {
        return modelsView;
    }

    public ObjectProperty<LocalSession> selectedProperty() {
        return selected;
    }

    public StringProperty searchProperty() {
        return search;
    }

    public StringProperty draftProperty() {
        return draft;
    }

    public ObjectProperty<String> modelProperty() {
        return model;
    }

    public ReadOnlyBooleanProperty thinkingProperty() {
        return thinking;
    }

    public ReadOnlyStringProperty syncTextProperty() {
        return syncText;
    }

    /** Upload progress 0..1 while syncing, else -1. */
    public ReadOnlyDoubleProperty syncProgressProperty() {
        return syncProgress;
    }

    public ReadOnlyObjectProperty<SyncStatus> syncStatusProperty() {
        return syncStatus;
    }

    public ReadOnlyStringProperty accountTextProperty() {
        return accountText;
    }

    public ReadOnlyBooleanProperty signedInProperty() {
        return signedIn;
    }

    public StringProperty errorProperty() {
        return error;
    }

    /** A passing message for the user (an export written, a restart needed); empty when there is none. */
    public StringProperty noticeProperty() {
        return notice;
    }

    public String serverLabel() {
        return serverLabel;
    }

    public ChatClient client() {
        return client;
    }
}
