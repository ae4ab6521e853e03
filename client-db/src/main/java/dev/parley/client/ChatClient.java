package dev.parley.client;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.internal.Events;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.client.internal.LocalMessages;
import dev.parley.client.internal.LocalSessions;
import dev.parley.client.internal.MessageRow;
import dev.parley.client.internal.ServerApi;
import dev.parley.client.internal.ServerError;
import dev.parley.client.internal.SessionRow;
import dev.parley.client.internal.Settings;
import dev.parley.client.internal.SyncEngine;
import dev.parley.client.internal.SyncEngine.PushReport;
import dev.parley.client.internal.TokenStore;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.Json;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parley's offline-first chat client: the one entry point of {@code client-db}. Every conversation is written to
 * the local database first; the server gets it through {@code POST /api/chat} or, when that gives no answer, through
 * the push loop, which sends only unacknowledged rows. Signed out, everything stays local until a sign-in adopts it.
 *
 * <p>Thread-safe. Methods block on local I/O and, where they say so, on the network: call them off any UI thread.
 * Listener callbacks arrive on the client's own event thread (see {@link ChatListener}). The caller owns the client
 * and closes it; closing stops the sync thread and closes the database.
 */
public final class ChatClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChatClient.class);
    private static final String NEW_CHAT = "New chat";
    private static final int CONTEXT_BYTES = 768 * 1024;
    private static final String MODELS_KEY = "models";
    private static final TypeReference<ModelsResponse> MODELS = new TypeReference<>() {
    };

    private final ClientConfig config;
    private final Clock clock;
    private final Supplier<String> ids;
    private final ObjectMapper json = Json.newMapper();
    private final LocalDatabase db;
    private final TokenStore tokens;
    private final ServerApi api;
    private final Events events = new Events();
    private final SyncEngine engine;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();
    private final Settings settings = new Settings();
    private final ExecutorService exchanges = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "parley-chat");
        t.setDaemon(true);
        return t;
    });

    private ChatClient(ClientConfig config) {
        this.config = config;
        this.clock = config.clock();
        this.ids = config.ids();
        this.db = LocalDatabase.open(config.dataDir().resolve("parley-client.db"));
        this.tokens = new TokenStore(config.dataDir(), json);
        this.api = new ServerApi(config.serverUrl(), json, tokens, config.httpTimeout());
        this.engine = new SyncEngine(db, api, tokens, json, clock, config.backoffInitial(), config.backoffMax(),
                (done, total) -> events.fireComputed(() -> syncStatus(new int[] {done, total}),
                        ChatListener::syncStatusChanged), this::signInExpired);
    }

    /**
     * Opens the local store in {@code config.dataDir()} and, when an account is signed in, starts the sync: pull
     * from the remembered cursor, push what is pending. Does not wait for the network.
     */
    public static ChatClient open(ClientConfig config) {
        ChatClient client = new ChatClient(config);
        client.recover();
        if (client.account().isPresent()) {
            client.engine.pullNow().thenRun(client.engine::wake);
        }
        return client;
    }

    /**
     * Repairs what a crash can leave: a message whose chat request was cut short becomes a failed message (pushed as
     * failed, so never counted without its reply; "Try again" sends it), and rows written signed out are adopted
     * when a sign-in was interrupted between saving the tokens and adopting them.
     */
    private void recover() {
        String owner = owner();
        db.inTransaction(c -> {
            messages.recoverInterrupted(c, "Parley was closed before the reply came. Try again.");
            if (owner != null) {
                sessions.adopt(c, owner);
                messages.adopt(c, owner);
            }
            return null;
        });
    }

    public void addListener(ChatListener listener) {
        events.add(listener);
    }

    public void removeListener(ChatListener listener) {
        events.remove(listener);
    }

    /** The signed-in account, if any. */
    public Optional<Account> account() {
        return tokens.load().map(t -> new Account(t.user().id(), t.user().email()));
    }

    // ------------------------------------------------------------------------------------------ conversations

    /** Starts an empty conversation on this device; nothing goes to the server until it has a message or a name. */
    public LocalSession newSession(String title) {
        String cleanTitle = title == null || title.isBlank() ? NEW_CHAT : title.strip();
        requireTitle(cleanTitle);
        Instant now = now();
        String owner = owner();
        SessionRow row = db.inTransaction(c -> {
            SessionRow created = new SessionRow(ids.get(), owner, cleanTitle, now, now, null, now, "",
                    owner == null ? SyncState.LOCAL : SyncState.PENDING, settings.nextOutboxSeq(c), null, null);
            sessions.put(c, created);
            return created;
        });
        events.fire(ChatListener::sessionsChanged);
        publishStatus();
        return row.toLocal();
    }

    /**
     * A page of live conversations, newest activity first.
     *
     * @param search text to find in titles and messages, or {@code null} for all
     * @param after  the last conversation of the previous page, or {@code null} for the first page
     */
    public List<LocalSession> sessions(String search, LocalSession after, int limit) {
        String owner = owner();
        return db.inTransaction(c -> {
            SessionRow afterRow = after == null ? null : sessions.find(c, after.id()).orElse(null);
            return sessions.page(c, owner, search, afterRow, limit).stream().map(SessionRow::toLocal).toList();
        });
    }

    public Optional<LocalSession> session(String sessionId) {
        return db.inTransaction(c -> sessions.find(c, sessionId)).filter(this::visible).map(SessionRow::toLocal);
    }

    /** The messages of a conversation, in order. */
    public List<LocalMessage> messages(String sessionId) {
        return db.inTransaction(c -> {
            Optional<SessionRow> session = sessions.find(c, sessionId).filter(this::visible);
            if (session.isEmpty()) {
                return List.<LocalMessage>of();
            }
            return messages.ofSession(c, sessionId).stream().map(MessageRow::toLocal).toList();
        });
    }

    /** Renames locally at once; the new title is pushed like any unsent row (last writer wins on the server). */
    public void rename(String sessionId, String title) {
        requireTitle(title);
        Instant now = now();
        db.inTransaction(c -> {
            SessionRow row = liveSession(c, sessionId);
            sessions.put(c, queued(c, row.withTitle(title.strip(), now)));
            return null;
        });
        changed(sessionId);
    }

    /** Deletes locally at once (the conversation disappears); the delete is pushed like any unsent row. */
    public void delete(String sessionId) {
        Instant now = now();
        db.inTransaction(c -> {
            SessionRow row = liveSession(c, sessionId);
            sessions.put(c, queued(c, row.withDeletedAt(now)));
            return null;
        });
        changed(sessionId);
    }

    // ------------------------------------------------------------------------------------------ sending

    /**
     * Writes a user message locally (in one transaction: show it at once) and starts its exchange with the server.
     *
     * @param sessionId an existing conversation ({@link #newSession})
     * @param model     a model id from {@link #models()}, or {@code null} for the server's default
     */
    public Exchange send(String sessionId, String content, String model) {
        if (content == null || content.isBlank()) {
            throw new ClientException("bad_request", "Write a message first.", false, null);
        }
        if (content.length() > Limits.MAX_CONTENT_CHARS) {
            throw new ClientException("bad_request", "A message can be at most " + Limits.MAX_CONTENT_CHARS
                    + " characters long.", false, null);
        }
        Instant now = now();
        String owner = owner();
        String messageId = ids.get();
        MessageRow row = db.inTransaction(c -> writeUserMessage(c, messageId, sessionId, content, model, owner, now));
        changed(sessionId);
        return new Exchange(row.toLocal(), exchange(row));
    }

    private MessageRow writeUserMessage(Connection c, String messageId, String sessionId, String content,
                                        String model, String owner, Instant now) throws SQLException {
        SessionRow session = liveSession(c, sessionId);
        Message message = new Message(messageId, sessionId, Role.USER, content, model, 0L, 0L, 0L, null, now, null,
                null, null);
        MessageRow created = new MessageRow(message, owner, owner == null ? SyncState.LOCAL : SyncState.PENDING,
                null, false, settings.nextOutboxSeq(c), null, null);
        messages.put(c, created);
        // Kept out of pushes while its own chat request is under way: that request delivers it, token counts and all.
        messages.setSending(c, messageId, true);
        // A conversation still called "New chat" takes its name from its first message.
        SessionRow titled = NEW_CHAT.equals(session.title()) && session.syncState() != SyncState.SYNCED
                ? session.withTitle(titleFrom(content), session.titleUpdatedAt()) : session;
        sessions.put(c, titled.withActivity(now, preview(content)));
        return created;
    }

    /**
     * Sends a failed message again, with the same id (so the server counts it once).
     *
     * @throws ClientException {@code in_progress} while the message is still being sent, {@code not_found} when it
     *                         is no failed message of a live conversation
     */
    public Exchange retry(String messageId) {
        MessageRow row = db.inTransaction(c -> {
            MessageRow stored = messages.find(c, messageId)
                    .filter(m -> m.message().role() == Role.USER && m.failed())
                    .orElseThrow(() -> new ClientException("not_found", "There is no failed message to send again.",
                            false, null));
            liveSession(c, stored.message().sessionId());
            if (messages.isSending(c, messageId)) {
                // A second click while the first is under way: one exchange per message at a time, or a signed-out
                // message (which no server claim guards) would be answered twice.
                throw new ClientException("in_progress", "This message is being sent already.", true, null);
            }
            messages.setSending(c, messageId, true);
            return stored;
        });
        return new Exchange(row.toLocal(), exchange(row));
    }

    /** Runs the exchange of a row marked as sending; {@link #record} clears the mark with the outcome. */
    private CompletableFuture<Exchange.Outcome> exchange(MessageRow row) {
        return CompletableFuture.supplyAsync(() -> runExchange(row), exchanges).exceptionally(e -> {
            LOG.error("exchange of {} failed unexpectedly", row.id(), e);
            return record(failure(row, LocalMessage.OFFLINE, "Sending failed unexpectedly. Try again.", true), null,
                    null);
        });
    }

    private Exchange.Outcome runExchange(MessageRow row) {
        Optional<AuthResponse> account = tokens.load();
        String owner = row.owner();
        if (owner != null && (account.isEmpty() || !account.get().user().id().equals(owner))) {
            // Signed out (or switched account) since writing it: it waits for its own account's sign-in.
            return record(failure(row, "unauthorized", "Sign in to send this message.", true), null, null);
        }
        AuthResponse sender = owner == null ? null : account.get();
        ChatRequest request = db.inTransaction(c -> chatRequest(c, row));
        try {
            ChatResponse response = api.chat(request, sender);
            SyncState state = owner == null ? SyncState.LOCAL
                    : response.persisted() ? SyncState.SYNCED : SyncState.PENDING;
            MessageRow user = new MessageRow(response.userMessage(), owner, state, null, false, row.outboxSeq(),
                    null, null);
            MessageRow reply = new MessageRow(response.assistantMessage(), owner, state, null, false, null, null, null);
            return record(user, reply, response.persisted() ? response.session().title() : null);
        } catch (ServerError e) {
            SyncState state;
            if (owner == null) {
                state = SyncState.LOCAL;
            } else if (e.persisted()) {
                state = SyncState.SYNCED;
            } else if (e.retryable() || e.status() == 401) {
                state = SyncState.PENDING;
            } else {
                state = SyncState.REJECTED; // refused on its merits (e.g. the conversation was deleted elsewhere)
            }
            MessageRow failed = failure(row, e.code(), e.getMessage(), e.retryable() || e.status() == 401);
            return record(state == SyncState.REJECTED
                    ? failed.withSync(state, null, e.code(), e.getMessage()) : failed.withSync(state,
                    state == SyncState.SYNCED ? null : row.outboxSeq(), null, null), null, null);
        } catch (IOException e) {
            LOG.info("no answer to message {}: {}", row.id(), e.getMessage());
            return record(failure(row, LocalMessage.OFFLINE,
                    "No answer from the server. Parley keeps the message and sends it when the connection is back.",
                    true), null, null);
        }
    }

    private static MessageRow failure(MessageRow row, String code, String text, boolean retryable) {
        Message m = row.message();
        Message failed = new Message(m.id(), m.sessionId(), m.role(), m.content(), m.model(), 0L, 0L, 0L, null,
                m.messageTimestamp(), null, text, null);
        return row.withMessage(failed, code, retryable);
    }

    /** Stores the outcome of an exchange in one transaction and tells listeners. */
    private Exchange.Outcome record(MessageRow outcomeUser, MessageRow outcomeReply, String serverTitle) {
        db.inTransaction(c -> {
            Optional<MessageRow> current = messages.find(c, outcomeUser.id());
            // A sign-in may have adopted the row while it was being answered: it now belongs to that account.
            String owner = current.map(MessageRow::owner).orElse(outcomeUser.owner());
            MessageRow user = adopted(outcomeUser, owner);
            MessageRow reply = outcomeReply == null ? null : adopted(outcomeReply, owner);
            MessageRow storedUser = user;
            boolean serverSuccess = current.isPresent() && current.get().syncState() == SyncState.SYNCED
                    && !current.get().failed();
            if (serverSuccess && (user.failed() || user.syncState() != SyncState.SYNCED)) {
                // A pull already brought the server's final copy, a success: it stays, even when this request got
                // no answer (its answer was lost on the way back while the pull came through).
                storedUser = current.get();
            }
            messages.put(c, storedUser);
            messages.setSending(c, user.id(), false);
            SessionRow session = sessions.find(c, user.message().sessionId()).orElseThrow();
            if (reply != null) {
                MessageRow storedReply = reply.syncState() == SyncState.SYNCED ? reply
                        : reply.withSync(reply.syncState(), settings.nextOutboxSeq(c), null, null);
                messages.put(c, storedReply);
                session = session.withActivity(reply.message().messageTimestamp(), preview(reply.message().content()));
            }
            if (serverTitle != null && session.syncState() == SyncState.PENDING && session.deletedAt() == null
                    && serverTitle.equals(session.title())) {
                session = session.withSync(SyncState.SYNCED, null, null, null); // the exchange created it on the server
            }
            sessions.put(c, session);
            return null;
        });
        changed(outcomeUser.message().sessionId());
        Optional<MessageRow> storedUser = db.inTransaction(c -> messages.find(c, outcomeUser.id()));
        Optional<MessageRow> storedReply = outcomeReply == null ? Optional.empty()
                : db.inTransaction(c -> messages.find(c, outcomeReply.id()));
        if (storedUser.map(r -> r.syncState() == SyncState.PENDING).orElse(false)) {
            engine.wake();
        }
        return new Exchange.Outcome(storedUser.orElse(outcomeUser).toLocal(),
                storedReply.map(MessageRow::toLocal).orElse(null));
    }

    /** {@code row} as owned by {@code owner}: a row adopted by a sign-in becomes that account's unsent row. */
    private static MessageRow adopted(MessageRow row, String owner) {
        if (java.util.Objects.equals(row.owner(), owner)) {
            return row;
        }
        MessageRow owned = row.withOwner(owner);
        return owner != null && row.syncState() == SyncState.LOCAL
                ? owned.withSync(SyncState.PENDING, row.outboxSeq(), null, null) : owned;
    }

    private ChatRequest chatRequest(Connection c, MessageRow row) throws SQLException {
        Message m = row.message();
        SessionRow session = sessions.find(c, m.sessionId()).orElseThrow();
        List<MessageRow> earlier = messages.context(c, m.sessionId(), row, Limits.MAX_CONTEXT_MESSAGES);
        List<ContextMessage> context = new ArrayList<>();
        int budget = CONTEXT_BYTES - m.content().getBytes(StandardCharsets.UTF_8).length;
        for (int i = earlier.size() - 1; i >= 0; i--) {
            Message previous = earlier.get(i).message();
            budget -= previous.content().getBytes(StandardCharsets.UTF_8).length + 64;
            if (budget < 0) {
                break; // the oldest messages drop out first
            }
            context.add(0, new ContextMessage(previous.role(), previous.content()));
        }
        String title = session.syncState() == SyncState.SYNCED ? null : session.title();
        return new ChatRequest(m.sessionId(), m.id(), m.content(), m.model(), m.messageTimestamp(), title, context);
    }

    // ------------------------------------------------------------------------------------------ account

    /** Creates an account and signs in with it (see {@link #signIn}); blocks on the network. */
    public Account signUp(String email, String password) {
        return signInWith(() -> api.signUp(new Credentials(email, password)));
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
        return signInWith(() -> api.signIn(new Credentials(email, password)));
    }

    private Account signInWith(AuthCall call) {
        AuthResponse auth;
        try {
            auth = call.run();
        } catch (ServerError e) {
            throw new ClientException(e.code(), e.getMessage(), e.retryable(), e);
        } catch (IOException e) {
            throw new ClientException(LocalMessage.OFFLINE, "The server could not be reached. Check the connection"
                    + " and try again.", true, e);
        }
        engine.reset();
        tokens.save(auth);
        String owner = auth.user().id();
        db.inTransaction(c -> sessions.adopt(c, owner) + messages.adopt(c, owner));
        Account account = new Account(owner, auth.user().email());
        events.fire(l -> l.accountChanged(account));
        events.fire(ChatListener::sessionsChanged);
        publishStatus();
        try {
            engine.uploadAndPull(done -> { }).get(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            LOG.warn("sign-in sync did not finish; it continues in the background", e);
        }
        events.fire(ChatListener::sessionsChanged);
        publishStatus();
        return account;
    }

    /** The server refused both the access and the refresh token: treated as a sign-out (rows stay, hidden). */
    private void signInExpired() {
        tokens.clear();
        events.fire(l -> l.accountChanged(null));
        events.fire(ChatListener::sessionsChanged);
        publishStatus();
    }

    /** Signs out: forgets the tokens; this account's conversations stay on disk, hidden until it signs in again. */
    public void signOut() {
        Optional<AuthResponse> current = tokens.load();
        current.ifPresent(t -> {
            try {
                api.signOut(t.accessToken());
            } catch (IOException | ServerError e) {
                LOG.info("server sign-out not confirmed ({}); tokens are forgotten locally", e.getMessage());
            }
        });
        tokens.clear();
        engine.reset();
        events.fire(l -> l.accountChanged(null));
        events.fire(ChatListener::sessionsChanged);
        publishStatus();
    }

    // ------------------------------------------------------------------------------------------ sync

    /** The sync state as the status bar shows it. */
    public SyncStatus syncStatus() {
        return syncStatus(engine.progress());
    }

    private SyncStatus syncStatus(int[] progress) {
        String owner = owner();
        int[] counts = db.inTransaction(c -> new int[] {
                messages.count(c, owner, owner == null ? SyncState.LOCAL : SyncState.PENDING)
                        + sessions.count(c, owner, owner == null ? SyncState.LOCAL : SyncState.PENDING),
                messages.count(c, owner, SyncState.REJECTED) + sessions.count(c, owner, SyncState.REJECTED)});
        SyncStatus.State state;
        if (owner == null) {
            state = SyncStatus.State.SIGNED_OUT;
        } else if (progress[1] > 0) {
            state = SyncStatus.State.SYNCING;
        } else if (engine.offline()) {
            state = SyncStatus.State.OFFLINE;
        } else {
            state = counts[0] > 0 ? SyncStatus.State.PENDING : SyncStatus.State.SYNCED;
        }
        return new SyncStatus(state, counts[0], counts[1], progress[0], progress[1]);
    }

    /** Rows the server refused, with their reasons, for "see why". */
    public List<LocalMessage> rejectedMessages() {
        String owner = owner();
        return db.inTransaction(c -> messages.rejected(c, owner)).stream().map(MessageRow::toLocal).toList();
    }

    /** Pushes unsent rows now; the future completes when the outbox is empty or the server stopped answering. */
    public CompletableFuture<Boolean> pushNow() {
        return engine.pushNow().thenApply(PushReport::completed);
    }

    /** Downloads what changed on the server since the last pull. */
    public CompletableFuture<Integer> pullNow() {
        return engine.pullNow();
    }

    /** Call when the network is back: an unsent row then goes out at once rather than after its backoff. */
    public void connectivityRegained() {
        engine.wake();
    }

    /** The models the server offers (remembered from its last answer; the built-in model when never asked). */
    public ModelsResponse models() {
        try {
            ModelsResponse fresh = api.models();
            String remembered = json.writeValueAsString(fresh);
            db.inTransaction(c -> {
                settings.put(c, MODELS_KEY, remembered);
                return null;
            });
            return fresh;
        } catch (IOException | ServerError e) {
            Optional<String> cached = db.inTransaction(c -> settings.get(c, MODELS_KEY));
            try {
                if (cached.isPresent()) {
                    return json.readValue(cached.get(), MODELS);
                }
            } catch (IOException ignored) {
                // fall back below
            }
            return new ModelsResponse(List.of(new ModelInfo(ModelsResponse.LOCAL_MODEL_ID, "Parley local (offline)")),
                    ModelsResponse.LOCAL_MODEL_ID);
        }
    }

    /** The file holding the tokens (owner-only permissions). */
    public java.nio.file.Path tokenFile() {
        return tokens.file();
    }

    @Override
    public void close() {
        exchanges.shutdown();
        try {
            exchanges.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        engine.close();
        api.close();
        events.close();
        db.close();
    }

    // ------------------------------------------------------------------------------------------ helpers

    private String owner() {
        return tokens.load().map(t -> t.user().id()).orElse(null);
    }

    private boolean visible(SessionRow row) {
        return java.util.Objects.equals(row.owner(), owner());
    }

    private SessionRow liveSession(Connection c, String sessionId) throws SQLException {
        return sessions.find(c, sessionId).filter(this::visible).filter(s -> s.deletedAt() == null)
                .orElseThrow(() -> new ClientException("not_found", "This conversation no longer exists.", false,
                        null));
    }

    /** Marks a changed session as unsent again (signed out: local), at the end of the outbox. */
    private SessionRow queued(Connection c, SessionRow row) throws SQLException {
        SyncState state = row.owner() == null ? SyncState.LOCAL : SyncState.PENDING;
        return row.withSync(state, settings.nextOutboxSeq(c), null, null);
    }

    private void changed(String sessionId) {
        events.fire(l -> l.messagesChanged(sessionId));
        events.fire(ChatListener::sessionsChanged);
        publishStatus();
        if (owner() != null) {
            engine.wake();
        }
    }

    /** Computed on the event thread when delivered, so listeners never see an older status after a newer one. */
    private void publishStatus() {
        events.fireComputed(this::syncStatus, ChatListener::syncStatusChanged);
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static void requireTitle(String title) {
        if (title == null || title.isBlank() || title.length() > Limits.MAX_TITLE_CHARS
                || title.chars().anyMatch(Character::isISOControl)) {
            throw new ClientException("bad_request", "A title is 1 to " + Limits.MAX_TITLE_CHARS
                    + " characters on one line.", false, null);
        }
    }

    private static String titleFrom(String content) {
        String firstLine = content.strip().lines().findFirst().orElse(NEW_CHAT).strip();
        String clean = firstLine.chars().anyMatch(Character::isISOControl)
                ? firstLine.replaceAll("\\p{Cntrl}", " ") : firstLine;
        return clean.length() > 60 ? clean.substring(0, 59) + "…" : clean.isBlank() ? NEW_CHAT : clean;
    }

    private static String preview(String content) {
        String flat = content.strip().replaceAll("\\s+", " ");
        return flat.length() > Limits.MAX_PREVIEW_CHARS ? flat.substring(0, Limits.MAX_PREVIEW_CHARS) : flat;
    }

    @FunctionalInterface
    private interface AuthCall {
        AuthResponse run() throws IOException, ServerError;
    }
}
