package dev.parley.client.internal;

import dev.parley.client.ChatParameters;
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
 * the replies being written, renaming, deleting and their settings (the synced system prompt, this device's own
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
    static String preview(String content) {
        String flat = content.strip().replaceAll("\\s+", " ");
        return flat.length() > Limits.MAX_PREVIEW_CHARS ? flat.substring(0, Limits.MAX_PREVIEW_CHARS) : flat;
    }
}
