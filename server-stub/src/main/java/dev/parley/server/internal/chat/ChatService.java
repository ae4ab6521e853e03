package dev.parley.server.internal.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.RegenerateRequest;
import dev.parley.protocol.Role;
import dev.parley.protocol.StorableText;
import dev.parley.protocol.Session;
import dev.parley.protocol.StreamStart;
import dev.parley.server.Completion;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.auth.AttemptLimiter;
import dev.parley.server.internal.chat.LiveReply.Outcome;
import dev.parley.server.internal.model.ActiveModels;
import dev.parley.server.internal.signal.ChangeSignals;
import dev.parley.server.internal.signal.Topics;
import dev.parley.server.internal.store.ClaimRepository;
import dev.parley.server.internal.store.ClaimRepository.Claim;
import dev.parley.server.internal.store.ClaimRepository.NewClaim;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.MessageRepository;
import dev.parley.server.internal.store.SessionRepository;
import dev.parley.server.internal.store.StoredMessage;
import dev.parley.server.internal.store.StoredSession;
import dev.parley.server.internal.store.UsageRepository;
import dev.parley.server.internal.store.UserRepository;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/chat}, re-attach and stop (SPEC §5.1, §5.3): the life of an exchange with the model. A signed-in
 * exchange claims its message id in the database (which makes concurrent duplicates, on any process, call the model
 * once), then runs detached from the request that started it: a JSON request waits for its outcome, a stream
 * follows its text, and neither going away stops it. A known message id is replayed without calling the model. The
 * model is never called inside a transaction. Thread-safe; the owner closes it.
 */
public final class ChatService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChatService.class);
    /** The error text of a user message whose reply was stopped before its first word. */
    public static final String STOPPED_BEFORE_REPLY = "Stopped before the reply began";
    /** Live generations one user may have at once, on all processes together. */
    public static final int MAX_LIVE_PER_USER = 4;

    private final Database db;
    private final ActiveModels models;
    private final ChangeSignals signals;
    private final Clock clock;
    private final Supplier<String> ids;
    private final ObjectMapper json;
    private final AttemptLimiter anonymousLimiter;
    private final SessionRepository sessions = new SessionRepository();
    private final MessageRepository messages = new MessageRepository();
    private final ClaimRepository claims = new ClaimRepository();
    private final UserRepository users;
    private final UsageRepository usage;
    private final long dailyTokenBudget;
    private final ExchangeWriter writer;
    private final Generations generations;
    private final RemoteReplies remote;

    /** What a stream follows, and what to do when its client goes away. */
    public record Followed(LiveReply reply, Runnable onLeave) {
    }

    /**
     * @param models     the providers the exchanges answer with: each exchange keeps the one current when it began
     * @param claimLapse how long a claim lives unrenewed; the process running a generation renews it five times in
     *                   that time, so only a process that died lets one lapse
     * @param flushEvery how often a generation's new text is written where other processes read it
     * @param dailyTokenBudget the most {@code total_tokens} a user's exchanges may reach per UTC day before new
     *                   ones are refused; 0 for no cap
     */
    public ChatService(Database db, ActiveModels models, ChangeSignals signals, Clock clock, Supplier<String> ids,
                       Duration claimLapse, Duration flushEvery, int anonymousChatsPerMinute, ObjectMapper json,
                       long dailyTokenBudget) {
        this.db = db;
        this.usage = new UsageRepository(db.dialect(), json);
        this.dailyTokenBudget = dailyTokenBudget;
        this.users = new UserRepository(db.dialect());
        this.models = models;
        this.signals = signals;
        this.clock = clock;
        this.ids = ids;
        this.json = json;
        this.anonymousLimiter = new AttemptLimiter(anonymousChatsPerMinute, clock);
        this.writer = new ExchangeWriter(db, signals, clock);
        this.generations = new Generations(db, signals, clock, claimLapse, flushEvery, this::lose,
                this::sweepLapsed);
        this.remote = new RemoteReplies(db, signals, clock, generations::execute, this::endedOutcome,
                id -> interrupted());
    }

    /**
     * Answers one chat request as JSON: completes with the Chat response, or exceptionally with an
     * {@link ApiException} that says whether the message was stored.
     *
     * @param userId        the signed-in user, or {@code null} for an anonymous exchange that stores nothing
     * @param clientAddress keys the anonymous rate limit
     */
    public CompletableFuture<ChatResponse> chat(String userId, ChatRequest request, String clientAddress) {
        Instant now = clock.instant();
        Exchange exchange = validate(request, now);
        try {
            if (userId == null) {
                exchange.requireOfferedModel(); // nothing is stored for an anonymous exchange: nothing to replay
                limitAnonymous(clientAddress);
                return anonymous(exchange).reply().finished().thenApply(ChatService::responseOf);
            }
            return begin(userId, exchange, now).finished().thenApply(ChatService::responseOf);
        } catch (RuntimeException refused) {
            exchange.models().release(); // refused before any generation began
            throw refused;
        }
    }

    /**
     * Starts one exchange as a stream. Refusals before it starts (bad request, in progress, rate limited) are
     * thrown as {@link ApiException}s.
     */
    public Followed stream(String userId, ChatRequest request, String clientAddress) {
        Instant now = clock.instant();
        Exchange exchange = validate(request, now);
        try {
            if (userId == null) {
                exchange.requireOfferedModel();
                limitAnonymous(clientAddress);
                return anonymous(exchange);
            }
            return new Followed(begin(userId, exchange, now), () -> { });
        } catch (RuntimeException refused) {
            exchange.models().release(); // refused before any generation began
            throw refused;
        }
    }

    /**
     * Answers a regenerate (SPEC §5.4) as JSON: another reply to a stored user message, under the request's
     * {@code replyId}; a known {@code replyId} is replayed. Completes as {@link #chat} does.
     */
    public CompletableFuture<ChatResponse> regenerate(String userId, RegenerateRequest request) {
        return beginRegenerate(userId, request).finished().thenApply(ChatService::responseOf);
    }

    /** Starts a regenerate as a stream; refusals before it starts are thrown, as {@link #stream} does. */
    public Followed streamRegenerate(String userId, RegenerateRequest request) {
        return new Followed(beginRegenerate(userId, request), () -> { });
    }

    private LiveReply beginRegenerate(String userId, RegenerateRequest request) {
        Exchange exchange = validateRegenerate(userId, request);
        try {
            return begin(userId, exchange, clock.instant());
        } catch (RuntimeException refused) {
            exchange.models().release(); // refused before any generation began
            throw refused;
        }
    }

    /**
     * Re-attaches to the reply to {@code messageId} — the one {@code replyId} names, when it is not {@code null}
     * (a regenerated reply) — live on this or another process, or finished.
     *
     * @throws ApiException {@code not_found} for an id of another user or one the server holds no trace of
     */
    public Followed reattach(String userId, String messageId, String replyId) {
        Optional<Generations.Running> local = localGeneration(userId, messageId, replyId);
        if (local.isPresent()) {
            return new Followed(local.get().reply, () -> { });
        }
        Found found = db.read(c -> find(c, userId, messageId, replyId));
        return found.state() == State.LIVE ? remote.attach(found.claim(), startOf(found.claim()))
                : new Followed(finished(found), () -> { });
    }

    /**
     * Stops the live generation of {@code messageId} (of its reply {@code replyId}, when not {@code null}) on
     * whichever process runs it; completes with the Chat response once the partial reply is stored (its
     * {@code assistantMessage} is {@code null} when the stop came before any text). A finished exchange answers
     * with what is stored.
     */
    public CompletableFuture<ChatResponse> stop(String userId, String messageId, String replyId) {
        Optional<Generations.Running> local = localGeneration(userId, messageId, replyId);
        if (local.isPresent()) {
            local.get().stop();
            return local.get().reply.finished().thenApply(ChatService::responseOf);
        }
        Found found = db.inTransaction(c -> {
            Found f = find(c, userId, messageId, replyId);
            if (f.state() == State.LIVE) {
                claims.requestStop(c, f.claim().messageId(), clock.instant());
                signals.announce(c, Topics.reply(f.claim().messageId()));
            }
            return f;
        });
        if (found.state() == State.FAILED) { // nothing is being generated: what is stored is the answer
            return CompletableFuture.completedFuture(new ChatResponse(found.user(), null, found.session(), true,
                    false));
        }
        if (found.state() != State.LIVE) {
            return CompletableFuture.completedFuture(responseOf(finished(found).outcome()));
        }
        Followed mirror = remote.attach(found.claim(), startOf(found.claim()));
        // The holder stops within a heartbeat; if it died instead, its claim lapses and the mirror says so.
        return mirror.reply().finished()
                .completeOnTimeout(interrupted(), generations.lapse().toMillis() * 2, TimeUnit.MILLISECONDS)
                .whenComplete((outcome, failure) -> mirror.onLeave().run())
                .thenApply(ChatService::responseOf);
    }

    /** Live generations this process runs now. */
    public int liveGenerations() {
        return generations.count();
    }

    /**
     * The generation this process runs for the user's message (its reply {@code replyId}, when named): a
     * regenerate runs under its reply's id, a chat under its message's.
     */
    private Optional<Generations.Running> localGeneration(String userId, String messageId, String replyId) {
        Optional<Generations.Running> running = Optional.empty();
        if (replyId != null) {
            running = generations.local(replyId);
        }
        if (running.isEmpty()) {
            running = generations.local(messageId)
                    .filter(g -> replyId == null || replyId.equals(g.reply.start().replyId()));
        }
        return running.filter(g -> g.userId.equals(userId));
    }

    private enum State { LIVE, REPLY, FAILED, INTERRUPTED }

    /** What the database holds about one message id of the user. */
    private record Found(State state, Message user, Message reply, Session session, Claim claim) {
    }

    /**
     * What the database holds about the reply {@code replyId} to the user's message {@code messageId}: stored,
     * live (as a regenerate, or as the message's own exchange), or gone. A regenerate leaves nothing behind when it
     * fails (its user message succeeded, and stays so), so a named reply that is neither stored nor live, to a
     * stored answered message, was interrupted.
     */
    private Found find(Connection c, String userId, String messageId, String replyId) throws SQLException {
        if (replyId == null) {
            return find(c, userId, messageId);
        }
        Optional<StoredMessage> reply = messages.find(c, replyId);
        if (reply.isPresent()) {
            Message r = reply.get().message();
            if (!reply.get().userId().equals(userId) || r.role() != Role.ASSISTANT
                    || !messageId.equals(r.userMessageId())) {
                throw ApiException.notFound("No such reply.");
            }
            Message user = messages.find(c, messageId).orElseThrow().message();
            Session session = sessions.find(c, user.sessionId()).orElseThrow().session();
            return new Found(State.REPLY, user, r, session, null);
        }
        Optional<Claim> regenerate = claims.find(c, replyId);
        if (regenerate.isPresent()) {
            if (!regenerate.get().userId().equals(userId)) {
                throw ApiException.notFound("No such reply.");
            }
            boolean live = !regenerate.get().lapsed(clock.instant()) && regenerate.get().startEvent() != null;
            return new Found(live ? State.LIVE : State.INTERRUPTED, null, null, null, regenerate.get());
        }
        Optional<Claim> own = claims.find(c, messageId);
        if (own.isPresent() && own.get().userId().equals(userId) && !replyId.equals(own.get().replyId())) {
            own = Optional.empty(); // the message's own exchange makes another reply than the one asked for
        }
        Optional<StoredMessage> user = messages.find(c, messageId);
        if (own.isEmpty() && user.isPresent() && user.get().userId().equals(userId)
                && user.get().message().role() == Role.USER && !user.get().message().failed()) {
            return new Found(State.INTERRUPTED, user.get().message(), null, null, null);
        }
        return find(c, userId, messageId);
    }

    private Found find(Connection c, String userId, String messageId) throws SQLException {
        Optional<StoredMessage> stored = messages.find(c, messageId);
        Optional<Claim> claim = claims.find(c, messageId);
        if (stored.isPresent() && !stored.get().userId().equals(userId)
                || claim.isPresent() && !claim.get().userId().equals(userId)
                || stored.isPresent() && stored.get().message().role() != dev.parley.protocol.Role.USER) {
            throw ApiException.notFound("No such message.");
        }
        if (stored.isPresent() && !stored.get().message().failed()) {
            Optional<Message> reply = messages.findReply(c, userId, messageId);
            if (reply.isPresent()) {
                Session session = sessions.find(c, stored.get().message().sessionId()).orElseThrow().session();
                return new Found(State.REPLY, stored.get().message(), reply.get(), session, null);
            }
        }
        if (claim.isPresent() && !claim.get().lapsed(clock.instant()) && claim.get().startEvent() != null) {
            return new Found(State.LIVE, null, null, null, claim.get());
        }
        if (claim.isEmpty() && stored.isPresent() && stored.get().message().failed()) {
            Session session = sessions.find(c, stored.get().message().sessionId()).orElseThrow().session();
            return new Found(State.FAILED, stored.get().message(), null, session, null);
        }
        if (claim.isPresent() || stored.isPresent()) {
            return new Found(State.INTERRUPTED, stored.map(StoredMessage::message).orElse(null), null, null, null);
        }
        throw ApiException.notFound("No such message.");
    }

    /** A finished exchange as a reply that is over: its text and its outcome. */
    private LiveReply finished(Found found) {
        Message user = found.user();
        LiveReply reply = new LiveReply(user == null ? null : new StreamStart(user, found.session(),
                found.reply() == null ? null : found.reply().id(), found.state() == State.REPLY));
        switch (found.state()) {
            case REPLY -> {
                reply.append(found.reply().content());
                reply.finish(new Outcome.Done(new ChatResponse(user, found.reply(), found.session(), true, true)));
            }
            case FAILED -> reply.finish(failedOutcome(user, found.session()));
            default -> reply.finish(interrupted());
        }
        return reply;
    }

    /**
     * The outcome of a generation that ended on another process, as the stored rows tell it. {@code claimKey} is
     * a chat's message id, or a regenerate's reply id: a regenerate that stored no reply failed or was stopped
     * before its first word, which its rows cannot tell apart, so it reads as interrupted (retryable).
     */
    private Outcome endedOutcome(String claimKey) {
        Found found;
        try {
            found = db.read(c -> {
                Optional<StoredMessage> stored = messages.find(c, claimKey);
                if (stored.isEmpty()) {
                    return null;
                }
                Message row = stored.get().message();
                return row.role() == Role.ASSISTANT && row.userMessageId() != null
                        ? find(c, stored.get().userId(), row.userMessageId(), claimKey)
                        : find(c, stored.get().userId(), claimKey);
            });
        } catch (ApiException e) {
            return interrupted();
        }
        if (found == null) {
            return interrupted();
        }
        return switch (found.state()) {
            case REPLY -> new Outcome.Done(new ChatResponse(found.user(), found.reply(), found.session(), true,
                    false));
            case FAILED -> failedOutcome(found.user(), found.session());
            default -> interrupted();
        };
    }

    /** A stored failed message: stopped before its reply began (a done exchange), or the model's failure. */
    private static Outcome failedOutcome(Message user, Session session) {
        if (STOPPED_BEFORE_REPLY.equals(user.errorMessage())) {
            return new Outcome.Done(new ChatResponse(user, null, session, true, false));
        }
        return new Outcome.Failed(new ApiException(ErrorCode.INTERRUPTED,
                "The reply failed: " + user.errorMessage() + " Send the message again.", null, true));
    }

    private static Outcome interrupted() {
        return new Outcome.Failed(new ApiException(ErrorCode.INTERRUPTED,
                "The server answering this message stopped before the reply was finished. Send it again.", 1L,
                false));
    }

    private StreamStart startOf(Claim claim) {
        try {
            return json.readValue(claim.startEvent(), StreamStart.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a claim's start event is written by this server and always reads", e);
        }
    }

    private static ChatResponse responseOf(Outcome outcome) {
        if (outcome instanceof Outcome.Done done) {
            return done.response();
        }
        throw ((Outcome.Failed) outcome).error();
    }

    private void limitAnonymous(String clientAddress) {
        long wait = anonymousLimiter.tryAcquire(AttemptLimiter.addressKey(clientAddress));
        if (wait > 0) {
            throw new ApiException(ErrorCode.RATE_LIMITED,
                    "Too many messages without signing in. Try again in " + wait + " seconds, or sign in.", wait, false);
        }
    }

    /** An anonymous exchange: nothing is claimed or stored, and the client leaving stops it. */
    private Followed anonymous(Exchange exchange) {
        Message question = ExchangeWriter.withTotal(exchange.userMessage(0, null));
        LiveReply reply = new LiveReply(new StreamStart(question, exchange.newSession(), exchange.replyId(), false));
        AtomicReference<ModelStream> model = new AtomicReference<>();
        AtomicBoolean left = new AtomicBoolean();
        generations.execute(() -> {
            ModelStream stream;
            try {
                stream = exchange.models().provider().stream(exchange.prompt(),
                        piece -> reply.append(StorableText.of(piece)));
            } catch (RuntimeException e) {
                LOG.error("the model call of an anonymous exchange failed unexpectedly", e);
                exchange.models().release();
                reply.finish(new Outcome.Failed(failureOf(e, false)));
                return;
            }
            model.set(stream);
            if (left.get()) {
                stream.cancel();
            }
            stream.result().whenCompleteAsync((completion, failure) -> {
                exchange.models().release();
                if (failure != null) {
                    reply.finish(new Outcome.Failed(failureOf(failure, false)));
                } else {
                    Message user = ExchangeWriter.withTotal(exchange.userMessage(completion.inputTokens(), null));
                    Message assistant = ExchangeWriter.withTotal(writer.assistant(exchange, completion));
                    reply.finish(new Outcome.Done(new ChatResponse(user, assistant, exchange.newSession(), false,
                            false)));
                }
            }, generations::execute);
        });
        return new Followed(reply, () -> {
            left.set(true);
            ModelStream stream = model.get();
            if (stream != null) {
                stream.cancel();
            }
        });
    }

    /**
     * Claims the message id, then either replays the stored exchange (a finished reply) or starts a generation
     * for a new exchange or the retry of a failed message.
     */
    private LiveReply begin(String userId, Exchange exchange, Instant now) {
        Begun begun = db.inTransaction(c -> claim(c, userId, exchange, clock.instant()));
        if (begun.replay() != null) {
            exchange.models().release(); // the model is not called
            return finished(begun.replay());
        }
        LiveReply reply = new LiveReply(begun.start());
        Generations.Running generation = new Generations.Running(exchange.claimKey(), userId, exchange.claimToken(),
                reply, now);
        generations.start(generation, () -> generate(userId, exchange, generation));
        return reply;
    }

    /** A claimed exchange: the stored one to replay, or the start of a new generation. */
    private record Begun(Found replay, StreamStart start) {
    }

    private Begun claim(Connection c, String userId, Exchange exchange, Instant now) throws SQLException {
        if (exchange.regenerate()) {
            return claimRegenerate(c, userId, exchange, now);
        }
        users.lockForWrites(c, userId);
        Optional<StoredSession> session = sessions.find(c, exchange.sessionId());
        if (session.isPresent() && !session.get().userId().equals(userId)) {
            throw ApiException.notFound("No such session.");
        }
        if (session.isPresent() && session.get().deleted()) {
            throw new ApiException(ErrorCode.CONFLICT, "This conversation was deleted.");
        }
        Session shown = session.map(StoredSession::session).orElse(exchange.newSession());
        StreamStart start = new StreamStart(ExchangeWriter.withTotal(exchange.userMessage(0, null)), shown,
                exchange.replyId(), false);
        NewClaim claim = new NewClaim(exchange.messageId(), exchange.claimToken(), userId, exchange.sessionId(),
                exchange.replyId(),
                generations.holder(), startEvent(start));
        claimOrRefuse(c, claim, now, "This message is being answered already.");
        // Checked after claiming, so that an exchange finished by another process just now is seen and replayed.
        Optional<StoredMessage> stored = messages.find(c, exchange.messageId());
        if (stored.isPresent()) {
            requireSameMessage(stored.get(), userId, exchange);
            Message user = stored.get().message();
            Optional<Message> reply = user.failed() ? Optional.empty() : replyToReplay(c, userId, exchange);
            if (reply.isPresent()) {
                claims.release(c, exchange.claimKey(), exchange.claimToken());
                Session current = sessions.find(c, exchange.sessionId()).orElseThrow().session();
                return new Begun(new Found(State.REPLY, user, reply.get(), current, null), null);
            }
        }
        requireFreeReplyId(c, exchange);
        requireRoomForGeneration(c, userId, exchange, now);
        return new Begun(null, start);
    }

    /**
     * Claims {@code claim} for this process, announcing to the user's other devices that a generation started
     * (SPEC §5.5), or refuses with {@code in_progress} and {@code busy} while another holds it.
     */
    private void claimOrRefuse(Connection c, NewClaim claim, Instant now, String busy) throws SQLException {
        if (!claims.tryClaim(c, claim, now, now.plus(generations.lapse()))) {
            throw new ApiException(ErrorCode.IN_PROGRESS, busy, 1L, null);
        }
        signals.announce(c, Topics.user(claim.userId()));
    }

    /**
     * Claims a regenerate under its reply's id, after checking (again, now in the transaction) that the message
     * it answers is the user's stored, successful user message of a live conversation. A known reply id is
     * replayed.
     */
    private Begun claimRegenerate(Connection c, String userId, Exchange exchange, Instant now) throws SQLException {
        users.lockForWrites(c, userId);
        Message user = storedQuestion(c, userId, exchange.request().sessionId(), exchange.messageId());
        StoredSession session = sessions.find(c, exchange.sessionId()).orElseThrow();
        if (session.deleted()) {
            throw new ApiException(ErrorCode.CONFLICT, "This conversation was deleted.");
        }
        StreamStart start = new StreamStart(user, session.session(), exchange.replyId(), false);
        NewClaim claim = new NewClaim(exchange.claimKey(), exchange.claimToken(), userId, exchange.sessionId(),
                exchange.replyId(), generations.holder(), startEvent(start));
        claimOrRefuse(c, claim, now, "This reply is being written already.");
        Optional<StoredMessage> stored = messages.find(c, exchange.replyId());
        if (stored.isPresent()) {
            Message reply = stored.get().message();
            if (!stored.get().userId().equals(userId) || reply.role() != Role.ASSISTANT
                    || !exchange.messageId().equals(reply.userMessageId())) {
                throw new ApiException(ErrorCode.CONFLICT, "A different message with this replyId is stored.");
            }
            claims.release(c, exchange.claimKey(), exchange.claimToken());
            return new Begun(new Found(State.REPLY, user, reply, session.session(), null), null);
        }
        requireRoomForGeneration(c, userId, exchange, now);
        return new Begun(null, start);
    }

    /**
     * The user's stored, successful user message {@code messageId} of conversation {@code sessionId}: what a
     * regenerate answers again.
     *
     * @throws ApiException {@code not_found} when there is none (or it is another user's), {@code conflict} when it
     *                      failed: a failed message is tried again, not regenerated
     */
    private Message storedQuestion(Connection c, String userId, String sessionId, String messageId)
            throws SQLException {
        Optional<StoredMessage> stored = messages.find(c, messageId);
        if (stored.isEmpty() || !stored.get().userId().equals(userId)
                || stored.get().message().role() != Role.USER
                || !stored.get().message().sessionId().equals(sessionId)) {
            throw ApiException.notFound("No such message in this conversation.");
        }
        if (stored.get().message().failed()) {
            throw new ApiException(ErrorCode.CONFLICT,
                    "This message has no reply to regenerate yet: send it again instead.");
        }
        return stored.get().message();
    }

    /**
     * The stored reply a chat request for an answered message replays: the one its {@code replyId} names, else
     * the message's first reply (the one its own exchange produced, before any regenerate).
     */
    private Optional<Message> replyToReplay(Connection c, String userId, Exchange exchange) throws SQLException {
        if (exchange.request().replyId() != null) {
            Optional<StoredMessage> named = messages.find(c, exchange.replyId());
            if (named.isPresent() && named.get().userId().equals(userId)
                    && exchange.messageId().equals(named.get().message().userMessageId())) {
                return Optional.of(named.get().message());
            }
        }
        return messages.findReply(c, userId, exchange.messageId());
    }

    /** Refuses a client's reply id that is already another row: the reply could never be stored under it. */
    private void requireFreeReplyId(Connection c, Exchange exchange) throws SQLException {
        if (exchange.request().replyId() != null && messages.find(c, exchange.replyId()).isPresent()) {
            throw new ApiException(ErrorCode.CONFLICT, "A different message with this replyId is stored.");
        }
    }

    /** What a new generation needs, checked in the claiming transaction: thrown, the claim is not kept. */
    private void requireRoomForGeneration(Connection c, String userId, Exchange exchange, Instant now)
            throws SQLException {
        exchange.requireOfferedModel();
        requireBudgetLeft(c, userId, now);
        if (claims.countLive(c, userId, exchange.claimKey(), now) >= MAX_LIVE_PER_USER) {
            throw new ApiException(ErrorCode.RATE_LIMITED, "You have " + MAX_LIVE_PER_USER
                    + " replies being written already. Wait for one to finish, or stop one.", 2L, false);
        }
    }

    /**
     * Refuses a new exchange once the user's {@code total_tokens} for today (UTC) has reached the daily budget
     * (SPEC §8). Read from the exact {@code user_usage_daily}, which counts stored exchanges only: exchanges still
     * being answered are not in it yet, so the day's total can pass the budget by what those spend (at most
     * {@link #MAX_LIVE_PER_USER} of them). A replay never gets here: it costs nothing.
     */
    private void requireBudgetLeft(Connection c, String userId, Instant now) throws SQLException {
        if (dailyTokenBudget <= 0) {
            return;
        }
        LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
        long spent = usage.totalTokens(c, userId, today);
        if (spent >= dailyTokenBudget) {
            throw new ApiException(ErrorCode.QUOTA_EXCEEDED, "You have used today's " + dailyTokenBudget
                    + " tokens on this server (" + spent + " so far). New messages can be sent again after midnight"
                    + " UTC.", null, false);
        }
    }

    private String startEvent(StreamStart start) {
        try {
            return json.writeValueAsString(start);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a start event always serializes", e);
        }
    }

    /** Runs on a model-call thread: starts the model's stream and stores its outcome when it ends. */
    private void generate(String userId, Exchange exchange, Generations.Running generation) {
        ModelStream stream;
        try {
            stream = exchange.models().provider().stream(exchange.prompt(),
                    piece -> generation.reply.append(StorableText.of(piece)));
        } catch (RuntimeException e) {
            conclude(userId, exchange, generation, null, e);
            return;
        }
        generation.attach(stream);
        // Stored off the provider's thread, which may be one shared timer or an HTTP client's dispatcher.
        stream.result().whenCompleteAsync((completion, failure) -> conclude(userId, exchange, generation, completion,
                failure), generations::execute);
    }

    /** Stores the outcome of a generation, then lets go of its provider: a replaced one is done with it. */
    private void conclude(String userId, Exchange exchange, Generations.Running generation, Completion completion,
                          Throwable failure) {
        try {
            store(userId, exchange, generation, completion, failure);
        } finally {
            exchange.models().release();
        }
    }

    private void store(String userId, Exchange exchange, Generations.Running generation, Completion completion,
                       Throwable failure) {
        generations.ended(generation);
        LiveReply reply = generation.reply;
        if (generation.abandoned()) {
            reply.finish(interrupted()); // the claim is another's now, or this process is closing
            return;
        }
        if (exchange.regenerate()) {
            storeRegenerated(userId, exchange, reply, completion, failure);
            return;
        }
        if (failure != null) {
            Throwable cause = causeOf(failure);
            if (cause instanceof ModelException model) {
                boolean persisted = writer.storeFailure(userId, exchange, model.getMessage()).isPresent();
                reply.finish(new Outcome.Failed(ApiException.modelFailure(model, persisted)));
            } else {
                LOG.error("the model call for message {} failed unexpectedly", exchange.messageId(), cause);
                writer.releaseQuietly(exchange);
                reply.finish(new Outcome.Failed(failureOf(cause, false)));
            }
            return;
        }
        if (completion.content().isEmpty() && completion.finishReason() == FinishReason.STOPPED) {
            Optional<Session> session = writer.storeFailure(userId, exchange, STOPPED_BEFORE_REPLY);
            Message user = ExchangeWriter.withTotal(exchange.userMessage(0, STOPPED_BEFORE_REPLY));
            reply.finish(new Outcome.Done(new ChatResponse(user, null, session.orElse(exchange.newSession()),
                    session.isPresent(), false)));
            return;
        }
        try {
            reply.finish(new Outcome.Done(writer.storeSuccess(userId, exchange, completion)));
        } catch (ApiException e) {
            reply.finish(new Outcome.Failed(new ApiException(e.code(), e.getMessage(), e.retryAfterSeconds(), false)));
        }
    }

    /**
     * Stores the outcome of a regenerate: a new reply, or nothing. Its user message succeeded and stays so, so a
     * failure, or a stop before the first word, only releases the claim ({@code persisted:false}: nothing was
     * stored, and the same reply id may be sent again).
     */
    private void storeRegenerated(String userId, Exchange exchange, LiveReply reply, Completion completion,
                                  Throwable failure) {
        StreamStart start = reply.start();
        if (failure != null) {
            writer.releaseQuietly(exchange);
            Throwable cause = causeOf(failure);
            if (!(cause instanceof ModelException)) {
                LOG.error("the model call regenerating reply {} failed unexpectedly", exchange.replyId(), cause);
            }
            reply.finish(new Outcome.Failed(failureOf(cause, false)));
            return;
        }
        if (completion.content().isEmpty() && completion.finishReason() == FinishReason.STOPPED) {
            writer.releaseQuietly(exchange);
            reply.finish(new Outcome.Done(new ChatResponse(start.userMessage(), null, start.session(), false, false)));
            return;
        }
        try {
            reply.finish(new Outcome.Done(writer.storeRegenerated(userId, exchange, start.userMessage(), completion)));
        } catch (ApiException e) {
            reply.finish(new Outcome.Failed(new ApiException(e.code(), e.getMessage(), e.retryAfterSeconds(), false)));
        }
    }

    /**
     * Turns claims that lapsed a while ago (their process died, and nobody sent the message again) into what a
     * failed exchange leaves: the user message stored as failed, so that it can be tried again and re-attaching
     * answers {@code interrupted}, and no claim, with the text it held, stays behind. Any process may sweep; the
     * claim's token makes one of them do each.
     */
    private void sweepLapsed() {
        Instant cutoff = clock.instant().minus(generations.lapse());
        for (Claim claim : db.read(c -> claims.lapsedBefore(c, cutoff, 100))) {
            writer.reap(claim, claim.startEvent() == null ? null : startOf(claim));
        }
    }

    /** Ends a generation whose claim another process took over after it lapsed here. */
    private void lose(Generations.Running generation) {
        generation.abandon();
        generation.reply.finish(interrupted());
    }

    /** What a future's failure was: a {@link CompletionException} says only where it passed. */
    private static Throwable causeOf(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private static ApiException failureOf(Throwable failure, boolean persisted) {
        Throwable cause = causeOf(failure);
        if (cause instanceof ModelException model) {
            return ApiException.modelFailure(model, persisted);
        }
        if (cause instanceof ApiException api) {
            return api;
        }
        return new ApiException(ErrorCode.INTERNAL, "Something went wrong on the server. Try again later.", null,
                persisted);
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
    static Message requireSameMessage(StoredMessage stored, String userId, Exchange exchange) {
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
                Validation.temperature(r.temperature()),
                Validation.maxTokens(r.maxTokens()),
                Validation.parent(r.parentId(), r.messageId()),
                r.replyId() == null ? null : replyIdProblem(r.replyId(), r.messageId()),
                contextProblem(r.context()));
        if (problem != null) {
            throw ApiException.badRequest(problem);
        }
        Instant timestamp = r.messageTimestamp() == null ? now : Validation.clamp(r.messageTimestamp(), now);
        return exchange(r, r.model(), timestamp, r.replyId() == null ? ids.get() : r.replyId(), false);
    }

    /**
     * A regenerate as an exchange: the stored user message it answers again, with the request's context and
     * parameters. Read here to build the model's prompt, and checked again in the claiming transaction.
     */
    private Exchange validateRegenerate(String userId, RegenerateRequest r) {
        if (r == null) {
            throw ApiException.badRequest("the request body is required");
        }
        String problem = Validation.firstOf(
                Validation.id(r.sessionId(), "sessionId"),
                Validation.id(r.messageId(), "messageId"),
                r.replyId() == null ? "replyId is required" : replyIdProblem(r.replyId(), r.messageId()),
                Validation.model(r.model()),
                Validation.temperature(r.temperature()),
                Validation.maxTokens(r.maxTokens()),
                contextProblem(r.context()));
        if (problem != null) {
            throw ApiException.badRequest(problem);
        }
        Message question = db.read(c -> storedQuestion(c, userId, r.sessionId(), r.messageId()));
        ChatRequest asked = new ChatRequest(r.sessionId(), r.messageId(), question.content(), r.model(),
                question.messageTimestamp(), null, r.temperature(), r.maxTokens(), r.context(), question.parentId(),
                r.replyId());
        return exchange(asked, r.model(), question.messageTimestamp(), r.replyId(), true);
    }

    private static String replyIdProblem(String replyId, String messageId) {
        String problem = Validation.id(replyId, "replyId");
        return problem != null ? problem
                : replyId.equals(messageId) ? "replyId must differ from messageId" : null;
    }

    /** Why a chat context may not be sent to the model, or {@code null}. */
    private static String contextProblem(List<ContextMessage> context) {
        if (context.size() > Limits.MAX_CONTEXT_MESSAGES) {
            return "context holds at most " + Limits.MAX_CONTEXT_MESSAGES + " messages";
        }
        for (int i = 0; i < context.size(); i++) {
            ContextMessage m = context.get(i);
            // The chat's system prompt comes first, with role system (SPEC §5.0), and has the system prompt's limit.
            boolean systemPrompt = i == 0 && m != null && m.role() == Role.SYSTEM;
            String problem = m == null ? "context entries must be objects" : Validation.firstOf(
                    m.role() == null ? "context role is required" : null,
                    systemPrompt
                            ? Validation.text(m.content(), "the system prompt (context[0])",
                                    Limits.MAX_SYSTEM_PROMPT_CHARS, true)
                            : Validation.text(m.content(), "context content", Limits.MAX_CONTENT_CHARS, true));
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    private Exchange exchange(ChatRequest r, String askedModel, Instant timestamp, String replyId,
                              boolean regenerate) {
        // The exchange keeps this provider to its end, even when the server is given others meanwhile.
        ActiveModels.Lease lease = models.lease();
        ModelProvider provider = lease.provider();
        String model = askedModel == null ? provider.defaultModel() : askedModel;
        // A model no longer offered can still replay an answered message (a lost answer after its provider was
        // removed): it is refused only when the model would be called (Exchange.requireOfferedModel).
        boolean offered = provider.models().stream().map(ModelInfo::id).anyMatch(model::equals);
        return new Exchange(r, model, timestamp, ids.get(), replyId, lease, offered, regenerate);
    }

    @Override
    public void close() {
        generations.close();
    }
}
