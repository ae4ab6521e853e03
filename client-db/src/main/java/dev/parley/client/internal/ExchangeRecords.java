package dev.parley.client.internal;

import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.client.LocalChange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.PathMessage;
import dev.parley.client.SyncState;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What an exchange writes to the local store, each step one transaction: the user message, the reply's text so far
 * (at a bounded rate), a requested stop, and the outcome, which replaces the unfinished reply with the rows the
 * server stored. Thread-safe.
 */
public final class ExchangeRecords {
    /** The error of a message stopped before its reply began (SPEC §5.3), kept as the server keeps it. */
    public static final String STOPPED_BEFORE_REPLY = "Stopped before the reply began";

    private final LocalDatabase db;
    private final Conversations conversations;
    private final Supplier<String> ids;
    private final Clock clock;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();
    private final UnfinishedReplies unfinished = new UnfinishedReplies();
    private final FailedReplies failed = new FailedReplies();
    private final BranchChoices choices = new BranchChoices();
    private final Settings settings = new Settings();

    public ExchangeRecords(LocalDatabase db, Conversations conversations, Supplier<String> ids, Clock clock) {
        this.db = db;
        this.conversations = conversations;
        this.ids = ids;
        this.clock = clock;
    }

    /**
     * A user message written (or taken up again) and marked under way, and what the commit changed.
     *
     * @param regeneration what the exchange regenerates, or {@code null} for a send or a retry of one
     */
    public record Begun(MessageRow row, LocalChange change, Regeneration regeneration) {

        public Begun(MessageRow row, LocalChange change) {
            this(row, change, null);
        }
    }

    /**
     * Another reply to an answered user message (SPEC §5.4), stored under {@code replyId}, made by the client.
     *
     * @param model     the model asked, or {@code null} for the server's default
     * @param startedAt when it was asked: where the reply stands among its versions until the server stores it
     */
    public record Regeneration(String replyId, String model, Instant startedAt) {
    }

    /** A new id for a row (a reply the client names before the server stores it). */
    public String newId() {
        return ids.get();
    }

    /**
     * Writes a new user message of {@code owner} at the end of the conversation's shown path and marks it under way
     * (kept out of pushes: its request delivers it).
     */
    public Begun write(String sessionId, String content, String model, String owner) {
        return db.inTransaction(c -> {
            conversations.liveSession(c, sessionId);
            String parent = attachPoint(conversations.tree(c, sessionId).path());
            return write(c, sessionId, parent, content, model, owner);
        });
    }

    /**
     * Writes an edit of the user message {@code messageId}: a new user message (new id) with the same parent, a
     * sibling, shown from now on; the old branch stays as it is.
     *
     * @throws ClientException {@code not_found} when it is no question of a conversation shown
     */
    public Begun edit(String messageId, String content, String model, String owner) {
        return db.inTransaction(c -> {
            MessageRow edited = messages.find(c, messageId).filter(m -> m.message().role() == Role.USER)
                    .orElseThrow(() -> new ClientException("not_found", "There is no question to edit.", false,
                            null));
            String sessionId = edited.message().sessionId();
            conversations.liveSession(c, sessionId);
            String parent = conversations.tree(c, sessionId).parent(messageId);
            Begun begun = write(c, sessionId, parent, content, model, owner);
            choices.choose(c, BranchChoices.key(sessionId, parent), begun.row().id());
            return new Begun(begun.row(), begun.change().withPathChanged(sessionId));
        });
    }

    /**
     * Where a new message joins the path: after its last message, passing over a failed regenerate (this device's
     * alone: nothing on the server could follow it) and a reply that has no id yet.
     */
    private static String attachPoint(List<PathMessage> path) {
        for (int i = path.size() - 1; i >= 0; i--) {
            LocalMessage m = path.get(i).message();
            boolean failedReply = m.message().role() == Role.ASSISTANT && m.failed();
            if (!failedReply && !m.id().endsWith(Conversations.PENDING_REPLY)) {
                return m.id();
            }
        }
        return null;
    }

    private Begun write(Connection c, String sessionId, String parentId, String content, String model, String owner)
            throws SQLException {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String messageId = ids.get();
        SessionRow session = conversations.liveSession(c, sessionId);
        Message message = Message.builder(messageId, sessionId, Role.USER).content(content).model(model)
                .tokens(0, 0).messageTimestamp(now).parentId(parentId).build();
        MessageRow created = new MessageRow(message, owner, owner == null ? SyncState.LOCAL : SyncState.PENDING,
                null, false, settings.nextOutboxSeq(c), null, null);
        messages.put(c, created);
        messages.setSending(c, messageId, true);
        // A conversation still called "New chat" takes its name from its first message — a new title, so
        // newer than a "New chat" a push may have taken to the server meanwhile (last writer wins there).
        SessionRow titled = Conversations.NEW_CHAT.equals(session.title())
                && session.syncState() != SyncState.SYNCED
                ? session.withTitle(Conversations.titleFrom(content), now) : session;
        SessionRow active = titled.withActivity(now, Conversations.preview(content));
        sessions.put(c, active);
        return new Begun(created, change(List.of(active), List.of(created.toLocal()), Set.of()));
    }

    /**
     * Marks the user message that {@code replyId} answers under way again for another reply, named by a new id, shown
     * at once as the newest version.
     *
     * @param replyId a stored reply, or a failed regenerate
     * @param model   the model to ask, or {@code null} for the model of that reply
     * @throws ClientException {@code in_progress} while an exchange of that user message is under way,
     *                         {@code not_found} when it is no reply of a conversation shown
     */
    public Begun regenerate(String replyId, String model) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String newReplyId = ids.get();
        return db.inTransaction(c -> {
            String userId;
            String replyModel;
            Optional<MessageRow> stored = messages.find(c, replyId)
                    .filter(m -> m.message().role() == Role.ASSISTANT);
            Optional<FailedReplies.Row> failedReply = failed.find(c, replyId);
            if (stored.isPresent()) {
                Message reply = stored.get().message();
                userId = reply.userMessageId() != null ? reply.userMessageId() : reply.parentId();
                replyModel = reply.model();
            } else if (failedReply.isPresent()) {
                userId = failedReply.get().messageId();
                replyModel = failedReply.get().model();
            } else {
                throw new ClientException("not_found", "There is no reply to regenerate.", false, null);
            }
            Regeneration regeneration = new Regeneration(newReplyId, model != null ? model : replyModel, now);
            return beginRegenerate(c, userId, regeneration);
        });
    }

    /**
     * Marks a failed regenerate's user message under way again, for "Try again" under the same reply id (so a reply
     * the server stored, whose answer was lost, is replayed and never billed twice).
     */
    public Begun retryReply(String replyId) {
        return db.inTransaction(c -> {
            FailedReplies.Row failedReply = failed.find(c, replyId)
                    .orElseThrow(() -> new ClientException("not_found", "There is no failed reply to try again.",
                            false, null));
            return beginRegenerate(c, failedReply.messageId(),
                    new Regeneration(replyId, failedReply.model(), failedReply.failedAt()));
        });
    }

    /** Whether {@code id} names a failed regenerate (Try again regenerates it) rather than a message. */
    public boolean isFailedReply(String id) {
        return db.inTransaction(c -> failed.find(c, id).isPresent());
    }

    private Begun beginRegenerate(Connection c, String userId, Regeneration regeneration) throws SQLException {
        MessageRow user = messages.find(c, userId)
                .filter(m -> m.message().role() == Role.USER && !m.failed())
                .orElseThrow(() -> new ClientException("not_found", "This question has no reply to regenerate.",
                        false, null));
        String sessionId = user.message().sessionId();
        conversations.liveSession(c, sessionId);
        if (messages.isSending(c, userId)) {
            throw new ClientException("in_progress", "A reply to this message is being written already.", true,
                    null);
        }
        messages.setSending(c, userId, true);
        unfinished.startRegenerate(c, userId, sessionId, regeneration.replyId(), regeneration.model(),
                regeneration.startedAt());
        choices.choose(c, BranchChoices.key(sessionId, userId), regeneration.replyId());
        UnfinishedReplies.Row growing = unfinished.find(c, userId).orElseThrow();
        LocalChange change = change(List.of(), List.of(Conversations.unfinishedReply(user, growing)), Set.of())
                .withPathChanged(sessionId);
        return new Begun(user, change, regeneration);
    }

    /**
     * Marks a failed message under way again, for "Try again" with the same id.
     *
     * @throws ClientException {@code in_progress} while it is under way already, {@code not_found} when it is no
     *                         failed message of a live conversation
     */
    public Begun retry(String messageId) {
        return db.inTransaction(c -> {
            MessageRow stored = messages.find(c, messageId)
                    .filter(m -> m.message().role() == Role.USER && m.failed())
                    .orElseThrow(() -> new ClientException("not_found", "There is no failed message to send again.",
                            false, null));
            conversations.liveSession(c, stored.message().sessionId());
            if (messages.isSending(c, messageId)) {
                // One exchange per message at a time, or a signed-out message (which no server claim guards) would
                // be answered twice.
                throw new ClientException("in_progress", "This message is being sent already.", true, null);
            }
            messages.setSending(c, messageId, true);
            return new Begun(stored, change(List.of(), List.of(), Set.of()));
        });
    }

    /** Keeps the reply's text so far, so that a crash loses none of what was shown. */
    public void keepText(MessageRow row, String replyId, String text) {
        db.inTransaction(c -> {
            unfinished.write(c, row.id(), row.message().sessionId(), replyId, text, clock.instant());
            return null;
        });
    }

    /** Remembers that the user stopped the reply, until the server confirms it. */
    public void requestStop(MessageRow row) {
        db.inTransaction(c -> {
            unfinished.requestStop(c, row.id(), row.message().sessionId(), clock.instant());
            return null;
        });
    }

    /** A message under way, as stored now, with its unfinished reply if it has one: an exchange to resume. */
    public record Resumable(MessageRow row, UnfinishedReplies.Row reply) {
    }

    /** The messages of {@code owner} left under way (by a restart, a crash, or a stop not yet sent). */
    public List<Resumable> resumable(String owner) {
        return db.inTransaction(c -> {
            List<Resumable> found = new ArrayList<>();
            for (String id : messages.sending(c, owner)) {
                Optional<MessageRow> row = messages.find(c, id);
                if (row.isPresent()) {
                    found.add(new Resumable(row.get(), unfinished.find(c, id).orElse(null)));
                }
            }
            return found;
        });
    }

    /**
     * Gives up signed-out exchanges a crash cut short: they cannot be re-attached to. A regenerate becomes a failed
     * reply (its question stays answered); a send, a failed message.
     */
    public int failInterrupted(String text) {
        return db.inTransaction(c -> {
            List<UnfinishedReplies.Row> regenerates = unfinished.signedOutRegenerates(c);
            for (UnfinishedReplies.Row growing : regenerates) {
                failed.put(c, new FailedReplies.Row(growing.replyId(), growing.messageId(), growing.sessionId(),
                        growing.model(), text, LocalMessage.OFFLINE, true, growing.startedAt()));
                unfinished.delete(c, growing.messageId());
                messages.setSending(c, growing.messageId(), false);
            }
            return regenerates.size() + messages.recoverInterrupted(c, text);
        });
    }

    /** An outcome stored, and what its commit changed. */
    public record Recorded(Exchange.Outcome outcome, LocalChange change, boolean queued) {
    }

    /**
     * Stores the server's answer: the user message and reply as it stored them (both synced), or, when it could not
     * store them, both unsent for the push loop; anonymous, both local.
     */
    public Recorded answered(MessageRow row, Regeneration regeneration, ChatResponse response) {
        String owner = row.owner();
        SyncState state = owner == null ? SyncState.LOCAL : response.persisted() ? SyncState.SYNCED : SyncState.PENDING;
        if (regeneration != null) {
            Message reply = response.assistantMessage();
            if (reply == null) {
                return recordRegenerate(row, regeneration, null, null);
            }
            // Signed out nothing is stored on the server, and the reply is ours to name; signed in the server
            // stores it under the id it was asked for.
            Message named = owner == null ? reply.toBuilder().id(regeneration.replyId()).build() : reply;
            return recordRegenerate(row, regeneration,
                    new MessageRow(inBranch(named, row.id()), owner, state, null, false, null, null, null), null);
        }
        Message answeredUser = response.userMessage().parentId() == null
                ? response.userMessage().toBuilder().parentId(row.message().parentId()).build()
                : response.userMessage();
        MessageRow user = new MessageRow(answeredUser, owner, state, null, false, row.outboxSeq(), null, null);
        if (answeredUser.failed()) { // stopped before its first word: failed, and Try again sends it
            user = user.withMessage(answeredUser, "stopped", true);
        }
        MessageRow reply = response.assistantMessage() == null ? null
                : new MessageRow(inBranch(response.assistantMessage(), row.id()), owner, state, null, false, null,
                null, null);
        return record(row, user, reply, response.persisted() ? response.session() : null);
    }

    /**
     * Stores a failure on the user message: {@code state} says where it stands with the server (synced when the
     * server stored the failure, pending when the push loop should deliver it, rejected when refused on its merits).
     */
    public Recorded failed(MessageRow row, Regeneration regeneration, String code, String text, boolean retryable,
                           SyncState state, String rejectReason) {
        if (regeneration != null) {
            return recordRegenerate(row, regeneration, null, new FailedReplies.Row(regeneration.replyId(), row.id(),
                    row.message().sessionId(), regeneration.model(), text, code, retryable,
                    regeneration.startedAt()));
        }
        Message failed = row.message().toBuilder().tokens(0, 0).elapsedMs(null).errorMessage(text)
                .completionId(null).build();
        MessageRow user = row.withMessage(failed, code, retryable);
        user = state == SyncState.REJECTED ? user.withSync(state, null, code, rejectReason)
                : user.withSync(state, state == SyncState.SYNCED ? null : row.outboxSeq(), null, null);
        return record(row, user, null, null);
    }

    /**
     * Ends an exchange that changed nothing: a message the server already holds as failed was tried again and no
     * answer came. It stays as the server has it (with Try again), rather than being pushed with a reason that is
     * only this device's.
     */
    public Recorded unchanged(MessageRow row) {
        return record(row, row.withMessage(row.message(), row.errorCode(), true), null, null);
    }

    /**
     * Stores a signed-out exchange the user stopped: nothing reached the server's store, so the text that arrived
     * is the reply, kept locally as stopped (or, before its first word, the message fails as stopped).
     */
    public Recorded stoppedLocally(MessageRow row, Regeneration regeneration, String replyId, String text) {
        if (text.isEmpty()) {
            return stoppedBeforeReply(row, regeneration, SyncState.LOCAL);
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String id = regeneration != null ? regeneration.replyId() : replyId != null ? replyId : ids.get();
        String model = regeneration != null ? regeneration.model() : row.message().model();
        Message reply = Message.builder(id, row.message().sessionId(), Role.ASSISTANT).content(text).model(model)
                .tokens(0, 0).userMessageId(row.id()).parentId(row.id()).messageTimestamp(now)
                .finishReason(FinishReason.STOPPED).build();
        if (regeneration != null) {
            return recordRegenerate(row, regeneration,
                    new MessageRow(reply, null, SyncState.LOCAL, null, false, null, null, null), null);
        }
        MessageRow user = row.withSync(SyncState.LOCAL, row.outboxSeq(), null, null);
        return record(row, user, new MessageRow(reply, null, SyncState.LOCAL, null, false, null, null, null), null);
    }

    /**
     * Stores an exchange stopped before its first word: a send's message fails as stopped (Try again sends it, and
     * {@code state} says where it stands); a regenerate leaves nothing, its question answered as before.
     */
    public Recorded stoppedBeforeReply(MessageRow row, Regeneration regeneration, SyncState state) {
        if (regeneration != null) {
            return recordRegenerate(row, regeneration, null, null);
        }
        return failed(row, null, "stopped", STOPPED_BEFORE_REPLY, true, state, null);
    }

    /** {@code reply} as a child of the user message {@code userId}, where the server said nothing of its place. */
    private static Message inBranch(Message reply, String userId) {
        return reply.parentId() == null ? reply.toBuilder().parentId(userId).build() : reply;
    }

    /**
     * Stores a regenerate's end in one transaction: its reply (replacing a failed one of the same id), or a failed
     * reply, or nothing (stopped before its first word); the user message stays as it is, no longer under way.
     */
    private Recorded recordRegenerate(MessageRow user, Regeneration regeneration, MessageRow reply,
                                      FailedReplies.Row failure) {
        return db.inTransaction(c -> {
            MessageRow current = messages.find(c, user.id()).orElse(user);
            Optional<MessageRow> storedReply = messages.find(c, regeneration.replyId());
            if (!messages.isSending(c, user.id()) && storedReply.isPresent()) {
                // Another run (or a pull) stored the reply already: that one stands.
                return new Recorded(new Exchange.Outcome(current.toLocal(), storedReply.get().toLocal()),
                        change(List.of(), List.of(), Set.of()), false);
            }
            messages.setSending(c, user.id(), false);
            unfinished.delete(c, user.id());
            SessionRow session = sessions.find(c, user.message().sessionId()).orElseThrow();
            if (reply != null || storedReply.isPresent()) {
                MessageRow kept = storedReply.filter(r -> reply == null || r.syncState() == SyncState.SYNCED)
                        .orElse(null);
                if (kept == null) {
                    MessageRow owned = adopted(reply, current.owner());
                    kept = owned.syncState() == SyncState.SYNCED ? owned
                            : owned.withSync(owned.syncState(), settings.nextOutboxSeq(c), null, null);
                    messages.put(c, kept);
                }
                failed.delete(c, regeneration.replyId());
                session = session.withActivity(kept.message().messageTimestamp(),
                        Conversations.preview(kept.message().content()));
                sessions.put(c, session);
                return new Recorded(new Exchange.Outcome(current.toLocal(), kept.toLocal()),
                        change(List.of(session), List.of(kept.toLocal()), Set.of()),
                        kept.syncState() == SyncState.PENDING);
            }
            if (failure != null) {
                failed.put(c, failure);
                LocalMessage shown = Conversations.failedReply(current, failure);
                return new Recorded(new Exchange.Outcome(current.toLocal(), shown),
                        change(List.of(), List.of(shown), Set.of()), false);
            }
            // Stopped before its first word: the growing reply leaves the path, and a failed one before it stays.
            Set<String> removed = failed.find(c, regeneration.replyId()).isPresent() ? Set.of()
                    : Set.of(regeneration.replyId());
            return new Recorded(new Exchange.Outcome(current.toLocal(), null), change(List.of(), List.of(), removed)
                    .withPathChanged(session.id()), false);
        });
    }

    /** Stores an outcome in one transaction, replacing the unfinished reply. */
    private Recorded record(MessageRow sent, MessageRow outcomeUser, MessageRow outcomeReply, Session serverSession) {
        return db.inTransaction(c -> {
            Optional<MessageRow> current = messages.find(c, outcomeUser.id());
            if (current.isPresent() && !messages.isSending(c, sent.id())) {
                // Another run of this message stored its end already: that one stands.
                return new Recorded(new Exchange.Outcome(current.get().toLocal(), null),
                        change(List.of(), List.of(), Set.of()), false);
            }
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
            Optional<UnfinishedReplies.Row> growing = unfinished.find(c, sent.id());
            unfinished.delete(c, sent.id());
            SessionRow session = sessions.find(c, user.message().sessionId()).orElseThrow();
            MessageRow storedReply = null;
            if (reply != null) {
                storedReply = reply.syncState() == SyncState.SYNCED ? reply
                        : reply.withSync(reply.syncState(), settings.nextOutboxSeq(c), null, null);
                messages.put(c, storedReply);
                session = session.withActivity(reply.message().messageTimestamp(),
                        Conversations.preview(reply.message().content()));
            }
            if (serverSession != null && session.syncState() == SyncState.PENDING && session.deletedAt() == null
                    && holds(serverSession, session)) {
                session = session.withSync(SyncState.SYNCED, null, null, null); // the exchange created it there
            }
            sessions.put(c, session);
            String shownId = growing.map(g -> Conversations.replyIdOf(g.messageId(), g.replyId())).orElse(null);
            Set<String> removed = shownId == null || storedReply != null && storedReply.id().equals(shownId)
                    ? Set.of() : Set.of(shownId);
            List<LocalMessage> written = storedReply == null ? List.of(storedUser.toLocal())
                    : List.of(storedUser.toLocal(), storedReply.toLocal());
            boolean queued = storedUser.syncState() == SyncState.PENDING
                    || storedReply != null && storedReply.syncState() == SyncState.PENDING;
            return new Recorded(new Exchange.Outcome(storedUser.toLocal(),
                    storedReply == null ? null : storedReply.toLocal()),
                    change(List.of(session), written, removed), queued);
        });
    }

    /**
     * Whether the server's copy of a session, as an exchange answered it, holds what the local row would push: its
     * title, and its system prompt when one was set or cleared here (a chat request does not carry it).
     */
    private static boolean holds(Session server, SessionRow local) {
        return Objects.equals(server.title(), local.title()) && (local.systemPromptUpdatedAt() == null
                || Objects.equals(server.systemPromptUpdatedAt(), local.systemPromptUpdatedAt())
                && Objects.equals(SessionRow.promptOrNull(server.systemPrompt()), local.systemPrompt()));
    }

    /** {@code row} as owned by {@code owner}: a row adopted by a sign-in becomes that account's unsent row. */
    private static MessageRow adopted(MessageRow row, String owner) {
        if (Objects.equals(row.owner(), owner)) {
            return row;
        }
        MessageRow owned = row.withOwner(owner);
        return owner != null && row.syncState() == SyncState.LOCAL
                ? owned.withSync(SyncState.PENDING, row.outboxSeq(), null, null) : owned;
    }

    private static LocalChange change(List<SessionRow> sessions, List<LocalMessage> messages, Set<String> removed) {
        List<LocalSession> shown = sessions.stream().map(SessionRow::toLocal).toList();
        return new LocalChange(shown, messages, removed, false);
    }
}
