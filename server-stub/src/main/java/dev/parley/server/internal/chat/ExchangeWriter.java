package dev.parley.server.internal.chat;

import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Message;
import dev.parley.protocol.Origin;
import dev.parley.protocol.Role;
import dev.parley.protocol.StorableText;
import dev.parley.protocol.Session;
import dev.parley.server.Completion;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.signal.ChangeSignals;
import dev.parley.server.internal.signal.Topics;
import dev.parley.server.internal.store.ClaimRepository;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.MessageRepository;
import dev.parley.server.internal.store.SessionRepository;
import dev.parley.server.internal.store.StoredMessage;
import dev.parley.server.internal.store.StoredSession;
import dev.parley.server.internal.store.UserRepository;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores the outcome of an exchange (SPEC §5.1): a reply with its user message and the session statistics in one
 * transaction, or the user message as failed; either releases the exchange's claim in the same transaction and
 * announces the end of the reply to the other processes. Thread-safe.
 */
final class ExchangeWriter {
    private static final Logger LOG = LoggerFactory.getLogger(ExchangeWriter.class);

    private final Database db;
    private final ChangeSignals signals;
    private final Clock clock;
    private final UserRepository users;
    private final SessionRepository sessions = new SessionRepository();
    private final MessageRepository messages = new MessageRepository();
    private final ClaimRepository claims = new ClaimRepository();

    ExchangeWriter(Database db, ChangeSignals signals, Clock clock) {
        this.db = db;
        this.signals = signals;
        this.clock = clock;
        this.users = new UserRepository(db.dialect());
    }

    /**
     * Stores the reply and its user message; the answer says {@code persisted:false} when the write failed (the
     * client then pushes both rows).
     *
     * @throws ApiException when the session went away or the id turned out to be another message meanwhile
     */
    ChatResponse storeSuccess(String userId, Exchange exchange, Completion completion) {
        Message user = exchange.userMessage(completion.inputTokens(), null);
        Message assistant = assistant(exchange, completion);
        try {
            return db.inTransaction(c -> {
                users.lockForWrites(c, userId);
                Instant now = clock.instant();
                requireWritableSession(c, userId, exchange, now);
                // Read again: a push may have stored this message (as failed) while the model was answering.
                Optional<StoredMessage> current = messages.find(c, exchange.messageId());
                Message userAsStored;
                try (MessageRepository.Inserter inserter = messages.inserter(c)) { // both rows, one prepare
                    if (current.isEmpty()) {
                        inserter.insert(userId, user, now);
                        userAsStored = withTotal(user);
                    } else if (ChatService.requireSameMessage(current.get(), userId, exchange).failed()) {
                        messages.markSucceeded(c, user, now);
                        userAsStored = withTotal(withTimestamp(user, current.get().message().messageTimestamp()));
                    } else {
                        userAsStored = current.get().message();
                    }
                    inserter.insert(userId, assistant, now);
                }
                release(c, exchange);
                Session session = sessions.find(c, exchange.sessionId()).orElseThrow().session();
                return new ChatResponse(userAsStored, withTotal(assistant), session, true, false);
            });
        } catch (ApiException e) {
            releaseQuietly(exchange);
            throw e;
        } catch (RuntimeException e) {
            LOG.error("reply to message {} could not be stored; the client will push it", exchange.messageId(), e);
            releaseQuietly(exchange);
            return new ChatResponse(withTotal(user), withTotal(assistant), exchange.newSession(), false, false);
        }
    }

    /**
     * Stores a regenerated reply (SPEC §5.4): one new assistant row beside the earlier replies to {@code question},
     * with the session's statistics (the triggers), in one transaction that also releases the claim.
     *
     * @throws ApiException when the conversation went away meanwhile, or the claim was taken over
     */
    ChatResponse storeRegenerated(String userId, Exchange exchange, Message question, Completion completion) {
        Message assistant = assistant(exchange, completion);
        try {
            return db.inTransaction(c -> {
                users.lockForWrites(c, userId);
                Instant now = clock.instant();
                Optional<StoredSession> session = sessions.find(c, exchange.sessionId());
                if (session.isEmpty() || !session.get().userId().equals(userId) || session.get().deleted()) {
                    throw new ApiException(ErrorCode.CONFLICT, "This conversation was deleted.");
                }
                messages.insert(c, userId, assistant, now);
                release(c, exchange);
                return new ChatResponse(question, withTotal(assistant),
                        sessions.find(c, exchange.sessionId()).orElseThrow().session(), true, false);
            });
        } catch (ApiException e) {
            releaseQuietly(exchange);
            throw e;
        } catch (RuntimeException e) {
            LOG.error("regenerated reply {} could not be stored; the client will push it", exchange.replyId(), e);
            releaseQuietly(exchange);
            return new ChatResponse(question, withTotal(assistant), exchange.newSession(), false, false);
        }
    }

    /** Stores the user message as failed; the session it is in now when it was stored, else empty. */
    Optional<Session> storeFailure(String userId, Exchange exchange, String error) {
        try {
            return Optional.of(db.inTransaction(c -> {
                users.lockForWrites(c, userId);
                Instant now = clock.instant();
                requireWritableSession(c, userId, exchange, now);
                Optional<StoredMessage> current = messages.find(c, exchange.messageId());
                if (current.isEmpty()) {
                    messages.insert(c, userId, exchange.userMessage(0, error), now);
                } else if (current.get().message().failed()) {
                    messages.refreshError(c, exchange.messageId(), error, now);
                }
                release(c, exchange);
                return sessions.find(c, exchange.sessionId()).orElseThrow().session();
            }));
        } catch (ApiException e) {
            releaseQuietly(exchange);
            return Optional.empty(); // the session went away meanwhile: nothing to store the failure in
        } catch (RuntimeException e) {
            LOG.error("failed message {} could not be stored", exchange.messageId(), e);
            releaseQuietly(exchange);
            return Optional.empty();
        }
    }

    /** The error text of a user message whose generation's process died (a swept claim). */
    static final String INTERRUPTED = "The server answering this message stopped before the reply was finished.";

    /**
     * Sweeps a lapsed claim: removes it and, when its message is not stored yet and its conversation is live,
     * stores the user message as failed (counted as nothing, like every failure). Without its start event (a claim
     * from before streaming) only the claim goes, and so it does for a regenerate (claimed under its reply's id):
     * its user message succeeded, and stays so. Does nothing if the claim was taken over or swept meanwhile.
     */
    void reap(ClaimRepository.Claim claim, dev.parley.protocol.StreamStart start) {
        db.inTransaction(c -> {
            users.lockForWrites(c, claim.userId());
            if (!claims.release(c, claim.messageId(), claim.token())) {
                return null;
            }
            signals.announce(c, Topics.reply(claim.messageId()));
            if (start == null || start.userMessage() == null || !start.userMessage().id().equals(claim.messageId())
                    || messages.find(c, claim.messageId()).isPresent()) {
                return null;
            }
            Message user = start.userMessage();
            Instant now = clock.instant();
            Optional<StoredSession> session = sessions.find(c, user.sessionId());
            if (session.isEmpty() && start.session() != null) {
                sessions.insert(c, claim.userId(), start.session(), now);
            } else if (session.isEmpty() || !session.get().userId().equals(claim.userId())
                    || session.get().deleted()) {
                return null;
            }
            messages.insert(c, claim.userId(), new Message(user.id(), user.sessionId(), Role.USER, user.content(),
                    user.model(), 0L, 0L, null, null, user.messageTimestamp(), null, INTERRUPTED, null, null,
                    user.parentId(), Origin.CHAT), now);
            return null;
        });
    }

    /** Releases the claim without storing anything (the exchange ended before it had an outcome to store). */
    void releaseQuietly(Exchange exchange) {
        try {
            db.inTransaction(c -> {
                claims.release(c, exchange.claimKey(), exchange.claimToken());
                signals.announce(c, Topics.reply(exchange.claimKey()));
                return null;
            });
        } catch (RuntimeException e) {
            LOG.warn("claim on {} not released; it lapses by itself: {}", exchange.claimKey(), e.getMessage());
        }
    }

    /**
     * Releases the exchange's claim as part of storing its outcome. A claim that is no longer ours lapsed while the
     * model answered (this process stalled) and was taken over: the message is being answered again elsewhere, so
     * this outcome is not stored, and the transaction rolls back.
     */
    private void release(Connection c, Exchange exchange) throws SQLException {
        if (!claims.release(c, exchange.claimKey(), exchange.claimToken())) {
            throw new ApiException(ErrorCode.INTERRUPTED, "This message is being answered again by another server,"
                    + " after this one stalled. Re-attach to follow that reply.", 1L, false);
        }
        signals.announce(c, Topics.reply(exchange.claimKey()));
    }

    /**
     * Creates the session if absent, else checks again that it is the user's and live: it may have been deleted,
     * or created by someone else, while the model was answering.
     */
    private void requireWritableSession(Connection c, String userId, Exchange exchange, Instant now)
            throws SQLException {
        Optional<StoredSession> session = sessions.find(c, exchange.sessionId());
        if (session.isEmpty()) {
            sessions.insert(c, userId, exchange.newSession(), now);
        } else if (!session.get().userId().equals(userId)) {
            throw ApiException.notFound("No such session.");
        } else if (session.get().deleted()) {
            throw new ApiException(ErrorCode.CONFLICT, "This conversation was deleted.");
        }
    }

    /** The assistant row of a completion, under the exchange's reply id. */
    Message assistant(Exchange exchange, Completion completion) {
        // A reply never precedes its question, even when the client's clock runs ahead.
        Instant at = clock.instant();
        if (!at.isAfter(exchange.timestamp())) {
            at = exchange.timestamp().plusMillis(1);
        }
        return new Message(exchange.replyId(), exchange.sessionId(), Role.ASSISTANT, StorableText.of(completion.content()),
                exchange.model(), 0L, completion.outputTokens(), null, exchange.messageId(), at,
                completion.elapsedMs(), null, completion.completionId(), completion.finishReason(),
                exchange.messageId(), Origin.CHAT);
    }

    private static Message withTimestamp(Message m, Instant timestamp) {
        return m.toBuilder().messageTimestamp(timestamp).build();
    }

    static Message withTotal(Message m) {
        long total = (m.inputTokens() == null ? 0 : m.inputTokens()) + (m.outputTokens() == null ? 0 : m.outputTokens());
        return m.toBuilder().totalTokens(total).build();
    }
}
