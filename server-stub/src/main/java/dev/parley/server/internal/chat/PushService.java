package dev.parley.server.internal.chat;

import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.Role;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.protocol.Session;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.MessageRepository;
import dev.parley.server.internal.store.SessionRepository;
import dev.parley.server.internal.store.StoredMessage;
import dev.parley.server.internal.store.StoredSession;
import dev.parley.server.internal.store.UserRepository;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The direct-write endpoint's logic (SPEC §4.2): applies each pushed row at most once and answers a result per row,
 * in request order. The batch is one transaction. A row the database refuses is rejected alone and never blocks the
 * good rows beside it: the batch is then applied again with each row in its own savepoint. Thread-safe.
 */
public final class PushService {
    private static final Logger LOG = LoggerFactory.getLogger(PushService.class);
    static final String DEFAULT_TITLE = "New chat";

    private final Database db;
    private final Clock clock;
    private final SessionRepository sessions = new SessionRepository();
    private final MessageRepository messages = new MessageRepository();
    private final UserRepository users;

    public PushService(Database db, Clock clock) {
        this.db = db;
        this.users = new UserRepository(db.dialect());
        this.clock = clock;
    }

    /** Applies a push whose rows were read one by one; rows that could not be read are rejected alone. */
    public PushResponse push(String userId, List<ParsedRow<Session>> sessionRows, List<ParsedRow<Message>> messageRows) {
        int rows = sessionRows.size() + messageRows.size();
        if (rows > Limits.MAX_PUSH_ROWS) {
            throw ApiException.badRequest("a push holds at most " + Limits.MAX_PUSH_ROWS + " rows (got " + rows + ")");
        }
        return db.inTransaction(c -> {
            users.lockForWrites(c, userId);
            Instant now = clock.instant();
            // A savepoint per row is costly: SQLite copies every page a row touches into a sub-journal, PostgreSQL
            // opens a subtransaction. Rows the database refuses are rare, so the batch runs under one savepoint
            // first, and only when a row was refused is it run again row by row, each row in its own savepoint.
            Savepoint batch = c.setSavepoint();
            try {
                PushResponse response = applyAll(c, userId, sessionRows, messageRows, now, false);
                c.releaseSavepoint(batch);
                return response;
            } catch (SQLException e) {
                if (Database.isTransient(e)) {
                    throw e; // the whole batch is retried
                }
                c.rollback(batch);
            }
            return applyAll(c, userId, sessionRows, messageRows, now, true);
        });
    }

    private PushResponse applyAll(Connection c, String userId, List<ParsedRow<Session>> sessionRows,
                                  List<ParsedRow<Message>> messageRows, Instant now, boolean rowByRow)
            throws SQLException {
        List<RowResult> sessionResults = new ArrayList<>(sessionRows.size());
        for (ParsedRow<Session> parsed : sessionRows) {
            Session s = parsed.row();
            sessionResults.add(s == null
                    ? RowResult.rejected(parsed.id(), RowResult.BAD_REQUEST, parsed.problem())
                    : apply(c, s.id(), rowByRow, () -> applySession(c, userId, s, now)));
        }
        List<RowResult> messageResults = new ArrayList<>(messageRows.size());
        try (MessageRepository.Inserter inserter = messages.inserter(c)) {
            for (ParsedRow<Message> parsed : messageRows) {
                Message m = parsed.row();
                messageResults.add(m == null
                        ? RowResult.rejected(parsed.id(), RowResult.BAD_REQUEST, parsed.problem())
                        : apply(c, m.id(), rowByRow, () -> applyMessage(c, inserter, userId, m, now)));
            }
        }
        return new PushResponse(sessionResults, messageResults);
    }

    private RowResult apply(Connection c, String id, boolean inOwnSavepoint, RowWork work) throws SQLException {
        return inOwnSavepoint ? inSavepoint(c, id, work) : work.run();
    }

    private RowResult applySession(Connection c, String userId, Session s, Instant now) throws SQLException {
        String problem = Validation.session(s, now);
        if (problem != null) {
            return RowResult.rejected(s.id(), RowResult.BAD_REQUEST, problem);
        }
        Optional<StoredSession> stored = sessions.find(c, s.id());
        if (stored.isEmpty()) {
            // A prompt without its time is no edit; a tombstone keeps none (deleting purges it, as it purges content).
            boolean prompted = s.systemPromptUpdatedAt() != null && s.deletedAt() == null;
            sessions.insert(c, userId, Session.of(s.id(), s.title(), s.titleUpdatedAt(),
                    prompted ? s.systemPrompt() : null, prompted ? s.systemPromptUpdatedAt() : null,
                    Validation.clamp(s.createdAt(), now), Validation.clamp(s.deletedAt(), now)), now);
            return RowResult.of(s.id(), Outcome.INSERTED);
        }
        if (!stored.get().userId().equals(userId)) {
            return RowResult.rejected(s.id(), RowResult.NOT_FOUND, "no such session");
        }
        if (stored.get().deleted()) {
            return s.deletedAt() != null
                    ? RowResult.of(s.id(), Outcome.UNCHANGED)
                    : RowResult.rejected(s.id(), RowResult.SESSION_DELETED, "the session was deleted");
        }
        if (s.deletedAt() != null) {
            sessions.tombstone(c, s.id(), Validation.clamp(s.deletedAt(), now), now);
            return RowResult.of(s.id(), Outcome.UPDATED);
        }
        // The title and the system prompt are two last-writer-wins values, each ordered by its own time: a row may
        // carry a newer title and an older prompt (or the reverse), and only the newer of each is applied.
        boolean renamed = s.titleUpdatedAt() != null
                && sessions.renameIfNewer(c, s.id(), s.title(), s.titleUpdatedAt(), now);
        boolean prompted = s.systemPromptUpdatedAt() != null
                && sessions.setSystemPromptIfNewer(c, s.id(), s.systemPrompt(), s.systemPromptUpdatedAt(), now);
        return RowResult.of(s.id(), renamed || prompted ? Outcome.UPDATED : Outcome.UNCHANGED);
    }

    private RowResult applyMessage(Connection c, MessageRepository.Inserter inserter, String userId, Message m,
                                   Instant now) throws SQLException {
        String problem = Validation.message(m);
        if (problem != null) {
            return RowResult.rejected(m.id(), RowResult.BAD_REQUEST, problem);
        }
        Optional<StoredSession> session = sessions.find(c, m.sessionId());
        if (session.isPresent() && !session.get().userId().equals(userId)) {
            return RowResult.rejected(m.id(), RowResult.NOT_FOUND, "no such session");
        }
        if (session.isPresent() && session.get().deleted()) {
            return RowResult.rejected(m.id(), RowResult.SESSION_DELETED, "the session was deleted");
        }
        Optional<StoredMessage> stored = messages.find(c, m.id());
        if (stored.isEmpty()) {
            if (m.role() == Role.ASSISTANT && m.userMessageId() != null) {
                RowResult refused = refusedReply(c, userId, m);
                if (refused != null) {
                    return refused;
                }
            }
            Message row = withTimestamp(m, Validation.clamp(m.messageTimestamp(), now));
            if (session.isEmpty()) {
                sessions.insert(c, userId, Session.of(m.sessionId(), DEFAULT_TITLE, null, row.messageTimestamp(), null),
                        now);
            }
            inserter.insert(userId, row, now);
            return RowResult.of(m.id(), Outcome.INSERTED);
        }
        String conflict = conflictWith(stored.get(), userId, m);
        if (conflict != null) {
            return RowResult.rejected(m.id(), RowResult.CONFLICT, conflict);
        }
        Message existing = stored.get().message();
        if (!existing.failed()) {
            return RowResult.of(m.id(), Outcome.UNCHANGED); // a success row is final
        }
        if (m.failed()) {
            messages.refreshError(c, m.id(), m.errorMessage(), now);
            return RowResult.of(m.id(), Outcome.UNCHANGED);
        }
        messages.markSucceeded(c, m, now);
        return RowResult.of(m.id(), Outcome.UPDATED);
    }

    /**
     * Why a reply may not be stored, or {@code null} when it may: the message it answers must be the same user's
     * user message in the same session (another user's message answers exactly like a missing one), must have
     * succeeded. It may have several replies (regenerated siblings, SPEC §4.3), each under its own id. The question
     * is read in this transaction, so a failed question earlier in the same batch counts as stored; a failed
     * question counts nothing, and a reply to it would count a message received for a message never sent.
     */
    private RowResult refusedReply(Connection c, String userId, Message reply) throws SQLException {
        Optional<StoredMessage> question = messages.find(c, reply.userMessageId());
        if (question.isEmpty() || !question.get().userId().equals(userId)
                || question.get().message().role() != Role.USER
                || !question.get().message().sessionId().equals(reply.sessionId())) {
            return RowResult.rejected(reply.id(), RowResult.NOT_FOUND,
                    "the message this reply answers is not a stored user message of its session");
        }
        return question.get().message().failed()
                ? RowResult.rejected(reply.id(), RowResult.CONFLICT, "the message this reply answers failed")
                : null;
    }

    /** Why {@code incoming} may not be applied over {@code stored}, or {@code null} when it is the same message. */
    static String conflictWith(StoredMessage stored, String userId, Message incoming) {
        Message existing = stored.message();
        if (!stored.userId().equals(userId)) {
            return "the id belongs to another message";
        }
        if (existing.role() != incoming.role() || !existing.sessionId().equals(incoming.sessionId())
                || !Objects.equals(existing.content(), incoming.content())) {
            return "a different message with this id is stored";
        }
        // A stored row's place in the tree never changes (SPEC §4.3). A row without a parent (a first turn, or one
        // sent by a client from before branches) states no place, so it conflicts with none.
        String storedParent = MessageRepository.parentOf(existing);
        String incomingParent = MessageRepository.parentOf(incoming);
        if (storedParent != null && incomingParent != null && !storedParent.equals(incomingParent)) {
            return "this message is stored following another message (parentId)";
        }
        return null;
    }

    private static Message withTimestamp(Message m, Instant timestamp) {
        return m.toBuilder().totalTokens(null).messageTimestamp(timestamp).build();
    }

    private RowResult inSavepoint(Connection c, String id, RowWork work) throws SQLException {
        Savepoint savepoint = c.setSavepoint();
        try {
            RowResult result = work.run();
            c.releaseSavepoint(savepoint);
            return result;
        } catch (SQLException e) {
            if (Database.isTransient(e)) {
                throw e; // the whole batch is retried
            }
            c.rollback(savepoint);
            LOG.warn("row {} refused by the database: {}", id, e.getMessage());
            return RowResult.rejected(id, RowResult.CONFLICT, "the row conflicts with stored data");
        }
    }

    @FunctionalInterface
    private interface RowWork {
        RowResult run() throws SQLException;
    }
}
