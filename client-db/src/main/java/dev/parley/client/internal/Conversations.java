package dev.parley.client.internal;

import dev.parley.client.ChatParameters;
import dev.parley.client.ClientException;
import dev.parley.client.LocalChange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.PathMessage;
import dev.parley.client.SyncState;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The conversations of the account signed in (or of nobody, signed out): listing them, reading their trees and the
 * path each shows (with the replies being written and this device's choice of versions), renaming, deleting and their settings (the synced system prompt, this device's own
 * chat parameters) — each change one local transaction, told as one {@link LocalChange} when it changes what a
 * {@link LocalSession} or {@link LocalMessage} shows. Thread-safe.
 */
public final class Conversations {
    public static final String NEW_CHAT = "New chat";

    private final LocalDatabase db;
    private final TokenStore tokens;
    private final Supplier<String> ids;
    private final Clock clock;
    private final Events events;
    private final Runnable queued;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();
    private final UnfinishedReplies unfinished = new UnfinishedReplies();
    private final FailedReplies failed = new FailedReplies();
    private final BranchChoices choices = new BranchChoices();
    private final Settings settings = new Settings();

    /** @param queued called after a change was queued for the server (wakes the push loop, updates the status) */
    public Conversations(LocalDatabase db, TokenStore tokens, Supplier<String> ids, Clock clock, Events events,
                         Runnable queued) {
        this.db = db;
        this.tokens = tokens;
        this.ids = ids;
        this.clock = clock;
        this.events = events;
        this.queued = queued;
    }

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
        events.changed(LocalChange.ofSessions(row.toLocal()));
        queued.run();
        return row.toLocal();
    }

    /** A page of live conversations, newest activity first ({@code after}: the last of the previous page). */
    public List<LocalSession> sessions(String search, LocalSession after, int limit) {
        String owner = owner();
        return db.inTransaction(c -> {
            SessionRow afterRow = after == null ? null : sessions.find(c, after.id()).orElse(null);
            return sessions.page(c, owner, search, afterRow, limit).stream().map(SessionRow::toLocal).toList();
        });
    }

    public Optional<LocalSession> session(String sessionId) {
        String owner = owner();
        return db.inTransaction(c -> sessions.find(c, sessionId)).filter(s -> Objects.equals(s.owner(), owner))
                .map(SessionRow::toLocal);
    }

    /** The path the conversation shows, root first (see {@link #path}), as messages. */
    public List<LocalMessage> messages(String sessionId) {
        return path(sessionId).stream().map(PathMessage::message).toList();
    }

    /**
     * The path the conversation shows (SPEC §4.3), each message with its versions: from the first turn, at each fork
     * this device's choice, else the version whose branch holds the newest message; the replies being written and
     * the failed regenerates are in the tree where they belong.
     */
    public List<PathMessage> path(String sessionId) {
        return db.inTransaction(c -> visible(c, sessionId) ? tree(c, sessionId).path() : List.<PathMessage>of());
    }

    /** Every message of every branch, in (message time, id) order. */
    public List<LocalMessage> allMessages(String sessionId) {
        return db.inTransaction(c -> visible(c, sessionId) ? tree(c, sessionId).all() : List.<LocalMessage>of());
    }

    /**
     * Shows {@code messageId} at its place on this device (stored here, never synced): the path then runs through
     * it (the versions above it chosen too) and on to the newest message beneath it (or this device's choices
     * further down).
     *
     * @throws ClientException {@code not_found} when it is no message of a conversation shown
     */
    public void showVersion(String messageId) {
        String sessionId = db.inTransaction(c -> {
            String session = sessionOf(c, messageId)
                    .orElseThrow(() -> new ClientException("not_found", "This message no longer exists.", false,
                            null));
            liveSession(c, session);
            ConversationTree tree = tree(c, session);
            // Chosen at its own fork and at each fork above it, so that the path runs through it wherever it is.
            Set<String> seen = new HashSet<>();
            for (String at = messageId; at != null && seen.add(at); at = tree.parent(at)) {
                choices.choose(c, BranchChoices.key(session, tree.parent(at)), at);
            }
            return session;
        });
        events.changed(LocalChange.ofPath(sessionId));
    }

    /** The session of a stored message, a reply being written or a failed regenerate. */
    private Optional<String> sessionOf(Connection c, String messageId) throws SQLException {
        Optional<MessageRow> stored = messages.find(c, messageId);
        if (stored.isPresent()) {
            return Optional.of(stored.get().message().sessionId());
        }
        Optional<FailedReplies.Row> failedReply = failed.find(c, messageId);
        if (failedReply.isPresent()) {
            return Optional.of(failedReply.get().sessionId());
        }
        return unfinished.byReplyId(c, messageId).map(UnfinishedReplies.Row::sessionId);
    }

    /**
     * The conversation's tree as stored now: its messages, each reply being written as a child of its user message
     * (unless the store holds that reply already: a pull may bring it before the exchange here has ended), each
     * failed regenerate where it was asked, and this device's choices.
     */
    ConversationTree tree(Connection c, String sessionId) throws SQLException {
        List<MessageRow> rows = messages.ofSession(c, sessionId);
        Map<String, MessageRow> byId = new HashMap<>();
        Set<String> answered = new HashSet<>();
        for (MessageRow row : rows) {
            byId.put(row.id(), row);
            if (row.message().role() == Role.ASSISTANT && row.message().userMessageId() != null) {
                answered.add(row.message().userMessageId());
            }
        }
        List<LocalMessage> nodes = new ArrayList<>(rows.size() + 2);
        rows.forEach(r -> nodes.add(r.toLocal()));
        Set<String> growingIds = new HashSet<>();
        for (UnfinishedReplies.Row reply : unfinished.ofSession(c, sessionId)) {
            MessageRow user = byId.get(reply.messageId());
            String id = replyIdOf(reply.messageId(), reply.replyId());
            boolean stored = reply.regenerate() ? byId.containsKey(id) : answered.contains(reply.messageId());
            if (user != null && !stored && !byId.containsKey(id)) {
                nodes.add(unfinishedReply(user, reply));
                growingIds.add(id);
            }
        }
        for (FailedReplies.Row reply : failed.ofSession(c, sessionId)) {
            MessageRow user = byId.get(reply.messageId());
            if (user != null && !byId.containsKey(reply.replyId()) && !growingIds.contains(reply.replyId())) {
                nodes.add(failedReply(user, reply));
            }
        }
        return new ConversationTree(sessionId, nodes, choices.ofSession(c, sessionId));
    }

    /**
     * A reply being written, as shown: the text so far, marked unfinished (and stopped when the user stopped it).
     * A send's reply stands at its question's time; before its stream started it has no id of its own and is known
     * by its user message's id and {@link #PENDING_REPLY}. A regenerate's has its own id from the start and stands
     * at the time it was asked, the newest of its versions.
     */
    static LocalMessage unfinishedReply(MessageRow user, UnfinishedReplies.Row reply) {
        String model = reply.model() != null ? reply.model() : user.message().model();
        Message m = Message.builder(replyIdOf(reply.messageId(), reply.replyId()), user.message().sessionId(),
                        Role.ASSISTANT)
                .content(reply.content()).model(model).tokens(0, 0).userMessageId(user.id()).parentId(user.id())
                .messageTimestamp(reply.regenerate() ? reply.startedAt() : user.message().messageTimestamp())
                .finishReason(reply.stopRequested() ? FinishReason.STOPPED : null).build();
        return new LocalMessage(m, user.syncState(), null, false, null, true);
    }

    /**
     * A regenerate that got no reply, as shown: a failed reply with its error and Try again, this device's alone
     * ({@link SyncState#LOCAL}: never pushed, never counted).
     */
    static LocalMessage failedReply(MessageRow user, FailedReplies.Row reply) {
        String model = reply.model() != null ? reply.model() : user.message().model();
        Message m = Message.builder(reply.replyId(), user.message().sessionId(), Role.ASSISTANT).content("")
                .model(model).tokens(0, 0).userMessageId(user.id()).parentId(user.id())
                .messageTimestamp(reply.failedAt()).errorMessage(reply.errorMessage()).build();
        return new LocalMessage(m, SyncState.LOCAL, reply.errorCode(), reply.retryable(), null, false);
    }

    /** The suffix of the id an unfinished reply is shown under before the server named it. */
    public static final String PENDING_REPLY = ":reply";

    static String replyIdOf(String messageId, String replyId) {
        return replyId != null ? replyId : messageId + PENDING_REPLY;
    }

    /** Renames locally at once; the new title is pushed like any unsent row (last writer wins on the server). */
    public void rename(String sessionId, String title) {
        requireTitle(title);
        Instant now = now();
        SessionRow renamed = db.inTransaction(c -> {
            SessionRow row = queuedChange(c, liveSession(c, sessionId).withTitle(title.strip(), now));
            sessions.put(c, row);
            return row;
        });
        events.changed(LocalChange.ofSessions(renamed.toLocal()));
        queued.run();
    }

    /**
     * Sets the conversation's system prompt locally at once, or clears it ({@code null}, empty or blank); the change
     * is pushed like a rename (the session row only, last writer wins on the server by its own time). Setting the
     * prompt it has already changes nothing.
     */
    public void setSystemPrompt(String sessionId, String prompt) {
        if (prompt != null && prompt.length() > Limits.MAX_SYSTEM_PROMPT_CHARS) {
            throw new ClientException("bad_request", "A system prompt can be at most "
                    + Limits.MAX_SYSTEM_PROMPT_CHARS + " characters long.", false, null);
        }
        if (prompt != null && !isStorableText(prompt)) {
            // The server refuses such a prompt, and with it the rest of the conversation's row.
            throw new ClientException("bad_request", "A system prompt can hold only text; remove the invisible"
                    + " characters it contains.", false, null);
        }
        String newPrompt = SessionRow.promptOrNull(prompt);
        Instant now = now();
        SessionRow changed = db.inTransaction(c -> {
            SessionRow row = liveSession(c, sessionId);
            if (Objects.equals(row.systemPrompt(), newPrompt)) {
                return null;
            }
            SessionRow queued = queuedChange(c, row.withSystemPrompt(newPrompt, now));
            sessions.put(c, queued);
            return queued;
        });
        if (changed != null) {
            events.changed(LocalChange.ofSessions(changed.toLocal()));
            queued.run();
        }
    }

    /** Stores this device's own parameters of the conversation; they are never pushed. */
    public void setChatParameters(String sessionId, ChatParameters parameters) {
        Objects.requireNonNull(parameters, "parameters");
        db.inTransaction(c -> {
            liveSession(c, sessionId);
            sessions.setParameters(c, sessionId, parameters);
            return null;
        });
    }

    /** The conversation's own parameters on this device; {@link ChatParameters#NONE} for none, or no such chat. */
    public ChatParameters chatParameters(String sessionId) {
        return db.inTransaction(c -> visible(c, sessionId) ? sessions.parameters(c, sessionId) : ChatParameters.NONE);
    }

    /** The model of the conversation's newest message that names one; empty for none, or no such chat. */
    public Optional<String> lastModel(String sessionId) {
        return db.inTransaction(c -> visible(c, sessionId) ? messages.lastModel(c, sessionId)
                : Optional.<String>empty());
    }

    /** Deletes locally at once (the conversation disappears); the delete is pushed like any unsent row. */
    public void delete(String sessionId) {
        Instant now = now();
        SessionRow deleted = db.inTransaction(c -> {
            SessionRow row = queuedChange(c, liveSession(c, sessionId).withDeletedAt(now));
            sessions.put(c, row);
            return row;
        });
        events.changed(LocalChange.ofSessions(deleted.toLocal()));
        queued.run();
    }

    /** The signed-in account's id, or {@code null} signed out: the owner of what is written now. */
    public String owner() {
        return tokens.load().map(t -> t.user().id()).orElse(null);
    }

    /** The conversation, when it is shown (the account's, or signed out nobody's) and not deleted. */
    SessionRow liveSession(Connection c, String sessionId) throws SQLException {
        String owner = owner();
        return sessions.find(c, sessionId).filter(s -> Objects.equals(s.owner(), owner))
                .filter(s -> s.deletedAt() == null)
                .orElseThrow(() -> new ClientException("not_found", "This conversation no longer exists.", false,
                        null));
    }

    /** Whether the conversation belongs to whoever is signed in (or, signed out, to nobody). */
    private boolean visible(Connection c, String sessionId) throws SQLException {
        String owner = owner();
        return sessions.find(c, sessionId).filter(s -> Objects.equals(s.owner(), owner)).isPresent();
    }

    /** Marks a changed session as unsent again (signed out: local), at the end of the outbox. */
    private SessionRow queuedChange(Connection c, SessionRow row) throws SQLException {
        SyncState state = row.owner() == null ? SyncState.LOCAL : SyncState.PENDING;
        return row.withSync(state, settings.nextOutboxSeq(c), null, null);
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

    /** Text without NUL characters or broken surrogate pairs: what the server accepts as a prompt. */
    private static boolean isStorableText(String text) {
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            boolean pair = Character.isHighSurrogate(ch) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (pair) {
                i++;
            } else if (ch == 0 || Character.isSurrogate(ch)) {
                return false;
            }
        }
        return true;
    }

    /** A conversation's name from its first message: the first line, at most 60 characters. */
    static String titleFrom(String content) {
        String firstLine = content.strip().lines().findFirst().orElse(NEW_CHAT).strip();
        String clean = firstLine.chars().anyMatch(Character::isISOControl)
                ? firstLine.replaceAll("\\p{Cntrl}", " ") : firstLine;
        return clean.length() > 60 ? clean.substring(0, 59) + "…" : clean.isBlank() ? NEW_CHAT : clean;
    }

    /** The sidebar's preview of a message: its start, on one line. */
    public static String preview(String content) {
        String flat = content.strip().replaceAll("\\s+", " ");
        return flat.length() > Limits.MAX_PREVIEW_CHARS ? flat.substring(0, Limits.MAX_PREVIEW_CHARS) : flat;
    }
}
