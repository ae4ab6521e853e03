package dev.parley.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.internal.AccountSession;
import dev.parley.client.internal.Conversations;
import dev.parley.client.internal.Events;
import dev.parley.client.internal.ExchangeRecords;
import dev.parley.client.internal.ExchangeRequests;
import dev.parley.client.internal.ExchangeRun;
import dev.parley.client.internal.Exchanges;
import dev.parley.client.internal.LiveSync;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.client.internal.LocalMessages;
import dev.parley.client.internal.ModelCatalogue;
import dev.parley.client.internal.ServerApi;
import dev.parley.client.internal.SyncEngine;
import dev.parley.client.internal.SyncEngine.PushReport;
import dev.parley.client.internal.SyncStatusReporter;
import dev.parley.client.internal.TokenStore;
import dev.parley.client.internal.UsageReports;
import dev.parley.client.internal.history.HistoryExport;
import dev.parley.client.internal.history.HistoryImport;
import dev.parley.protocol.GeneratingEvent;
import dev.parley.protocol.Json;
import dev.parley.protocol.Limits;
import dev.parley.protocol.ModelsResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Parley's offline-first chat client: the one entry point of {@code client-db}. Every conversation is written to
 * the local database first; the server gets it through {@code POST /api/chat}, its reply streamed and kept as it
 * grows, or, when that gives no answer, through the push loop, which sends only unacknowledged rows. Signed out,
 * everything stays local until a sign-in adopts it.
 *
 * <p>A thin façade over parts with one job each: {@link Conversations}, {@link Exchanges} (the send and stream
 * state machine), {@link ExchangeRecords}, {@link AccountSession}, {@link ModelCatalogue}, {@link UsageReports},
 * the {@link SyncEngine} and its {@link SyncStatusReporter}, and {@link LiveSync}.
 *
 * <p>Thread-safe. Methods block on local I/O and, where they say so, on the network: call them off any UI thread.
 * Listener callbacks arrive on the client's own event thread (see {@link ChatListener}). The caller owns the client
 * and closes it; closing stops the sync and live sync threads, lets go of live exchanges (resumed at the next open)
 * and closes the database.
 */
public final class ChatClient implements AutoCloseable {
    private final LocalDatabase db;
    private final TokenStore tokens;
    private final ServerApi api;
    private final Events events = new Events();
    private final SyncEngine engine;
    private final SyncStatusReporter status;
    private final Conversations conversations;
    private final Exchanges exchanges;
    private final AccountSession account;
    private final ModelCatalogue models;
    private final ExchangeRecords records;
    private final ExchangeRequests requests;
    private final UsageReports usage;
    private final LiveSync live;
    private final ObjectMapper json = Json.newMapper();
    private final Clock clock;

    private ChatClient(ClientConfig config) {
        this.clock = config.clock();
        this.db = LocalDatabase.open(config.dataDir().resolve("parley-client.db"));
        this.tokens = new TokenStore(config.dataDir(), json);
        this.api = new ServerApi(config.serverUrl(), json, tokens, config.httpTimeout(), config.launchSecret());
        this.engine = new SyncEngine(db, api, tokens, json, config.clock(), config.backoffInitial(),
                config.backoffMax(), this::uploadProgress, this::signInExpired);
        this.status = new SyncStatusReporter(db, this::owner, engine, events);
        this.conversations = new Conversations(db, tokens, config.ids(), config.clock(), events, this::queued);
        this.records = new ExchangeRecords(db, conversations, config.ids(), config.clock());
        this.requests = new ExchangeRequests(db, conversations);
        this.exchanges = new Exchanges(api, records, requests, conversations, tokens, json, events,
                this::exchangeEnded);
        this.account = new AccountSession(api, tokens, db, engine, events, this::signedIn);
        this.models = new ModelCatalogue(api, db, json);
        this.usage = new UsageReports(api, tokens, db);
        this.live = new LiveSync(api, tokens, engine, events, json, this::pullAndShow, this::followedHere,
                config.liveBackoffMax(), this::signInExpired);
        if (config.liveSync()) {
            live.start();
        }
    }

    /**
     * Opens the local store in {@code config.dataDir()} and, when an account is signed in, starts the sync: pull
     * from the remembered cursor, push what is pending, and resume every reply a previous run left being written.
     * Does not wait for the network.
     */
    public static ChatClient open(ClientConfig config) {
        ChatClient client = new ChatClient(config);
        client.exchanges.failInterrupted();
        client.account.adoptLeftovers();
        if (client.account().isPresent()) {
            client.exchanges.resume();
            client.pullAndShow().thenRun(client.engine::wake);
        }
        return client;
    }

    public void addListener(ChatListener listener) {
        events.add(listener);
    }

    public void removeListener(ChatListener listener) {
        events.remove(listener);
    }

    /** The signed-in account, if any. */
    public Optional<Account> account() {
        return account.account();
    }

    // ------------------------------------------------------------------------------------------ conversations

    /** Starts an empty conversation on this device; nothing goes to the server until it has a message or a name. */
    public LocalSession newSession(String title) {
        return conversations.newSession(title);
    }

    /**
     * A page of live conversations, newest activity first.
     *
     * @param search text to find in titles and messages, or {@code null} for all
     * @param after  the last conversation of the previous page, or {@code null} for the first page
     */
    public List<LocalSession> sessions(String search, LocalSession after, int limit) {
        return conversations.sessions(search, after, limit);
    }

    public Optional<LocalSession> session(String sessionId) {
        return conversations.session(sessionId);
    }

    /**
     * The messages the conversation shows: its {@link #path path}, root first, with each reply being written
     * ({@link LocalMessage#unfinished()}) and each failed regenerate where it belongs. Other versions are left out
     * ({@link #allMessages} has them). Empty for a conversation not shown. One local read.
     */
    public List<LocalMessage> messages(String sessionId) {
        return conversations.messages(sessionId);
    }

    /**
     * The path the conversation shows (SPEC §4.3), root first, each message with its versions for the ‹ 2/3 ›
     * control: from the first turn, at each fork the version this device chose ({@link #showVersion}), else the one
     * whose branch holds the newest message. A regenerate or an edit under way is the newest version at once. Empty
     * for a conversation not shown. One local read; never {@code null}.
     */
    public List<PathMessage> path(String sessionId) {
        return conversations.path(sessionId);
    }

    /**
     * Every message of every branch, in (message time, id) order — for an export. Replies being written and failed
     * regenerates are among them, as {@link #messages} shows them. One local read; never {@code null}.
     */
    public List<LocalMessage> allMessages(String sessionId) {
        return conversations.allMessages(sessionId);
    }

    /**
     * Shows the version {@code messageId} at its place, on this device only (stored locally, never synced or
     * pushed): the path then runs through it down to the newest message beneath it. Listeners hear a
     * {@link LocalChange} naming the conversation in {@link LocalChange#pathsChanged()}: read {@link #path} again.
     * Blocks on local I/O.
     *
     * @param messageId one of the {@link PathMessage#siblingIds()} of a message of the path
     * @throws ClientException {@code not_found} when it is no message of a conversation shown
     */
    public void showVersion(String messageId) {
        conversations.showVersion(messageId);
    }

    /** Renames locally at once; the new title is pushed like any unsent row (last writer wins on the server). */
    public void rename(String sessionId, String title) {
        conversations.rename(sessionId, title);
    }

    /** Deletes locally at once (the conversation disappears); the delete is pushed like any unsent row. */
    public void delete(String sessionId) {
        conversations.delete(sessionId);
    }

    /**
     * Sets the conversation's system prompt locally at once; it is pushed like a rename (the conversation only, no
     * message is sent again) and resolves last-writer-wins on its own, apart from the title. Every later request of
     * the chat sends it as the first context entry. Blocks on local I/O.
     *
     * @param prompt the prompt, or {@code null}, empty or blank to clear it
     * @throws ClientException {@code bad_request} when it is longer than {@value Limits#MAX_SYSTEM_PROMPT_CHARS}
     *                         characters or holds a NUL character, {@code not_found} when the conversation is gone
     */
    public void setSystemPrompt(String sessionId, String prompt) {
        conversations.setSystemPrompt(sessionId, prompt);
    }

    /**
     * Sets the conversation's own temperature and reply length on this device (never synced); a field left
     * {@code null} falls back to {@link #setDefaultParameters the defaults}. Blocks on local I/O.
     *
     * @param parameters not {@code null}; {@link ChatParameters#NONE} to use the defaults only
     * @throws ClientException {@code not_found} when the conversation is gone
     */
    public void setChatParameters(String sessionId, ChatParameters parameters) {
        conversations.setChatParameters(sessionId, parameters);
    }

    /** The conversation's own parameters on this device, never {@code null}: {@link ChatParameters#NONE} for none. */
    public ChatParameters chatParameters(String sessionId) {
        return conversations.chatParameters(sessionId);
    }

    /**
     * Sets the parameters of every request whose chat leaves them unset, from the next request on. Kept in memory
     * only: the desktop sets them from its settings at start and whenever they change. Any thread; does not block.
     *
     * @param parameters not {@code null}; {@link ChatParameters#NONE} leaves them to the model
     */
    public void setDefaultParameters(ChatParameters parameters) {
        requests.defaultParameters(parameters);
    }

    /**
     * The model of the conversation's newest message that names one (a question or a reply), to select it again when
     * the conversation opens; empty when none does. One indexed read.
     */
    public Optional<String> lastModel(String sessionId) {
        return conversations.lastModel(sessionId);
    }

    /**
     * Daily usage from {@code from} to {@code to} (inclusive, UTC dates), days without activity left out: signed in
     * and the server answering, the account's figures as the server keeps them ({@link UsageReport.Source#SERVER});
     * signed out or the server unreachable, the same figures counted from this device's store
     * ({@link UsageReport.Source#THIS_DEVICE}). Blocks on the network: call it off any UI thread.
     *
     * @throws ClientException {@code bad_request} when {@code from} is after {@code to}
     */
    public UsageReport usage(LocalDate from, LocalDate to) {
        return usage.usage(from, to);
    }

    // ------------------------------------------------------------------------------------------ exchanges

    /**
     * Writes a user message locally (in one transaction: show it at once) at the end of the shown path and starts
     * its exchange with the server, its reply streamed. The message follows the path's last message, and the model
     * is given the path, not the other branches.
     *
     * @param sessionId an existing conversation ({@link #newSession})
     * @param model     a model id from {@link #models()}, or {@code null} for the server's default
     */
    public Exchange send(String sessionId, String content, String model) {
        return exchanges.send(sessionId, content, model);
    }

    /**
     * Edits the question {@code messageId}: writes a new user message (a new id) with the same parent, a sibling
     * of it, shown from now on as the newest version; the old branch stays as it was. It is sent exactly as
     * {@link #send} sends, its context the path up to that parent; offline it is a failed message pushed later, with
     * Try again, like any send. Blocks on local I/O only.
     *
     * @param model a model id, or {@code null} for the server's default
     * @throws ClientException {@code bad_request} for empty or too long content, {@code not_found} when it is no
     *                         question of a conversation shown
     */
    public Exchange edit(String messageId, String content, String model) {
        return exchanges.edit(messageId, content, model);
    }

    /**
     * Asks for another reply to the question that the reply {@code replyId} answers (SPEC §5.4): a sibling of it,
     * under a new id ({@link Exchange#replyId()}), shown at once as the newest version and streamed like a send's
     * reply (re-attached to when the stream breaks, resumed after a restart, stopped with {@link #stop}). The model
     * is given the path up to that question, the system prompt first, with the chat's parameters.
     *
     * <p>Signed out there is nothing on a server to regenerate against: the question goes again to the server
     * anonymously (as a signed-out send does), and the reply is stored here as {@link SyncState#LOCAL}, pushed after
     * a sign-in. When no reply comes (offline, a model error, an interrupted generation) the path shows a failed
     * reply in its place — {@link LocalMessage#failed()}, with its error code and whether Try again makes sense —
     * which is never pushed and never counted; {@link #retry} on its id regenerates again under the same id, so a
     * reply the server stored but whose answer was lost is replayed, not billed twice. Blocks on local I/O only.
     *
     * @param replyId a reply of a conversation shown (a failed regenerate too)
     * @param model   a model id, or {@code null} for the model of that reply
     * @throws ClientException {@code in_progress} while an exchange of that question (a send, a retry or a
     *                         regenerate) is under way, {@code not_found} when it is no reply of a conversation shown
     *                         or its question failed (Try again sends that)
     */
    public Exchange regenerate(String replyId, String model) {
        return exchanges.regenerate(replyId, model);
    }

    /**
     * Sends a failed message again, with the same id (so the server counts it once); given a failed regenerate's
     * reply id, regenerates again under that same id (see {@link #regenerate}).
     *
     * @throws ClientException {@code in_progress} while the message is still being sent, {@code not_found} when it
     *                         is no failed message of a live conversation
     */
    public Exchange retry(String messageId) {
        return exchanges.retry(messageId);
    }

    /**
     * Stops the reply being written to the user message {@code messageId}, or the reply with that id (a regenerate's,
     * see {@link Exchange#replyId()}); see {@link Exchange#stop}. False when none is being written here.
     */
    public boolean stop(String messageId) {
        return exchanges.stop(messageId);
    }

    /** The exchanges whose replies are being written on this device now. */
    public List<Exchange> liveExchanges() {
        return exchanges.live();
    }

    // ------------------------------------------------------------------------------------------ account

    /** Creates an account and signs in with it (see {@link #signIn}); blocks on the network. */
    public Account signUp(String email, String password) {
        return account.signUp(email, password);
    }

    /**
     * Signs in: adopts the conversations written while signed out, pushes them (progress in
     * {@link SyncStatus#done()} of {@link SyncStatus#total()}), then downloads the account's history. Blocks on the
     * network until the upload and download are done or the server stops answering (then they continue later).
     *
     * @throws ClientException with a plain-language message when the server refuses (wrong password…) or is
     *                         unreachable
     */
    public Account signIn(String email, String password) {
        return account.signIn(email, password);
    }

    /** Signs out: forgets the tokens; this account's conversations stay on disk, hidden until it signs in again. */
    public void signOut() {
        account.signOut();
        status.publish();
        live.accountChanged();
    }

    // ------------------------------------------------------------------------------------------ sync

    /** The sync state as the status bar shows it. */
    public SyncStatus syncStatus() {
        return status.status();
    }

    /** Rows the server refused, with their reasons, for "see why". */
    public List<LocalMessage> rejectedMessages() {
        String owner = owner();
        LocalMessages messages = new LocalMessages();
        return db.inTransaction(c -> messages.rejected(c, owner)).stream()
                .map(dev.parley.client.internal.MessageRow::toLocal).toList();
    }

    /** Pushes unsent rows now; the future completes when the outbox is empty or the server stopped answering. */
    public CompletableFuture<Boolean> pushNow() {
        return engine.pushNow().thenApply(PushReport::completed);
    }

    /**
     * Downloads what changed on the server since the last pull; listeners hear a wholesale {@link LocalChange} when
     * rows were merged. Read-only for the server.
     */
    public CompletableFuture<Integer> pullNow() {
        return pullAndShow();
    }

    /**
     * Call when the network is back: an unsent row then goes out at once rather than after its backoff, the replies
     * left unfinished (a stop not yet sent among them) are resumed, and the live change stream is opened again.
     */
    public void connectivityRegained() {
        engine.wake();
        exchanges.resume();
        live.connectivityRegained();
    }

    /** Whether other devices' changes arrive live now (SPEC §6 Live sync); listeners hear each change of it. */
    public LiveState liveState() {
        return live.state();
    }

    /**
     * Call when the app's window regains focus: while the live change stream cannot be held, the client pulls then
     * (besides every few minutes). Any thread; does not block.
     */
    public void windowFocused() {
        live.windowFocused();
    }

    /**
     * The conversation the user looks at now ({@code null}: none). A reply another device is having written for it
     * is followed as it grows and told to {@link ChatListener#remoteReply}; those of the conversation shown before
     * are let go. Any thread; blocks briefly on local I/O.
     */
    public void showing(String sessionId) {
        live.showing(sessionId);
    }

    /** The models the server offers (remembered from its last answer; the built-in model when never asked). */
    public ModelsResponse models() {
        return models.models();
    }

    /**
     * Imports a ChatGPT data export ({@code conversations.json}, or the zip that holds it) or a Parley export
     * ({@link #exportHistory}): every conversation with every branch, as rows of origin {@code import} that count in
     * their conversation and never in usage (SPEC §4.1). Rows are queued like any unsent row (signed out: this
     * device's, adopted at sign-in). Importing the same file again adds nothing. Blocks; call it off the UI thread.
     *
     * @throws ClientException {@code bad_request} with the reason when the file is not an export Parley reads (then
     *                         nothing was written), {@code storage} when the local store fails
     */
    public ImportSummary importHistory(Path file, ImportListener listener) {
        ImportSummary summary = new HistoryImport(db, owner(), json).run(file, listener);
        if (summary.messagesAdded() > 0) {
            events.changed(LocalChange.everything());
            queued();
        }
        return summary;
    }

    /**
     * Exports every conversation shown (every branch) to {@code file}: a zip of Markdown files and
     * {@code parley-export.json}, which {@link #importHistory} reads back. Blocks; call it off the UI thread.
     *
     * @throws ClientException {@code storage} when the file or the store cannot be read or written
     */
    public ExportSummary exportHistory(Path file) {
        return new HistoryExport(db, owner(), json, clock).run(file);
    }

    /** The file holding the tokens (owner-only permissions). */
    public Path tokenFile() {
        return tokens.file();
    }

    @Override
    public void close() {
        live.close();
        exchanges.close();
        engine.close();
        api.close();
        events.close();
        db.close();
    }

    // ------------------------------------------------------------------------------------------ wiring

    /** The live sync, for the tests of this package (its pull counts). */
    LiveSync liveSync() {
        return live;
    }

    private String owner() {
        return conversations.owner();
    }

    /** A change was queued for the server: the push loop goes, and the status bar counts it. */
    private void queued() {
        status.publish();
        if (owner() != null) {
            engine.wake();
        }
    }

    /** Something to push, or an answer that shows the server is back: the push loop goes (and says so). */
    private void exchangeEnded(ExchangeRun.EndedRun ended) {
        status.publish();
        if (owner() != null) {
            engine.wake();
            live.connectivityRegained();
        }
    }

    private void signedIn() {
        status.publish();
        exchanges.resume();
        live.accountChanged();
    }

    /** Pulls, and tells the listeners when rows were merged. */
    private CompletableFuture<Integer> pullAndShow() {
        return engine.pullNow().thenApply(merged -> {
            if (merged > 0) {
                events.changed(LocalChange.everything());
            }
            return merged;
        });
    }

    /** A generation this device runs itself, or whose reply it holds already: nothing to follow. */
    private boolean followedHere(GeneratingEvent generation) {
        if (exchanges.isLive(generation.messageId()) || exchanges.isLive(generation.replyId())) {
            return true;
        }
        LocalMessages messages = new LocalMessages();
        return db.inTransaction(c -> messages.find(c, generation.replyId())).isPresent();
    }

    private void uploadProgress(int done, int total) {
        status.publish(done, total);
    }

    private void signInExpired() {
        account.expired();
        status.publish();
        live.accountChanged();
    }
}
