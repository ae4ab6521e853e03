package dev.parley.server.internal.chat;

import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.auth.AttemptLimiter;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/chat} (SPEC §5.1): one exchange with the model. Signed in, a successful reply is stored with its
 * user message and the session statistics in one transaction; a known message id is replayed without calling the
 * model; a claim row in the database makes concurrent duplicates call the model once, across processes. The model
 * is never called inside a transaction. Thread-safe.
 */
public final class ChatService {
    private static final Logger LOG = LoggerFactory.getLogger(ChatService.class);

    private final Database db;
    private final ModelProvider provider;
    private final Clock clock;
    private final Supplier<String> ids;
    private final Duration claimTtl;
    private final AttemptLimiter anonymousLimiter;
    private final SessionRepository sessions = new SessionRepository();
    private final MessageRepository messages = new MessageRepository();
    private final ClaimRepository claims = new ClaimRepository();
    private final UserRepository users;

    /**
     * @param claimTtl how long a claim protects a message id; longer than the slowest model call, so that only a
     *                 process that died leaves one to expire
     */
    public ChatService(Database db, ModelProvider provider, Clock clock, Supplier<String> ids, Duration claimTtl,
                       int anonymousChatsPerMinute) {
        this.db = db;
        this.users = new UserRepository(db.dialect());
        this.provider = provider;
        this.clock = clock;
        this.ids = ids;
        this.claimTtl = claimTtl;
        this.anonymousLimiter = new AttemptLimiter(anonymousChatsPerMinute, clock);
    }

    /**
     * Answers one chat request.
     *
     * @param userId        the signed-in user, or {@code null} for an anonymous exchange that stores nothing
     * @param clientAddress keys the anonymous rate limit
     */
    public ChatResponse chat(String userId, ChatRequest request, String clientAddress) {
        Instant now = clock.instant();
        Exchange exchange = validate(request, now);
        if (userId == null) {
            return anonymous(exchange, clientAddress);
        }
        ChatResponse replay = db.inTransaction(c -> begin(c, userId, exchange, now));
        if (replay != null) {
            return replay;
        }
        Completion completion;
        try {
            completion = provider.complete(exchange.prompt());
        } catch (ModelException e) {
            boolean persisted = storeFailure(userId, exchange, e.getMessage());
            throw ApiException.modelFailure(e, persisted);
        } catch (RuntimeException e) {
            releaseQuietly(exchange);
            throw e;
        }
        return storeSuccess(userId, exchange, completion);
    }

    private ChatResponse anonymous(Exchange exchange, String clientAddress) {
        long wait = anonymousLimiter.tryAcquire(clientAddress);
        if (wait > 0) {
            throw new ApiException(ErrorCode.RATE_LIMITED,
                    "Too many messages without signing in. Try again in " + wait + " seconds, or sign in.", wait, false);
        }
        try {
            Completion completion = provider.complete(exchange.prompt());
            Message user = withTotal(exchange.userMessage(completion.inputTokens(), null));
            return new ChatResponse(user, withTotal(assistant(exchange, completion)), exchange.newSession(), false,
                    false);
        } catch (ModelException e) {
            throw ApiException.modelFailure(e, false);
        }
    }

    /**
     * Claims the message id, then decides between replay (the stored exchange is returned) and calling the model
     * for a new exchange or the retry of a failed message ({@code null}).
     */
    private ChatResponse begin(Connection c, String userId, Exchange exchange, Instant now) throws SQLException {
        users.lockForWrites(c, userId);
        Optional<StoredSession> session = sessions.find(c, exchange.sessionId());
        if (session.isPresent() && !session.get().userId().equals(userId)) {
            throw ApiException.notFound("No such session.");
        }
        if (session.isPresent() && session.get().deleted()) {
            throw new ApiException(ErrorCode.CONFLICT, "This conversation was deleted.");
        }
        if (!claims.tryClaim(c, exchange.messageId(), exchange.claimToken(), userId, now, now.plus(claimTtl))) {
            throw new ApiException(ErrorCode.IN_PROGRESS, "This message is being answered already.", 1L, null);
        }
        // Checked after claiming, so that an exchange finished by another process just now is seen and replayed.
        Optional<StoredMessage> stored = messages.find(c, exchange.messageId());
        if (stored.isEmpty()) {
            return null;
        }
        requireSameMessage(stored.get(), userId, exchange);
        Message user = stored.get().message();
        Optional<Message> reply = user.failed() ? Optional.empty() : messages.findReply(c, userId, user.id());
        if (reply.isPresent()) {
            claims.release(c, exchange.messageId(), exchange.claimToken());
            Session current = sessions.find(c, exchange.sessionId()).orElseThrow().session();
            return new ChatResponse(user, reply.get(), current, true, true);
        }
        return null;
    }

    /**
     * The stored message under this exchange's id, when the exchange may go on with it: the same user, session,
     * role and content (SPEC §4.2), and, for a success, the model that answered it. A success row is final, so a
     * request naming another model for it is a different message, not a replay; a failed row got no answer, so
     * asking another model is a plain retry (its {@code model} becomes the one that answers). A request naming no
     * model replays whatever answered.
     *
     * @throws ApiException {@code conflict} otherwise
     */
    private static Message requireSameMessage(StoredMessage stored, String userId, Exchange exchange) {
        if (PushService.conflictWith(stored, userId, exchange.userMessage(0, null)) != null) {
            throw new ApiException(ErrorCode.CONFLICT, "A different message with this id is stored.");
        }
        Message message = stored.message();
        String asked = exchange.request().model();
        if (!message.failed() && asked != null && message.model() != null && !asked.equals(message.model())) {
            throw new ApiException(ErrorCode.CONFLICT, "This message was answered by '" + message.model()
                    + "' already; send it as a new message to ask '" + asked + "'.");
        }
        return message;
    }

    private ChatResponse storeSuccess(String userId, Exchange exchange, Completion completion) {
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
                    } else if (requireSameMessage(current.get(), userId, exchange).failed()) {
                        messages.markSucceeded(c, user, now);
                        userAsStored = withTotal(withTimestamp(user, current.get().message().messageTimestamp()));
                    } else {
                        userAsStored = current.get().message();
                    }
                    inserter.insert(userId, assistant, now);
                }
                claims.release(c, exchange.messageId(), exchange.claimToken());
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

    /** Stores the user message as failed; true when it is on the server now. */
    private boolean storeFailure(String userId, Exchange exchange, String error) {
        try {
            db.inTransaction(c -> {
                users.lockForWrites(c, userId);
                Instant now = clock.instant();
                requireWritableSession(c, userId, exchange, now);
                Optional<StoredMessage> current = messages.find(c, exchange.messageId());
                if (current.isEmpty()) {
                    messages.insert(c, userId, exchange.userMessage(0, error), now);
                } else if (current.get().message().failed()) {
                    messages.refreshError(c, exchange.messageId(), error, now);
                }
                claims.release(c, exchange.messageId(), exchange.claimToken());
                return null;
            });
            return true;
        } catch (ApiException e) {
            releaseQuietly(exchange);
            return false; // the session went away meanwhile: nothing to store the failure in
        } catch (RuntimeException e) {
            LOG.error("failed message {} could not be stored", exchange.messageId(), e);
            releaseQuietly(exchange);
            return false;
        }
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

    private void releaseQuietly(Exchange exchange) {
        try {
            db.inTransaction(c -> {
                claims.release(c, exchange.messageId(), exchange.claimToken());
                return null;
            });
        } catch (RuntimeException e) {
            LOG.warn("claim on {} not released; it expires by itself: {}", exchange.messageId(), e.getMessage());
        }
    }

    private Message assistant(Exchange exchange, Completion completion) {
        // A reply never precedes its question, even when the client's clock runs ahead.
        Instant at = clock.instant();
        if (!at.isAfter(exchange.timestamp())) {
            at = exchange.timestamp().plusMillis(1);
        }
        return new Message(ids.get(), exchange.sessionId(), Role.ASSISTANT, storable(completion.content()),
                exchange.model(),
                0L, completion.outputTokens(), null, exchange.messageId(), at, completion.elapsedMs(), null,
                completion.completionId());
    }

    /**
     * A model's text as the store can hold it: unpaired surrogates and NUL (which PostgreSQL refuses) become
     * U+FFFD, so that the reply can be stored, and pushed back by a client, exactly as it was shown.
     */
    static String storable(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            boolean pair = Character.isHighSurrogate(ch) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            boolean bad = ch == 0 || (!pair && Character.isSurrogate(ch));
            if (bad && out == null) {
                out = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (out != null) {
                if (bad) {
                    out.append('\uFFFD');
                } else {
                    out.append(ch);
                    if (pair) {
                        out.append(text.charAt(++i));
                    }
                }
            } else if (pair) {
                i++;
            }
        }
        return out == null ? text : out.toString();
    }

    private static Message withTimestamp(Message m, Instant timestamp) {
        return new Message(m.id(), m.sessionId(), m.role(), m.content(), m.model(), m.inputTokens(), m.outputTokens(),
                m.totalTokens(), m.userMessageId(), timestamp, m.elapsedMs(), m.errorMessage(), m.completionId());
    }

    private static Message withTotal(Message m) {
        long total = (m.inputTokens() == null ? 0 : m.inputTokens()) + (m.outputTokens() == null ? 0 : m.outputTokens());
        return new Message(m.id(), m.sessionId(), m.role(), m.content(), m.model(), m.inputTokens(), m.outputTokens(),
                total, m.userMessageId(), m.messageTimestamp(), m.elapsedMs(), m.errorMessage(), m.completionId());
    }

    private Exchange validate(ChatRequest r, Instant now) {
        if (r == null) {
            throw ApiException.badRequest("the request body is required");
        }
        String problem = Validation.firstOf(
                Validation.id(r.sessionId(), "sessionId"),
                Validation.id(r.messageId(), "messageId"),
                Validation.text(r.content(), "content", Limits.MAX_CONTENT_CHARS, true),
                Validation.time(r.messageTimestamp(), "messageTimestamp"),
                r.content() != null && r.content().isBlank() ? "content must not be empty" : null,
                Validation.model(r.model()),
                r.sessionTitle() == null ? null : Validation.title(r.sessionTitle()),
                r.context().size() > Limits.MAX_CONTEXT_MESSAGES
                        ? "context holds at most " + Limits.MAX_CONTEXT_MESSAGES + " messages" : null);
        if (problem != null) {
            throw ApiException.badRequest(problem);
        }
        for (ContextMessage m : r.context()) {
            String contextProblem = m == null ? "context entries must be objects" : Validation.firstOf(
                    m.role() == null ? "context role is required" : null,
                    Validation.text(m.content(), "context content", Limits.MAX_CONTENT_CHARS, true));
            if (contextProblem != null) {
                throw ApiException.badRequest(contextProblem);
            }
        }
        String model = r.model() == null ? provider.defaultModel() : r.model();
        if (provider.models().stream().map(ModelInfo::id).noneMatch(model::equals)) {
            throw ApiException.badRequest("unknown model '" + model + "'; GET /api/models lists the available ones");
        }
        Instant timestamp = r.messageTimestamp() == null ? now : Validation.clamp(r.messageTimestamp(), now);
        return new Exchange(r, model, timestamp, ids.get());
    }

    /** A validated request with its defaults applied, and the token of this request's claim. */
    private record Exchange(ChatRequest request, String model, Instant timestamp, String claimToken) {
        String sessionId() {
            return request.sessionId();
        }

        String messageId() {
            return request.messageId();
        }

        Message userMessage(long inputTokens, String error) {
            return new Message(request.messageId(), request.sessionId(), Role.USER, request.content(), model,
                    inputTokens, 0L, null, null, timestamp, null, error, null);
        }

        Session newSession() {
            String title = request.sessionTitle() == null ? PushService.DEFAULT_TITLE : request.sessionTitle();
            return Session.of(request.sessionId(), title, request.sessionTitle() == null ? null : timestamp,
                    timestamp, null);
        }

        CompletionRequest prompt() {
            List<ContextMessage> prompt = new ArrayList<>(request.context());
            prompt.add(new ContextMessage(Role.USER, request.content()));
            return new CompletionRequest(model, prompt);
        }
    }
}
