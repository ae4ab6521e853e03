package dev.parley.client.internal;

import dev.parley.client.ClientException;
import dev.parley.client.LocalChange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The conversations of the account signed in (or of nobody, signed out): listing them, reading their messages with
 * the replies being written, renaming and deleting — each change one local transaction, told as one
 * {@link LocalChange}. Thread-safe.
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

    /** The messages of a conversation in order, each reply being written right after its user message. */
    public List<LocalMessage> messages(String sessionId) {
        String owner = owner();
        return db.inTransaction(c -> {
            if (sessions.find(c, sessionId).filter(s -> Objects.equals(s.owner(), owner)).isEmpty()) {
                return List.<LocalMessage>of();
            }
            List<MessageRow> rows = messages.ofSession(c, sessionId);
            Map<String, UnfinishedReplies.Row> growing = new HashMap<>();
            for (UnfinishedReplies.Row reply : unfinished.ofSession(c, sessionId)) {
                growing.put(reply.messageId(), reply);
            }
            // A stored reply (a pull may bring it before the exchange here has ended) replaces the growing one.
            rows.stream().filter(r -> r.message().role() == Role.ASSISTANT && r.message().userMessageId() != null)
                    .forEach(r -> growing.remove(r.message().userMessageId()));
            List<LocalMessage> shown = new ArrayList<>(rows.size() + growing.size());
            for (MessageRow row : rows) {
                shown.add(row.toLocal());
                UnfinishedReplies.Row reply = growing.get(row.id());
                if (reply != null) {
                    shown.add(unfinishedReply(row, reply));
                }
            }
            return shown;
        });
    }

    /**
     * A reply being written, as shown: the text so far, marked unfinished (and stopped when the user stopped it).
     * Before its stream started it has no id of its own; it is then known by its user message's id and
     * {@link #PENDING_REPLY}.
     */
    static LocalMessage unfinishedReply(MessageRow user, UnfinishedReplies.Row reply) {
        Message m = Message.builder(replyIdOf(reply.messageId(), reply.replyId()), user.message().sessionId(),
                        Role.ASSISTANT)
                .content(reply.content()).model(user.message().model()).tokens(0, 0).userMessageId(user.id())
                .messageTimestamp(user.message().messageTimestamp())
                .finishReason(reply.stopRequested() ? FinishReason.STOPPED : null).build();
        return new LocalMessage(m, user.syncState(), null, false, null, true);
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

    /** A conversation's name from its first message: the first line, at most 60 characters. */
    static String titleFrom(String content) {
        String firstLine = content.strip().lines().findFirst().orElse(NEW_CHAT).strip();
        String clean = firstLine.chars().anyMatch(Character::isISOControl)
                ? firstLine.replaceAll("\\p{Cntrl}", " ") : firstLine;
        return clean.length() > 60 ? clean.substring(0, 59) + "…" : clean.isBlank() ? NEW_CHAT : clean;
    }

    /** The sidebar's preview of a message: its start, on one line. */
    static String preview(String content) {
        String flat = content.strip().replaceAll("\\s+", " ");
        return flat.length() > Limits.MAX_PREVIEW_CHARS ? flat.substring(0, Limits.MAX_PREVIEW_CHARS) : flat;
    }
}
