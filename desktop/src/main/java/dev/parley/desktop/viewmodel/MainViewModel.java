package dev.parley.desktop.viewmodel;

import dev.parley.client.Account;
import dev.parley.client.ChatClient;
import dev.parley.client.ChatListener;
import dev.parley.client.ChatParameters;
import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.client.LiveState;
import dev.parley.client.LocalChange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.PathMessage;
import dev.parley.client.RemoteReply;
import dev.parley.client.SyncStatus;
import dev.parley.desktop.export.ConversationExport;
import dev.parley.desktop.files.WholeFile;
import dev.parley.desktop.settings.Settings;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
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
import javafx.collections.ObservableMap;

/**
 * The main window's state and actions, over a {@link ChatClient}. Knows no controls; every property is read and
 * written on the UI thread, and all client calls go through the {@link UiExecutor}.
 */
public final class MainViewModel {
    /** Conversations shown per page of the sidebar. */
    static final int PAGE = 200;
    /** The sidebar's order, as the store pages it: newest activity first. */
    private static final Comparator<LocalSession> NEWEST_FIRST = Comparator
            .comparing(LocalSession::lastActivityAt, Comparator.reverseOrder())
            .thenComparing(LocalSession::id, Comparator.reverseOrder());
    /** Times the renders of growing replies; one daemon thread for every window. */
    private static final ScheduledExecutorService TICKER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "parley-render");
        t.setDaemon(true);
        return t;
    });

    private final ChatClient client;
    private final UiExecutor ui;
    private final String serverLabel;

    private final ObservableList<LocalSession> sessions = FXCollections.observableArrayList();
    /** The open conversation's shown path, root to leaf (SPEC §4.3: the store decides which versions). */
    private final ObservableList<LocalMessage> messages = FXCollections.observableArrayList();
    /** The version shown of each message on the path that has siblings, by message id. */
    private final ObservableMap<String, Versions> versions = FXCollections.observableHashMap();
    /*
     * The read-only views handed out, made once: a view listens to its list only weakly, so a view made per call
     * (and not kept by its caller) is garbage collected and silently takes the caller's listeners with it.
     */
    private final ObservableList<LocalSession> sessionsView = FXCollections.unmodifiableObservableList(sessions);
    private final ObservableList<LocalMessage> messagesView = FXCollections.unmodifiableObservableList(messages);
    private final ObservableMap<String, Versions> versionsView = FXCollections.unmodifiableObservableMap(versions);
    /** The id of the user message being edited in place, or {@code null}. */
    private final ObjectProperty<String> editing = new SimpleObjectProperty<>();
    private final StringProperty editText = new SimpleStringProperty("");
    private final ObjectProperty<LocalSession> selected = new SimpleObjectProperty<>();
    private final StringProperty search = new SimpleStringProperty("");
    private final StringProperty draft = new SimpleStringProperty("");
    private final ModelPicker picker = new ModelPicker();
    /** The default chat parameters of Settings. */
    private ChatParameters defaults = ChatParameters.NONE;
    private final BooleanProperty thinking = new SimpleBooleanProperty();
    private final BooleanProperty writing = new SimpleBooleanProperty();
    private final GrowingReplies growing;
    private final ElsewhereReplies elsewhere = new ElsewhereReplies();
    private final AtomicBoolean elsewhereRenderDue = new AtomicBoolean();
    private LiveState live = LiveState.OFF;
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
    /** Counts reads of the shown path, so that only the newest one's result is shown. */
    private long pathGeneration;
    /** True while a read of the path is on its way: what changes meanwhile is applied again over its result. */
    private boolean pathReading;
    private final List<LocalMessage> changedWhileReading = new ArrayList<>();
    private final Set<String> removedWhileReading = new HashSet<>();
    /** Replies being regenerated that take their older sibling's place on the path when first shown. */
    private final Set<String> replacingSibling = new HashSet<>();
    /** File → Import and Export all: one for the window, so what it shows outlives the menu that started it. */
    private final HistoryTransferViewModel historyTransfer;

    public MainViewModel(ChatClient client, UiExecutor ui, String serverLabel) {
        this.client = client;
        this.ui = ui;
        this.serverLabel = serverLabel;
        this.growing = new GrowingReplies(ui, TICKER, this::showGrowing, this::exchangeEnded);
        this.historyTransfer = new HistoryTransferViewModel(client, ui, java.time.Clock.systemDefaultZone());
        search.addListener((obs, old, now) -> refreshSessions());
        selected.addListener((obs, old, now) -> {
            if (old == null || now == null || !old.id().equals(now.id())) {
                editing.set(null);
                refreshMessages(); // another conversation; the same one with a new title keeps its messages
                showConversationModel();
                String shown = now == null ? null : now.id();
                ui.run(() -> {
                    client.showing(shown); // replies being written for it on another device are followed
                    return null;
                }, done -> { }, e -> { });
            }
            updateWriting();
        });
        client.addListener(new ChatListener() {
            @Override
            public void changed(LocalChange change) {
                ui.onUi(() -> apply(change));
            }

            @Override
            public void exchangeStarted(Exchange exchange) {
                growing.follow(exchange);
            }

            @Override
            public void syncStatusChanged(SyncStatus status) {
                ui.onUi(() -> showStatus(status));
            }

            @Override
            public void accountChanged(Account account) {
                ui.onUi(() -> showAccount(account));
            }

            @Override
            public void liveStateChanged(LiveState state) {
                ui.onUi(() -> showLive(state));
            }

            @Override
            public void remoteReply(RemoteReply reply) {
                ui.onUi(() -> showElsewhere(reply));
            }
        });
    }

    /** Loads the first state: account, conversations, models, sync status. */
    public void start() {
        ui.run(client::account, account -> showAccount(account.orElse(null)), this::showError);
        reloadModels();
        ui.run(client::syncStatus, this::showStatus, e -> { });
        ui.run(client::liveState, this::showLive, e -> { });
        // Replies a previous run left being written were resumed when the client opened, before this listened.
        ui.run(client::liveExchanges, live -> live.forEach(growing::follow), e -> { });
    }

    // ------------------------------------------------------------------ actions

    public void newChat() {
        ui.run(() -> client.newSession(null), selected::set, this::showError);
    }

    /**
     * Sends the draft in the selected conversation (starting one when none is selected). Nothing while a reply is
     * being written there: Send is Stop then.
     */
    public void send() {
        String text = draft.get() == null ? "" : draft.get().strip();
        if (text.isEmpty() || writing.get()) {
            return;
        }
        LocalSession current = selected.get();
        String unavailable = picker.unavailableProblem();
        if (unavailable != null) {
            error.set(unavailable);
            return; // the draft stays in the composer
        }
        draft.set("");
        error.set("");
        String chosenModel = picker.modelProperty().get();
        ui.run(() -> {
            LocalSession session = current != null ? current : client.newSession(null);
            return new Sent(session, client.send(session.id(), text, chosenModel));
        }, sent -> {
            if (current == null) {
                selected.set(sent.session());
            }
            growing.followHere(sent.exchange());
        }, e -> {
            draft.set(text); // nothing is lost: the text goes back into the composer
            showError(e);
        });
    }

    /** Stops the reply being written in the selected conversation; what it wrote so far is kept. */
    public void stop() {
        LocalSession current = selected.get();
        if (current != null) {
            growing.live().stream().filter(e -> e.sessionId().equals(current.id())).forEach(Exchange::stop);
        }
    }

    /** "Try again" on a failed message: the same message id is sent again. */
    public void retry(LocalMessage message) {
        if (!picker.available(message.message().model())) {
            error.set("The model " + message.message().model() + " this message was sent to is not available now"
                    + " (its provider is not running or was removed in Settings). Start it again, or send the"
                    + " message anew with another model.");
            return;
        }
        ui.run(() -> client.retry(message.id()), growing::followHere, this::showError);
    }

    // ------------------------------------------------------------------ branches: versions, regenerate, edit

    /** The version shown of {@code message} among its siblings, when it has any. */
    public Optional<Versions> versionsOf(LocalMessage message) {
        Versions v = versions.get(message.id());
        return v != null && v.several() ? Optional.of(v) : Optional.empty();
    }

    /**
     * Shows the version {@code messageId} in place of the sibling shown now, and below it the newest of its branch
     * (this device's choice, never synced); the path is read again.
     */
    public void showVersion(String messageId) {
        ui.run(() -> {
            client.showVersion(messageId);
            return null;
        }, done -> refreshMessages(), this::showError);
    }

    /** ‹ : the version before the one shown. Nothing on the first. */
    public void previousVersion(LocalMessage message) {
        versionsOf(message).flatMap(Versions::previous).ifPresent(this::showVersion);
    }

    /** › : the version after the one shown. Nothing on the last. */
    public void nextVersion(LocalMessage message) {
        versionsOf(message).flatMap(Versions::next).ifPresent(this::showVersion);
    }

    /**
     * Whether {@code message} can be answered again: a finished assistant reply, while no reply is being written in
     * this conversation (the one that would be replaced among them).
     */
    public boolean canRegenerate(LocalMessage message) {
        return message.message().role() == Role.ASSISTANT && !message.unfinished() && !message.failed()
                && !writing.get();
    }

    /** Whether {@code message} can be edited and sent again: a user message, while no reply is written here. */
    public boolean canEdit(LocalMessage message) {
        return message.message().role() == Role.USER && !message.unfinished() && !writing.get();
    }

    /**
     * Asks for another reply to the question {@code reply} answers, with {@code model} ({@code null}: the model of
     * {@code reply}). It is shown as the newest version while it is written; the old reply stays a version.
     */
    public void regenerate(LocalMessage reply, String model) {
        if (!canRegenerate(reply)) {
            return;
        }
        String chosen = model != null ? model : reply.message().model();
        if (chosen != null && !picker.available(chosen)) {
            error.set("The model " + chosen + " is not available now (its provider is not running or was removed"
                    + " in Settings). Pick another one to regenerate with.");
            return;
        }
        error.set("");
        editing.set(null);
        ui.run(() -> client.regenerate(reply.id(), model), exchange -> {
            replacingSibling.add(replyIdOf(exchange));
            growing.followHere(exchange);
            showGrowing(exchange); // at once, even when the client's own start event got it followed first
        }, this::showError);
    }

    /** Opens the in-place editor on {@code message} with its text; nothing when it cannot be edited now. */
    public void startEdit(LocalMessage message) {
        if (!canEdit(message)) {
            return;
        }
        editText.set(message.message().content());
        editing.set(message.id());
    }

    /** Up arrow in an empty composer: edits the last user message of the shown path. False when there is none. */
    public boolean editLastUserMessage() {
        for (int i = messages.size() - 1; i >= 0; i--) {
            LocalMessage m = messages.get(i);
            if (m.message().role() == Role.USER) {
                if (!canEdit(m)) {
                    return false;
                }
                startEdit(m);
                return true;
            }
        }
        return false;
    }

    /** Closes the editor; the message is shown as it was, nothing is sent. */
    public void cancelEdit() {
        editing.set(null);
        editText.set("");
    }

    /**
     * Sends the edited text as a new version of the message being edited (a new branch; the old one stays), with the
     * composer's model. On failure the editor opens again with the text.
     */
    public void submitEdit() {
        String id = editing.get();
        String text = editText.get() == null ? "" : editText.get().strip();
        if (id == null || text.isEmpty() || writing.get()) {
            return;
        }
        String unavailable = picker.unavailableProblem();
        if (unavailable != null) {
            error.set(unavailable);
            return; // the editor stays open with the text
        }
        error.set("");
        String chosenModel = picker.modelProperty().get();
        cancelEdit();
        ui.run(() -> client.edit(id, text, chosenModel), exchange -> {
            growing.followHere(exchange);
            refreshMessages();
        }, e -> {
            editText.set(text);
            editing.set(id);
            showError(e);
        });
    }

    public void rename(LocalSession session, String title) {
        ui.run(() -> {
            client.rename(session.id(), title);
            return null;
        }, done -> { }, this::showError);
    }

    public void delete(LocalSession session) {
        ui.run(() -> {
            client.delete(session.id());
            return null;
        }, done -> {
            if (selected.get() != null && selected.get().id().equals(session.id())) {
                selected.set(null);
            }
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
            // Markdown is what the window shows; JSON keeps every branch, to rebuild the tree from its parentIds.
            List<LocalMessage> rows = format == ConversationExport.Format.JSON ? client.allMessages(session.id())
                    : client.messages(session.id());
            String text = ConversationExport.render(format, session, rows, Instant.now(), ZoneId.systemDefault());
            WholeFile.write(file, text);
            return file;
        }, written -> notice.set("Exported \"" + session.title() + "\" to " + written), e -> error.set(
                "Could not export \"" + session.title() + "\" to " + file + ": " + describe(e)));
    }

    /**
     * Takes saved settings into use: the default model now (when the server offers it and no conversation's own
     * model is shown) and the default chat parameters; the theme is the view's.
     */
    public void applySettings(Settings settings) {
        picker.preferred(settings.defaultModel());
        ChatParameters chosen = new ChatParameters(settings.temperature(), settings.maxTokens());
        defaults = chosen;
        ui.run(() -> {
            client.setDefaultParameters(chosen);
            return null;
        }, done -> { }, this::showError);
    }

    /** The open conversation's own settings (system prompt, parameters), or empty when none is open. */
    public Optional<ChatSettingsViewModel> chatSettings() {
        LocalSession current = selected.get();
        return current == null ? Optional.empty()
                : Optional.of(new ChatSettingsViewModel(client, ui, current, defaults));
    }

    /** The usage panel over this client: the last 30 UTC days. */
    public UsageViewModel usage() {
        return new UsageViewModel(client, ui, java.time.Clock.systemUTC());
    }

    /** Importing history from a file and exporting all of it: the window's one, for the File menu. */
    public HistoryTransferViewModel historyTransfer() {
        return historyTransfer;
    }

    /** Asks the server for its models again (after Settings gave the embedded server new ones). */
    public void reloadModels() {
        ui.run(client::models, picker::offered, e -> { });
    }

    /** Selects the model the open conversation last used, or the default for a new one. */
    private void showConversationModel() {
        LocalSession current = selected.get();
        if (current == null) {
            picker.conversationOpened(Optional.empty());
            return;
        }
        ui.run(() -> client.lastModel(current.id()), last -> {
            if (selected.get() != null && selected.get().id().equals(current.id())) {
                picker.conversationOpened(last);
            }
        }, e -> { });
    }

    /**
     * The window regained focus: while other devices' changes cannot arrive live, the client pulls now (SPEC §6
     * Live sync).
     */
    public void windowFocused() {
        ui.run(() -> {
            client.windowFocused();
            return null;
        }, done -> { }, e -> { });
    }

    /**
     * The words under a message that is not simply complete (see {@link ReplyLabels}); a reply being written on
     * another device says so.
     */
    public String stateLabel(LocalMessage message) {
        if (elsewhere.isStandIn(message)) {
            return elsewhere.isBeingWritten(message) ? ReplyLabels.WRITING_ELSEWHERE : null;
        }
        return ReplyLabels.of(message);
    }

    /** Shows a short message in the window, e.g. that a restart is needed; empty hides it. */
    public void notify(String text) {
        notice.set(text == null ? "" : text);
    }

    /** Reads the rows the server refused, for "see why", and hands them to {@code show} on the UI thread. */
    public void rejected(Consumer<List<LocalMessage>> show) {
        ui.run(client::rejectedMessages, show, this::showError);
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

    /** Reads the shown path again (another conversation, another version, a new branch). */
    private void refreshMessages() {
        LocalSession current = selected.get();
        long generation = ++pathGeneration;
        changedWhileReading.clear();
        removedWhileReading.clear();
        if (current == null) {
            pathReading = false;
            messages.clear();
            versions.clear();
            return;
        }
        pathReading = true;
        ui.run(() -> client.path(current.id()), path -> {
            if (generation != pathGeneration) {
                return; // a later read supersedes this one
            }
            pathReading = false;
            if (selected.get() == null || !selected.get().id().equals(current.id())) {
                return;
            }
            versions.clear();
            for (PathMessage p : path) {
                if (p.versions() > 1) {
                    versions.put(p.id(), Versions.of(p));
                }
            }
            messages.setAll(path.stream().map(PathMessage::message).toList());
            // Commits after the read began are applied again over it (placing only, never reading again).
            messages.removeIf(m -> removedWhileReading.contains(m.id()));
            List<LocalMessage> again = List.copyOf(changedWhileReading);
            changedWhileReading.clear();
            removedWhileReading.clear();
            again.forEach(m -> place(m, false));
            // The store keeps a growing reply's text at a bounded rate; the live exchange has the latest.
            growing.live().stream().filter(e -> e.sessionId().equals(current.id())).forEach(this::showGrowing);
            elsewhere.showIn(current.id(), messages, true);
        }, e -> {
            if (generation == pathGeneration) {
                pathReading = false;
            }
            showError(e);
        });
    }

    // ------------------------------------------------------------------ applying changes

    /** Applies one local commit to what is shown, without reading the store again (unless it changed wholesale). */
    private void apply(LocalChange change) {
        if (change.wholesale()) {
            refreshSessions();
            refreshMessages();
            closeIfDeletedElsewhere();
            return;
        }
        applySessions(change.sessions());
        LocalSession current = selected.get();
        if (current == null) {
            return;
        }
        if (change.pathsChanged().contains(current.id())) {
            refreshMessages(); // another version chosen, a regenerate or an edit begun: the store knows the path
            return;
        }
        if (!change.removedMessages().isEmpty()) {
            messages.removeIf(m -> change.removedMessages().contains(m.id()));
            if (pathReading) {
                removedWhileReading.addAll(change.removedMessages());
            }
        }
        for (LocalMessage message : change.messages()) {
            if (message.message().sessionId().equals(current.id())) {
                upsert(message);
            }
        }
    }

    private void applySessions(List<LocalSession> changed) {
        if (changed.isEmpty()) {
            return;
        }
        if (search.get() != null && !search.get().isBlank()) {
            refreshSessions(); // whether it matches the search is the store's to say
            return;
        }
        for (LocalSession session : changed) {
            // Read before the list moves: a view's selection may follow the row that takes the selected one's place.
            boolean isSelected = selected.get() != null && selected.get().id().equals(session.id());
            int was = -1;
            for (int i = 0; i < sessions.size() && was < 0; i++) {
                was = sessions.get(i).id().equals(session.id()) ? i : -1;
            }
            if (session.deletedAt() != null) {
                if (was >= 0) {
                    sessions.remove(was);
                }
                if (isSelected) {
                    selected.set(null);
                }
                continue;
            }
            int at = 0; // where it belongs among the others
            for (int i = 0; i < sessions.size(); i++) {
                if (i != was && NEWEST_FIRST.compare(sessions.get(i), session) < 0) {
                    at++;
                }
            }
            if (was >= 0 && at == was) {
                sessions.set(was, session);
            } else {
                if (was >= 0) {
                    sessions.remove(was);
                }
                if (was >= 0 || at < sessions.size() || !moreToLoad) {
                    sessions.add(at, session); // a new one past the loaded page comes with the next page
                }
            }
            if (isSelected && !session.equals(selected.get())) {
                selected.set(session);
            }
        }
    }

    /**
     * Shows {@code message} in place of itself or of the reply growing for it, or after the last message when it
     * follows that one; anything else (a message on another branch, a new version) is for the store to place: the
     * path is read again.
     */
    private void upsert(LocalMessage message) {
        if (pathReading) {
            changedWhileReading.add(message);
        }
        place(message, true);
    }

    /** As {@link #upsert}; {@code mayRead}: whether a message it cannot place has the path read again. */
    private void place(LocalMessage message, boolean mayRead) {
        int same = indexOf(message.id());
        if (same >= 0) {
            messages.set(same, message);
            return;
        }
        String answers = message.message().userMessageId();
        if (answers != null && message.message().role() == Role.ASSISTANT) {
            int growingAt = indexOfGrowing(answers);
            if (growingAt >= 0) {
                String was = messages.get(growingAt).id();
                messages.set(growingAt, message);
                Versions v = versions.remove(was);
                if (v != null) {
                    List<String> ids = new ArrayList<>(v.siblingIds());
                    ids.replaceAll(id -> id.equals(was) ? message.id() : id);
                    versions.put(message.id(), new Versions(message.id(), ids));
                }
                return;
            }
        }
        String parent = message.message().parentId() != null ? message.message().parentId() : answers;
        boolean followsTheLast = parent == null ? messages.isEmpty()
                : !messages.isEmpty() && messages.get(messages.size() - 1).id().equals(parent);
        if (followsTheLast) {
            messages.add(message);
        } else if (mayRead) {
            refreshMessages();
        }
    }

    private int indexOf(String id) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).id().equals(id)) {
                return i;
            }
        }
        return -1;
    }

    /** Where the unfinished reply to {@code userMessageId} is shown, or −1. */
    private int indexOfGrowing(String userMessageId) {
        for (int i = 0; i < messages.size(); i++) {
            LocalMessage m = messages.get(i);
            if (m.unfinished() && userMessageId.equals(m.message().userMessageId())) {
                return i;
            }
        }
        return -1;
    }

    /** The id the reply of {@code exchange} is shown and stored under. */
    private static String replyIdOf(Exchange exchange) {
        String id = exchange.replyId();
        return id != null ? id : exchange.messageId() + ":reply";
    }

    /** Shows the reply {@code exchange} is writing, as it stands now (at most every few dozen milliseconds). */
    private void showGrowing(Exchange exchange) {
        updateWriting();
        LocalSession current = selected.get();
        if (current == null || !current.id().equals(exchange.sessionId())) {
            return; // it keeps growing in its own conversation, shown when that is opened
        }
        LocalMessage question = exchange.userMessage();
        String replyId = replyIdOf(exchange);
        Message reply = Message.builder(replyId, exchange.sessionId(), Role.ASSISTANT)
                .content(exchange.text()).model(question.message().model()).tokens(0, 0)
                .userMessageId(exchange.messageId()).parentId(exchange.messageId())
                .messageTimestamp(question.message().messageTimestamp())
                .build();
        LocalMessage shown = new LocalMessage(reply, question.syncState(), null, false, null, true);
        int at = indexOf(replyId);
        if (at < 0) {
            at = indexOfGrowing(exchange.messageId());
        }
        if (at >= 0) {
            LocalMessage there = messages.get(at);
            if (there.unfinished() || there.failed()) {
                messages.set(at, shown); // growing, or a failed regenerate tried again under its id
            }
            return; // (a stored reply got here first: a render queued just before the end)
        }
        int asked = indexOf(exchange.messageId());
        if (replacingSibling.remove(replyId) && asked >= 0) {
            // A regenerated reply: shown at once as the newest version, in the place of the one it answers again.
            LocalMessage older = asked + 1 < messages.size() ? messages.get(asked + 1) : null;
            Versions was = older == null ? null : versions.getOrDefault(older.id(),
                    new Versions(older.id(), List.of(older.id())));
            for (int i = messages.size() - 1; i > asked; i--) {
                versions.remove(messages.remove(i).id());
            }
            messages.add(shown);
            if (was != null) {
                versions.put(replyId, was.withNewest(replyId));
            }
        } else if (!exchange.text().isEmpty() && asked >= 0 && asked == messages.size() - 1) {
            messages.add(shown);
        }
    }

    /** An exchange ended: its outcome replaces what was growing, and Stop becomes Send again. */
    private void exchangeEnded(Exchange exchange, Exchange.Outcome outcome) {
        updateWriting();
        replacingSibling.remove(replyIdOf(exchange));
        LocalSession current = selected.get();
        if (current == null || !current.id().equals(exchange.sessionId())) {
            return;
        }
        upsert(outcome.userMessage());
        if (outcome.reply() != null) {
            upsert(outcome.reply());
        }
        if (outcome.reply() == null || !outcome.reply().unfinished()) {
            messages.removeIf(m -> m.unfinished() && exchange.messageId().equals(m.message().userMessageId()));
        }
        if (!pathReading) {
            refreshMessages(); // the versions as the store counts them now
        }
    }

    private void updateWriting() {
        LocalSession current = selected.get();
        boolean here = current != null && growing.writingIn(current.id());
        writing.set(here);
        thinking.set(here && growing.live().stream()
                .anyMatch(e -> e.sessionId().equals(current.id()) && e.text().isEmpty()));
    }

    /** A pull may have brought the delete of the open conversation: it closes, with a note. */
    private void closeIfDeletedElsewhere() {
        LocalSession open = selected.get();
        if (open == null) {
            return;
        }
        ui.run(() -> client.session(open.id()), now -> {
            boolean stillOpen = selected.get() != null && selected.get().id().equals(open.id());
            if (stillOpen && now.isPresent() && now.get().deletedAt() != null) {
                selected.set(null);
                notice.set("“" + open.title() + "” was deleted on another device.");
            }
        }, e -> { });
    }

    /**
     * Takes in another device's reply at once; shows it at most every {@link GrowingReplies#RENDER_EVERY_MS} ms, as
     * this device's own growing replies are, and its end at once.
     */
    private void showElsewhere(RemoteReply reply) {
        elsewhere.heard(reply);
        if (reply.ended()) {
            renderElsewhere();
        } else if (elsewhereRenderDue.compareAndSet(false, true)) {
            TICKER.schedule(() -> ui.onUi(this::renderElsewhere), GrowingReplies.RENDER_EVERY_MS,
                    TimeUnit.MILLISECONDS);
        }
    }

    private void renderElsewhere() {
        elsewhereRenderDue.set(false);
        LocalSession current = selected.get();
        if (current != null && !pathReading) {
            elsewhere.showIn(current.id(), messages, false);
        }
    }

    private void showLive(LiveState state) {
        live = state;
        if (syncStatus.get() != null) {
            showStatus(syncStatus.get());
        }
    }

    private void showStatus(SyncStatus status) {
        syncStatus.set(status);
        syncText.set(SyncText.of(status, live));
        syncProgress.set(status.state() == SyncStatus.State.SYNCING && status.total() > 0
                ? (double) status.done() / status.total() : -1);
    }

    private void showAccount(Account account) {
        elsewhere.clear();
        signedIn.set(account != null);
        accountText.set(account == null ? "Not signed in" : account.email());
        refreshSessions();
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

    private record Sent(LocalSession session, Exchange exchange) {
    }

    // ------------------------------------------------------------------ properties

    /** The sidebar's conversations, read-only; always the same list, so listeners on it last as long as this. */
    public ObservableList<LocalSession> sessions() {
        return sessionsView;
    }

    /** The selected conversation's shown path, root to leaf, read-only; always the same list. */
    public ObservableList<LocalMessage> messages() {
        return messagesView;
    }

    /** The version shown of each message on the path that has several, by message id; read-only, always the same. */
    public ObservableMap<String, Versions> versions() {
        return versionsView;
    }

    /** The id of the user message being edited in place, or {@code null} when none is. */
    public ReadOnlyObjectProperty<String> editingProperty() {
        return editing;
    }

    /** The text in the in-place editor. */
    public StringProperty editTextProperty() {
        return editText;
    }

    /** The models the server offers, read-only; always the same list. */
    public ObservableList<ModelInfo> models() {
        return picker.models();
    }

    /** The composer's model choice, grouped by provider. */
    public ModelPicker modelPicker() {
        return picker;
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
        return picker.modelProperty();
    }

    /** True while a reply in the selected conversation has been asked for and has no text yet. */
    public ReadOnlyBooleanProperty thinkingProperty() {
        return thinking;
    }

    /** True while a reply is being written in the selected conversation: Send is Stop, Escape stops. */
    public ReadOnlyBooleanProperty writingProperty() {
        return writing;
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
