package dev.parley.client.internal;

import dev.parley.client.ChatParameters;
import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.client.LocalChange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.SyncState;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import java.nio.charset.StandardCharsets;
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
    private static final int CONTEXT_BYTES = 768 * 1024;

    private final LocalDatabase db;
    private final Conversations conversations;
    private final Supplier<String> ids;
    private final Clock clock;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();
    private final UnfinishedReplies unfinished = new UnfinishedReplies();
    private final Settings settings = new Settings();
    private volatile ChatParameters defaults = ChatParameters.NONE;

    public ExchangeRecords(LocalDatabase db, Conversations conversations, Supplier<String> ids, Clock clock) {
        this.db = db;
        this.conversations = conversations;
        this.ids = ids;
        this.clock = clock;
    }

    /** A user message written (or taken up again) and marked under way, and what the commit changed. */
    public record Begun(MessageRow row, LocalChange change) {
    }

    /** Writes a new user message of {@code owner} and marks it under way (kept out of pushes: its request delivers it). */
    public Begun write(String sessionId, String content, String model, String owner) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        String messageId = ids.get();
        return db.inTransaction(c -> {
            SessionRow session = conversations.liveSession(c, sessionId);
            Message message = Message.builder(messageId, sessionId, Role.USER).content(content).model(model)
                    .tokens(0, 0).messageTimestamp(now).build();
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
        });
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

    /**
     * Sets the parameters of every chat that leaves them to the client (in memory; the desktop sets them from its
     * settings). Any thread.
     */
    public void defaultParameters(ChatParameters parameters) {
        defaults = Objects.requireNonNull(parameters, "parameters");
    }

    /**
     * The request of a message under way (sent, or tried again): the conversation's system prompt, when it has one,
     * as the first context entry, then its earlier answered messages, newest kept, within the context limit counting
     * the prompt; the chat's own temperature and reply length, each falling back to the client's default. Read on
     * the exchange's thread, not in the transaction that writes the message: the caller of a send waits only for
     * the write (the {@code enqueue} benchmark).
     */
    public ChatRequest chatRequest(MessageRow row) {
        ChatParameters fallback = defaults;
        return db.inTransaction(c -> chatRequest(c, row, fallback));
    }

    private ChatRequest chatRequest(Connection c, MessageRow row, ChatParameters fallback) throws SQLException {
        Message m = row.message();
        SessionRow session = sessions.find(c, m.sessionId()).orElseThrow();
        String prompt = session.systemPrompt();
        List<MessageRow> earlier = messages.context(c, m.sessionId(), row,
                Limits.MAX_CONTEXT_MESSAGES - (prompt == null ? 0 : 1));
        List<ContextMessage> context = new ArrayList<>();
        int budget = CONTEXT_BYTES - m.content().getBytes(StandardCharsets.UTF_8).length
                - (prompt == null ? 0 : prompt.getBytes(StandardCharsets.UTF_8).length + 64);
        for (int i = earlier.size() - 1; i >= 0; i--) {
            Message previous = earlier.get(i).message();
            budget -= previous.content().getBytes(StandardCharsets.UTF_8).length + 64;
            if (budget < 0) {
                break; // the oldest messages drop out first
            }
            context.add(0, new ContextMessage(previous.role(), previous.content()));
        }
        if (prompt != null) {
            context.add(0, new ContextMessage(Role.SYSTEM, prompt));
        }
        ChatParameters parameters = sessions.parameters(c, m.sessionId()).orElse(fallback);
        String title = session.syncState() == SyncState.SYNCED ? null : session.title();
        return new ChatRequest(m.sessionId(), m.id(), m.content(), m.model(), m.messageTimestamp(), title,
                parameters.temperature(), parameters.maxTokens(), context);
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

    /** Gives up signed-out exchanges a crash cut short: they cannot be re-attached to. */
    public int failInterrupted(String text) {
        return db.inTransaction(c -> messages.recoverInterrupted(c, text));
    }

    /** An outcome stored, and what its commit changed. */
    public record Recorded(Exchange.Outcome outcome, LocalChange change, boolean queued) {
    }

    /**
     * Stores the server's answer: the user message and reply as it stored them (both synced), or, when it could not
     * store them, both unsent for the push loop; anonymous, both local.
     */
    public Recorded answered(MessageRow row, ChatResponse response) {
        String owner = row.owner();
        SyncState state = owner == null ? SyncState.LOCAL : response.persisted() ? SyncState.SYNCED : SyncState.PENDING;
        MessageRow user = new MessageRow(response.userMessage(), owner, state, null, false, row.outboxSeq(), null,
                null);
        if (response.userMessage().failed()) { // stopped before its first word: failed, and Try again sends it
            user = user.withMessage(response.userMessage(), "stopped", true);
        }
        MessageRow reply = response.assistantMessage() == null ? null
                : new MessageRow(response.assistantMessage(), owner, state, null, false, null, null, null);
        return record(row, user, reply, response.persisted() ? response.session() : null);
    }

    /**
     * Stores a failure on the user message: {@code state} says where it stands with the server (synced when the
     * server stored the failure, pending when the push loop should deliver it, rejected when refused on its merits).
     */
    public Recorded failed(MessageRow row, String code, String text, boolean retryable, SyncState state,
                           String rejectReason) {
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
    public Recorded stoppedLocally(MessageRow row, String replyId, String text) {
        if (text.isEmpty()) {
            return failed(row, "stopped", STOPPED_BEFORE_REPLY, true, SyncState.LOCAL, null);
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        Message reply = Message.builder(replyId != null ? replyId : ids.get(), row.message().sessionId(),
                        Role.ASSISTANT).content(text).model(row.message().model()).tokens(0, 0)
                .userMessageId(row.id()).messageTimestamp(now).finishReason(FinishReason.STOPPED).build();
        MessageRow user = row.withSync(SyncState.LOCAL, row.outboxSeq(), null, null);
        return record(row, user, new MessageRow(reply, null, SyncState.LOCAL, null, false, null, null, null), null);
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
