package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RegenerateRequest;
import dev.parley.protocol.RenameRequest;
import dev.parley.protocol.Role;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.Session;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.ReplayableSeed;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;
import net.jqwik.api.statistics.Statistics;

/**
 * SPEC §4.1 under random traffic: any sequence of chats (answered, failed, replayed, retried), pushes (new rows,
 * failed rows, batches pushed again, failed→success, conflicting rows, replies to failed messages, rows into
 * deleted, foreign or unknown sessions), renames and deletes by two users leaves every counter equal to its
 * recomputation. Besides the server's own check ({@link AnalyticsVerifier}), a reference model kept here predicts
 * every response and the totals each user's {@code user_usage_daily} rows must add up to, so the property does not
 * rest on the server's view alone.
 *
 * <p>Replaying a failure: the failure's message begins with the seed of the run ({@link ReplayableSeed}), and
 * every run's seed is printed as {@code seed = …} in {@code target/surefire-reports/*-output.txt} (PostgreSQL's
 * run: {@code target/surefire-reports-postgresql/}). Run the same actions again with
 * {@code mvn -B -o -pl server-stub test -Dtest=AnalyticsPropertyTest -Dparley.jqwik.seed=SEED} (add
 * {@code -Dparley.skip.postgresql=true} when it failed on SQLite), or, while debugging, with
 * {@code @Property(tries = 25, seed = "SEED")}, never committed. Without a seed, a local run first tries the last
 * failure's shrunk sample, which jqwik keeps in {@code target/jqwik-database} ({@code jqwik.failures.after.default}
 * in {@code junit-platform.properties}).
 */
@AddLifecycleHook(ReplayableSeed.class)
class AnalyticsPropertyTest {
    private static final int SESSIONS = 4;
    private static final List<String> MODELS = List.of("parley-local", "parley-mini");
    /** Timestamps reach four UTC days back and four minutes ahead: inside the 5-minute skew, so never clamped. */
    private static final int MAX_MINUTES_AGO = 4 * 24 * 60;
    private static final int MAX_MINUTES_AHEAD = 4;

    private Path dir;
    private TestServer server;

    @BeforeTry
    void startServer() throws IOException {
        dir = Files.createTempDirectory("parley-analytics-property");
        server = TestServer.start(dir);
    }

    @AfterTry
    void stopServer() throws IOException {
        if (server != null) {
            server.close();
            server = null;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }

    @Property(tries = 25)
    void analyticsStayExactUnderAnyMixOfWrites(@ForAll("writes") List<Action> actions) throws SQLException {
        ReferenceModel reference = new ReferenceModel(server);

        for (Action action : actions) {
            reference.apply(action);
        }

        assertThat(server.mismatches()).as("analytics_mismatches after %s", actions).isEmpty();
        reference.assertDatabaseAgrees();
        assertThat(server.queryLong("SELECT count(*) - count(DISTINCT id) FROM chat_messages"))
                .as("message ids stored twice").isZero();
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages r JOIN chat_messages q"
                + " ON q.id = r.user_message_id WHERE r.role = 'assistant' AND q.error_message IS NOT NULL"))
                .as("replies to failed messages").isZero();
    }

    // ----------------------------------------------------------------- the actions and their generators

    /**
     * One write a client (or a misbehaving client) can make. Indexes pick a session of the pool or an earlier row;
     * session {@code i} is mostly written by user {@code i % 2}, earlier rows mostly by their owner, and
     * {@code foreign} makes the other user do it instead.
     */
    sealed interface Action permits Chat, ChatAgain, PushNew, PushAgain, PushRetried, PushReply, PushConflicting,
            PushSession, Rename, Delete, Regenerate, RegenerateAgain, Edit {
    }

    /** POST /api/chat/regenerate for an earlier user message, with a new reply id; the model answers or fails. */
    record Regenerate(int pick, boolean foreign, boolean modelFails) implements Action {
    }

    /** An earlier regenerate sent again with its reply id: a replay, or (after a failure) a new attempt. */
    record RegenerateAgain(int pick, boolean modelFails) implements Action {
    }

    /** POST /api/chat with a new message id that follows an earlier row's parent: an edit, a sibling message. */
    record Edit(int pick, boolean foreign, boolean modelFails) implements Action {
    }

    /** POST /api/chat with a new message id; the model answers or fails. */
    record Chat(int session, boolean foreign, boolean modelFails, int minutesAgo) implements Action {
    }

    /**
     * POST /api/chat with an earlier user message's id, session and content: a replay or a retry; {@code edited}
     * changes the content, which makes it a different message under a taken id.
     */
    record ChatAgain(int pick, boolean foreign, boolean onlyFailed, boolean edited, boolean modelFails)
            implements Action {
    }

    /**
     * POST /api/chat/messages with new rows, with or without the session row; {@code FAILED_PAIR} is a failed
     * question and a reply to it in one batch, whose reply is refused.
     */
    record PushNew(int session, boolean foreign, Shape shape, boolean withSessionRow, int minutesAgo, int tokens,
                   int model) implements Action {
    }

    /** An earlier batch pushed again, by its author or by the other user. */
    record PushAgain(int pick, boolean foreign) implements Action {
    }

    /** A stored failed message pushed as succeeded, with or without its reply. */
    record PushRetried(int pick, boolean foreign, boolean withReply, int tokens) implements Action {
    }

    /**
     * A reply, in a batch of its own, to a stored user message, successful or failed (a reply to a failed message,
     * and a second reply, are refused).
     */
    record PushReply(int pick, boolean foreign, int tokens) implements Action {
    }

    /** A stored message id pushed with different content, session or role. */
    record PushConflicting(int pick, boolean foreign, Variant variant) implements Action {
    }

    /** A session row alone: a rename (older or newer) or a tombstone. */
    record PushSession(int session, boolean foreign, boolean tombstone, int minutesAgo) implements Action {
    }

    /** PATCH /api/chat/sessions/{id}. */
    record Rename(int session, boolean foreign, int secondsAgo) implements Action {
    }

    /** DELETE /api/chat/sessions/{id}. */
    record Delete(int session, boolean foreign) implements Action {
    }

    enum Shape { PAIR, QUESTION, FAILED, FAILED_PAIR, SYSTEM }

    enum Variant { CONTENT, SESSION, ROLE }

    @Provide
    Arbitrary<List<Action>> writes() {
        Arbitrary<Boolean> rarely = Arbitraries.frequency(Tuple.of(1, true), Tuple.of(6, false));
        Arbitrary<Boolean> foreign = rarely;
        Arbitrary<Integer> session = Arbitraries.integers().between(0, SESSIONS - 1);
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 999);
        Arbitrary<Integer> minutesAgo = Arbitraries.integers().between(-MAX_MINUTES_AHEAD, MAX_MINUTES_AGO);
        Arbitrary<Integer> tokens = Arbitraries.integers().between(0, 400);
        Arbitrary<Boolean> flag = Arbitraries.of(true, false);

        Arbitrary<Action> chat = Combinators.combine(session, foreign, flag, minutesAgo).as(Chat::new);
        Arbitrary<Action> chatAgain = Combinators.combine(pick, foreign, flag, rarely, flag)
                .as(ChatAgain::new);
        Arbitrary<Action> pushNew = Combinators.combine(session, foreign, Arbitraries.of(Shape.class), flag, minutesAgo,
                tokens, Arbitraries.integers().between(0, MODELS.size() - 1)).as(PushNew::new);
        Arbitrary<Action> pushAgain = Combinators.combine(pick, foreign).as(PushAgain::new);
        Arbitrary<Action> pushRetried = Combinators.combine(pick, foreign, flag, tokens).as(PushRetried::new);
        Arbitrary<Action> pushReply = Combinators.combine(pick, foreign, tokens).as(PushReply::new);
        Arbitrary<Action> pushConflicting = Combinators.combine(pick, foreign, Arbitraries.of(Variant.class))
                .as(PushConflicting::new);
        Arbitrary<Action> pushSession = Combinators.combine(session, foreign, flag, minutesAgo).as(PushSession::new);
        Arbitrary<Action> rename = Combinators.combine(session, foreign, Arbitraries.integers().between(0, 7200))
                .as(Rename::new);
        Arbitrary<Action> delete = Combinators.combine(session, foreign).as(Delete::new);
        Arbitrary<Action> regenerate = Combinators.combine(pick, foreign, rarely).as(Regenerate::new);
        Arbitrary<Action> regenerateAgain = Combinators.combine(pick, flag).as(RegenerateAgain::new);
        Arbitrary<Action> edit = Combinators.combine(pick, foreign, rarely).as(Edit::new);

        return Arbitraries.frequencyOf(
                        Tuple.of(5, chat), Tuple.of(4, chatAgain), Tuple.of(5, pushNew), Tuple.of(3, pushAgain),
                        Tuple.of(3, pushRetried), Tuple.of(2, pushReply), Tuple.of(2, pushConflicting),
                        Tuple.of(2, pushSession), Tuple.of(2, rename), Tuple.of(1, delete),
                        Tuple.of(3, regenerate), Tuple.of(2, regenerateAgain), Tuple.of(2, edit))
                .list().ofMinSize(1).ofMaxSize(40)
                // jqwik favours short lists when tries are few; long sequences are where counters drift.
                .withSizeDistribution(RandomDistribution.uniform());
    }

    // ----------------------------------------------------------------- the reference model

    /** A user of the try: the account and its bearer token. */
    private record Account(String id, String token) {
    }

    /** What the server should hold for one session. */
    private static final class ExpectedSession {
        final String id;
        final String owner;
        String title;
        Instant titleUpdatedAt;
        boolean deleted;

        ExpectedSession(String id, String owner, String title, Instant titleUpdatedAt, boolean deleted) {
            this.id = id;
            this.owner = owner;
            this.title = title;
            this.titleUpdatedAt = titleUpdatedAt;
            this.deleted = deleted;
        }
    }

    /** What the server should hold for one message; a failed message becomes a success at most once. */
    private static final class ExpectedMessage {
        final String owner;
        Message row;

        ExpectedMessage(String owner, Message row) {
            this.owner = owner;
            this.row = row;
        }

        boolean counts() {
            return !row.failed() && row.role() != Role.SYSTEM;
        }

        long input() {
            return row.inputTokens() == null ? 0 : row.inputTokens();
        }

        long output() {
            return row.outputTokens() == null ? 0 : row.outputTokens();
        }
    }

    /** A batch pushed earlier by user {@code author}, kept to be pushed again. */
    private record Batch(int author, List<Session> sessions, List<Message> messages) {
    }

    /**
     * Applies each action to the server and to a model of SPEC §4.2 and §5.1 kept here, asserts that every response
     * is the one the model predicts, and at the end that the database's totals are the model's.
     */
    private static final class ReferenceModel {
        private final TestServer server;
        private final List<Account> users = new ArrayList<>();
        private final List<String> sessionIds = new ArrayList<>();
        private final Map<String, ExpectedSession> sessions = new LinkedHashMap<>();
        private final Map<String, ExpectedMessage> messages = new LinkedHashMap<>();
        private final List<Batch> batches = new ArrayList<>();
        private final List<RegenerateSent> regenerates = new ArrayList<>();
        private int modelCalls;
        private int serial;

        ReferenceModel(TestServer server) {
            this.server = server;
            for (String email : List.of("ada@example.com", "bob@example.com")) {
                AuthResponse auth = server.signUp(email);
                users.add(new Account(auth.user().id(), auth.accessToken()));
            }
            for (int i = 0; i < SESSIONS; i++) {
                sessionIds.add(TestIds.next());
            }
        }

        void apply(Action action) {
            if (action instanceof Chat a) {
                chat(user(a.session(), a.foreign()), sessionIds.get(a.session()), TestIds.next(),
                        "question " + next(), at(a.minutesAgo()), a.modelFails());
            } else if (action instanceof ChatAgain a) {
                List<ExpectedMessage> candidates = messages.values().stream()
                        .filter(m -> m.row.role() == Role.USER && (!a.onlyFailed() || m.row.failed())).toList();
                if (!candidates.isEmpty()) {
                    ExpectedMessage earlier = candidates.get(a.pick() % candidates.size());
                    chat(ownerOr(earlier, a.foreign()), earlier.row.sessionId(), earlier.row.id(),
                            earlier.row.content() + (a.edited() ? " (edited)" : ""), earlier.row.messageTimestamp(),
                            a.modelFails());
                }
            } else if (action instanceof PushNew a) {
                pushNew(a);
            } else if (action instanceof PushAgain a) {
                if (!batches.isEmpty()) {
                    Batch batch = batches.get(a.pick() % batches.size());
                    push(a.foreign() ? 1 - batch.author() : batch.author(), batch.sessions(), batch.messages());
                }
            } else if (action instanceof PushRetried a) {
                pushRetried(a);
            } else if (action instanceof PushReply a) {
                List<ExpectedMessage> questions = messages.values().stream()
                        .filter(m -> m.row.role() == Role.USER).toList();
                if (!questions.isEmpty()) {
                    ExpectedMessage question = questions.get(a.pick() % questions.size());
                    push(ownerOr(question, a.foreign()), List.of(), List.of(reply(question.row, a.tokens())));
                }
            } else if (action instanceof PushConflicting a) {
                pushConflicting(a);
            } else if (action instanceof PushSession a) {
                Instant at = at(a.minutesAgo());
                Session row = Session.of(sessionIds.get(a.session()), "title " + next(), at, at,
                        a.tombstone() ? at : null);
                push(user(a.session(), a.foreign()), List.of(row), List.of());
            } else if (action instanceof Rename a) {
                rename(a);
            } else if (action instanceof Delete a) {
                delete(a);
            } else if (action instanceof Regenerate a) {
                List<ExpectedMessage> questions = messages.values().stream()
                        .filter(m -> m.row.role() == Role.USER).toList();
                if (!questions.isEmpty()) {
                    ExpectedMessage question = questions.get(a.pick() % questions.size());
                    regenerate(new RegenerateSent(ownerOr(question, a.foreign()), question.row.sessionId(),
                            question.row.id(), TestIds.next()), a.modelFails());
                }
            } else if (action instanceof RegenerateAgain a) {
                if (!regenerates.isEmpty()) {
                    regenerate(regenerates.get(a.pick() % regenerates.size()), a.modelFails());
                }
            } else if (action instanceof Edit a) {
                List<ExpectedMessage> questions = messages.values().stream()
                        .filter(m -> m.row.role() == Role.USER).toList();
                if (!questions.isEmpty()) {
                    ExpectedMessage edited = questions.get(a.pick() % questions.size());
                    chat(ownerOr(edited, a.foreign()), edited.row.sessionId(), TestIds.next(),
                            edited.row.content() + " (edited " + next() + ")", server.now(), a.modelFails(),
                            edited.row.parentId());
                }
            } else {
                throw new AssertionError("unknown action " + action);
            }
            assertThat(server.model.calls()).as("model calls after %s", action).isEqualTo(modelCalls);
        }

        // ------------------------------------------------------------- POST /api/chat

        private void chat(int userIndex, String sessionId, String messageId, String content, Instant at,
                          boolean modelFails) {
            chat(userIndex, sessionId, messageId, content, at, modelFails, null);
        }

        private void chat(int userIndex, String sessionId, String messageId, String content, Instant at,
                          boolean modelFails, String parentId) {
            Account user = users.get(userIndex);
            ExpectedSession session = sessions.get(sessionId);
            ExpectedMessage stored = messages.get(messageId);
            ChatRequest request = new ChatRequest(sessionId, messageId, content, null, at, null, null, null, List.of(),
                    parentId, null);
            String what = "chat " + messageId + " by user " + userIndex;

            if (session != null && !session.owner.equals(user.id())) {
                expectError(server.api.post("/api/chat", request, user.token()), ErrorCode.NOT_FOUND, what);
                observed("chat: another user's session");
                return;
            }
            if (session != null && session.deleted) {
                expectError(server.api.post("/api/chat", request, user.token()), ErrorCode.CONFLICT, what);
                observed("chat: deleted session");
                return;
            }
            if (stored != null && conflicts(stored, user, Role.USER, sessionId, content)) {
                expectError(server.api.post("/api/chat", request, user.token()), ErrorCode.CONFLICT, what);
                observed("chat: conflicting message id");
                return;
            }
            ExpectedMessage reply = stored == null || stored.row.failed() ? null : replyTo(messageId);
            if (reply != null) {
                observed("chat: replayed");
                HttpApi.Response response = server.api.post("/api/chat", request, user.token());
                assertThat(response.status()).as(what + ": " + response).isEqualTo(200);
                ChatResponse replayed = response.as(ChatResponse.class);
                assertThat(replayed.replayed()).as(what + " replayed").isTrue();
                assertThat(replayed.assistantMessage().id()).as(what + " reply").isEqualTo(reply.row.id());
                return;
            }

            modelCalls++;
            if (modelFails) {
                server.model.failNext(new ModelException(ErrorCode.UPSTREAM_ERROR, "x"));
                HttpApi.Response response = server.api.post("/api/chat", request, user.token());
                expectError(response, ErrorCode.UPSTREAM_ERROR, what);
                assertThat(response.json().path("persisted").asBoolean()).as(what + " persisted").isTrue();
                observed(stored == null ? "chat: model failed" : "chat: retry failed again");
                createSessionIfAbsent(user, sessionId);
                if (stored == null) {
                    Message failed = new Message(messageId, sessionId, Role.USER, content, MODELS.get(0), 0L, null,
                            null, null, at, null, "x", null, null, parentId);
                    messages.put(messageId, new ExpectedMessage(user.id(), failed));
                }
                return;
            }
            HttpApi.Response response = server.api.post("/api/chat", request, user.token());
            assertThat(response.status()).as(what + ": " + response).isEqualTo(200);
            ChatResponse answered = response.as(ChatResponse.class);
            assertThat(answered.persisted()).as(what + " persisted").isTrue();
            assertThat(answered.replayed()).as(what + " replayed").isFalse();
            assertThat(answered.userMessage().id()).isEqualTo(messageId);
            assertThat(answered.assistantMessage().userMessageId()).isEqualTo(messageId);
            observed(stored == null ? "chat: answered" : stored.row.failed() ? "chat: retry answered"
                    : "chat: pushed question answered");
            createSessionIfAbsent(user, sessionId);
            if (stored == null || stored.row.failed()) {
                messages.put(messageId, new ExpectedMessage(user.id(), answered.userMessage()));
            }
            messages.put(answered.assistantMessage().id(),
                    new ExpectedMessage(user.id(), answered.assistantMessage()));
        }

        // ------------------------------------------------------------- POST /api/chat/regenerate

        /** A regenerate as sent: by user {@code author}, for one user message, under one reply id. */
        private record RegenerateSent(int author, String sessionId, String messageId, String replyId) {
        }

        private void regenerate(RegenerateSent sent, boolean modelFails) {
            Account user = users.get(sent.author());
            ExpectedSession session = sessions.get(sent.sessionId());
            ExpectedMessage question = messages.get(sent.messageId());
            ExpectedMessage stored = messages.get(sent.replyId());
            RegenerateRequest request = new RegenerateRequest(sent.sessionId(), sent.messageId(), sent.replyId(), null,
                    null, null, List.of());
            String what = "regenerate " + sent.replyId() + " of " + sent.messageId() + " by user " + sent.author();
            if (!regenerates.contains(sent)) {
                regenerates.add(sent);
            }
            if (question == null || !question.owner.equals(user.id())) {
                expectError(server.api.post("/api/chat/regenerate", request, user.token()), ErrorCode.NOT_FOUND, what);
                observed("regenerate: another user's message");
                return;
            }
            if (question.row.failed() || session != null && session.deleted) {
                expectError(server.api.post("/api/chat/regenerate", request, user.token()), ErrorCode.CONFLICT, what);
                observed(question.row.failed() ? "regenerate: failed message" : "regenerate: deleted session");
                return;
            }
            if (stored != null) {
                HttpApi.Response response = server.api.post("/api/chat/regenerate", request, user.token());
                assertThat(response.status()).as(what + ": " + response).isEqualTo(200);
                ChatResponse replayed = response.as(ChatResponse.class);
                assertThat(replayed.replayed()).as(what + " replayed").isTrue();
                assertThat(replayed.assistantMessage().id()).isEqualTo(sent.replyId());
                observed("regenerate: replayed");
                return;
            }
            modelCalls++;
            if (modelFails) {
                server.model.failNext(new ModelException(ErrorCode.UPSTREAM_ERROR, "x"));
                HttpApi.Response response = server.api.post("/api/chat/regenerate", request, user.token());
                expectError(response, ErrorCode.UPSTREAM_ERROR, what);
                assertThat(response.json().path("persisted").asBoolean()).as(what + " persisted").isFalse();
                observed("regenerate: model failed");
                return;
            }
            HttpApi.Response response = server.api.post("/api/chat/regenerate", request, user.token());
            assertThat(response.status()).as(what + ": " + response).isEqualTo(200);
            ChatResponse answered = response.as(ChatResponse.class);
            assertThat(answered.replayed()).as(what + " replayed").isFalse();
            assertThat(answered.assistantMessage().id()).isEqualTo(sent.replyId());
            assertThat(answered.assistantMessage().userMessageId()).isEqualTo(sent.messageId());
            observed("regenerate: answered");
            messages.put(sent.replyId(), new ExpectedMessage(user.id(), answered.assistantMessage()));
        }

        private void createSessionIfAbsent(Account user, String sessionId) {
            sessions.computeIfAbsent(sessionId, id -> new ExpectedSession(id, user.id(), "New chat", null, false));
        }

        // ------------------------------------------------------------- POST /api/chat/messages

        private void pushNew(PushNew a) {
            String sessionId = sessionIds.get(a.session());
            Instant at = at(a.minutesAgo());
            String model = MODELS.get(a.model());
            List<Session> sessionRows = a.withSessionRow()
                    ? List.of(Session.of(sessionId, "title " + next(), at, at, null)) : List.of();
            String text = "pushed " + next();
            Message question = new Message(TestIds.next(), sessionId, Role.USER, text, model, (long) a.tokens(), null,
                    null, null, at, null, null, null);
            Message failed = new Message(question.id(), sessionId, Role.USER, text, model, 0L, null, null, null, at,
                    null, "upstream timed out", null);
            List<Message> rows = switch (a.shape()) {
                case PAIR -> List.of(question, reply(question, a.tokens() * 2L + 1));
                case QUESTION -> List.of(question);
                case FAILED -> List.of(failed);
                case FAILED_PAIR -> List.of(failed, reply(failed, a.tokens() * 2L + 1));
                case SYSTEM -> List.of(new Message(question.id(), sessionId, Role.SYSTEM, "be brief", null, null, null,
                        null, null, at, null, null, null));
            };
            push(user(a.session(), a.foreign()), sessionRows, rows);
        }

        private void pushRetried(PushRetried a) {
            List<ExpectedMessage> failed = messages.values().stream().filter(m -> m.row.failed()).toList();
            if (failed.isEmpty()) {
                return;
            }
            ExpectedMessage stored = failed.get(a.pick() % failed.size());
            Message succeeded = TestServer.succeeded(stored.row, a.tokens());
            push(ownerOr(stored, a.foreign()), List.of(), a.withReply()
                    ? List.of(succeeded, reply(succeeded, a.tokens() + 7L)) : List.of(succeeded));
        }

        private void pushConflicting(PushConflicting a) {
            if (messages.isEmpty()) {
                return;
            }
            List<ExpectedMessage> all = new ArrayList<>(messages.values());
            ExpectedMessage stored = all.get(a.pick() % all.size());
            Message m = stored.row;
            Message changed = switch (a.variant()) {
                case CONTENT -> new Message(m.id(), m.sessionId(), m.role(), m.content() + " (edited)", m.model(),
                        m.inputTokens(), m.outputTokens(), null, m.userMessageId(), m.messageTimestamp(),
                        m.elapsedMs(), m.errorMessage(), m.completionId());
                case SESSION -> new Message(m.id(),
                        sessionIds.get((sessionIds.indexOf(m.sessionId()) + 1) % SESSIONS), m.role(), m.content(),
                        m.model(), m.inputTokens(), m.outputTokens(), null, m.userMessageId(), m.messageTimestamp(),
                        m.elapsedMs(), m.errorMessage(), m.completionId());
                case ROLE -> m.role() == Role.USER
                        ? new Message(m.id(), m.sessionId(), Role.ASSISTANT, m.content(), m.model(), null, 3L, null,
                                null, m.messageTimestamp(), 10L, null, null)
                        : new Message(m.id(), m.sessionId(), Role.USER, m.content(), m.model(), 3L, null, null, null,
                                m.messageTimestamp(), null, null, null);
            };
            push(ownerOr(stored, a.foreign()), List.of(), List.of(changed));
        }

        private void push(int userIndex, List<Session> sessionRows, List<Message> messageRows) {
            Account user = users.get(userIndex);
            List<String> expectedSessions = sessionRows.stream().map(s -> applySession(user, s)).toList();
            List<String> expectedMessages = messageRows.stream().map(m -> applyMessage(user, m)).toList();
            batches.add(new Batch(userIndex, sessionRows, messageRows));

            PushResponse response = server.push(user.token(), sessionRows, messageRows);

            expectedSessions.forEach(o -> observed("push session: " + o));
            expectedMessages.forEach(o -> observed("push message: " + o));
            String what = "push by user " + userIndex + " of " + sessionRows + " " + messageRows;
            assertThat(response.sessions().stream().map(ReferenceModel::outcome).toList()).as(what)
                    .isEqualTo(expectedSessions);
            assertThat(response.messages().stream().map(ReferenceModel::outcome).toList()).as(what)
                    .isEqualTo(expectedMessages);
        }

        /** SPEC §4.2 for a session row; answers the expected outcome and updates the model. */
        private String applySession(Account user, Session s) {
            ExpectedSession stored = sessions.get(s.id());
            if (stored == null) {
                sessions.put(s.id(), new ExpectedSession(s.id(), user.id(), s.title(), s.titleUpdatedAt(),
                        s.deletedAt() != null));
                return "inserted";
            }
            if (!stored.owner.equals(user.id())) {
                return "rejected:not_found";
            }
            if (stored.deleted) {
                return s.deletedAt() != null ? "unchanged" : "rejected:session_deleted";
            }
            if (s.deletedAt() != null) {
                stored.deleted = true;
                return "updated";
            }
            if (s.titleUpdatedAt() != null
                    && (stored.titleUpdatedAt == null || stored.titleUpdatedAt.isBefore(s.titleUpdatedAt()))) {
                stored.title = s.title();
                stored.titleUpdatedAt = s.titleUpdatedAt();
                return "updated";
            }
            return "unchanged";
        }

        /** SPEC §4.2 for a message row; answers the expected outcome and updates the model. */
        private String applyMessage(Account user, Message m) {
            ExpectedSession session = sessions.get(m.sessionId());
            if (session != null && !session.owner.equals(user.id())) {
                return "rejected:not_found";
            }
            if (session != null && session.deleted) {
                return "rejected:session_deleted";
            }
            ExpectedMessage stored = messages.get(m.id());
            if (stored == null) {
                if (m.role() == Role.ASSISTANT && m.userMessageId() != null) {
                    // The question as it stands now: stored earlier, or by a row before this one in the batch.
                    ExpectedMessage question = messages.get(m.userMessageId());
                    if (question != null && question.row.failed()) {
                        observed("push message: reply to a failed message");
                        return "rejected:conflict";
                    }
                    if (replyTo(m.userMessageId()) != null) {
                        observed("push message: a sibling reply");
                    }
                }
                createSessionIfAbsent(user, m.sessionId());
                messages.put(m.id(), new ExpectedMessage(user.id(), m));
                return "inserted";
            }
            if (conflicts(stored, user, m.role(), m.sessionId(), m.content())) {
                return "rejected:conflict";
            }
            if (!stored.row.failed() || m.failed()) {
                return "unchanged"; // a success is final; a failure stays a failure
            }
            stored.row = new Message(m.id(), m.sessionId(), m.role(), m.content(), m.model(), m.inputTokens(),
                    m.outputTokens(), null, m.userMessageId(), stored.row.messageTimestamp(), m.elapsedMs(), null,
                    m.completionId());
            return "updated";
        }

        private static String outcome(RowResult r) {
            return r.result().wire() + (r.code() == null ? "" : ":" + r.code());
        }

        // ------------------------------------------------------------- PATCH and DELETE

        private void rename(Rename a) {
            int userIndex = user(a.session(), a.foreign());
            Account user = users.get(userIndex);
            String sessionId = sessionIds.get(a.session());
            ExpectedSession stored = sessions.get(sessionId);
            Instant at = server.now().minusSeconds(a.secondsAgo());
            String title = "renamed " + next();
            HttpApi.Response response = server.api.patch("/api/chat/sessions/" + sessionId,
                    new RenameRequest(title, at), user.token());
            String what = "rename of " + sessionId + " by user " + userIndex;
            if (stored == null || !stored.owner.equals(user.id())) {
                expectError(response, ErrorCode.NOT_FOUND, what);
                observed("rename: " + (stored == null ? "unknown" : "another user's") + " session");
            } else if (stored.deleted) {
                expectError(response, ErrorCode.CONFLICT, what);
                observed("rename: deleted session");
            } else {
                boolean newer = stored.titleUpdatedAt == null || stored.titleUpdatedAt.isBefore(at);
                observed(newer ? "rename: newer" : "rename: older");
                if (newer) {
                    stored.title = title;
                    stored.titleUpdatedAt = at;
                }
                assertThat(response.status()).as(what + ": " + response).isEqualTo(200);
                assertThat(response.as(Session.class).title()).as(what).isEqualTo(stored.title);
            }
        }

        private void delete(Delete a) {
            int userIndex = user(a.session(), a.foreign());
            Account user = users.get(userIndex);
            String sessionId = sessionIds.get(a.session());
            ExpectedSession stored = sessions.get(sessionId);
            HttpApi.Response response = server.api.delete("/api/chat/sessions/" + sessionId, user.token());
            String what = "delete of " + sessionId + " by user " + userIndex;
            if (stored == null || !stored.owner.equals(user.id())) {
                expectError(response, ErrorCode.NOT_FOUND, what);
                observed("delete: " + (stored == null ? "unknown" : "another user's") + " session");
            } else {
                assertThat(response.status()).as(what + ": " + response).isEqualTo(204);
                observed(stored.deleted ? "delete: again" : "delete: live session");
                stored.deleted = true;
            }
        }

        // ------------------------------------------------------------- the final comparison

        void assertDatabaseAgrees() throws SQLException {
            for (Account user : users) {
                List<ExpectedMessage> own = messages.values().stream().filter(m -> m.owner.equals(user.id()))
                        .toList();
                List<ExpectedMessage> counted = own.stream().filter(ExpectedMessage::counts).toList();
                long sent = counted.stream().filter(m -> m.row.role() == Role.USER).count();
                long received = counted.stream().filter(m -> m.row.role() == Role.ASSISTANT).count();
                long input = counted.stream().mapToLong(ExpectedMessage::input).sum();
                long output = counted.stream().mapToLong(ExpectedMessage::output).sum();
                long generation = counted.stream().filter(m -> m.row.role() == Role.ASSISTANT)
                        .mapToLong(m -> m.row.elapsedMs() == null ? 0 : m.row.elapsedMs()).sum();
                long created = sessions.values().stream().filter(s -> s.owner.equals(user.id())).count();
                Map<String, Long> models = new TreeMap<>();
                counted.stream().filter(m -> m.row.model() != null)
                        .forEach(m -> models.merge(m.row.model(), 1L, Long::sum));

                String where = " FROM user_usage_daily WHERE user_id = '" + user.id() + "'";
                String who = "user " + user.id() + " ";
                assertThat(server.queryLong("SELECT coalesce(sum(messages_sent), 0)" + where))
                        .as(who + "messages_sent").isEqualTo(sent);
                assertThat(server.queryLong("SELECT coalesce(sum(messages_received), 0)" + where))
                        .as(who + "messages_received").isEqualTo(received);
                assertThat(server.queryLong("SELECT coalesce(sum(input_tokens), 0)" + where))
                        .as(who + "input_tokens").isEqualTo(input);
                assertThat(server.queryLong("SELECT coalesce(sum(output_tokens), 0)" + where))
                        .as(who + "output_tokens").isEqualTo(output);
                assertThat(server.queryLong("SELECT coalesce(sum(total_tokens), 0)" + where))
                        .as(who + "total_tokens").isEqualTo(input + output);
                assertThat(server.queryLong("SELECT coalesce(sum(generation_ms), 0)" + where))
                        .as(who + "generation_ms").isEqualTo(generation);
                assertThat(server.queryLong("SELECT coalesce(sum(sessions_created), 0)" + where))
                        .as(who + "sessions_created").isEqualTo(created);
                Map<String, Long> storedModels = new TreeMap<>();
                for (String day : server.queryStrings("SELECT models_used" + where)) {
                    TestServer.counts(day).forEach((model, uses) -> storedModels.merge(model, uses, Long::sum));
                }
                assertThat(storedModels).as(who + "models_used summed over days").isEqualTo(models);
                assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE user_id = '" + user.id() + "'"))
                        .as(who + "stored messages").isEqualTo(own.size());
                assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE error_message IS NOT NULL"
                        + " AND user_id = '" + user.id() + "'"))
                        .as(who + "failed messages").isEqualTo(own.stream().filter(m -> m.row.failed()).count());
            }
            for (ExpectedSession session : sessions.values()) {
                String where = " FROM chat_sessions WHERE id = '" + session.id + "'";
                long count = messages.values().stream()
                        .filter(m -> m.counts() && m.row.sessionId().equals(session.id)).count();
                assertThat(server.queryString("SELECT user_id" + where)).as("owner of " + session.id)
                        .isEqualTo(session.owner);
                assertThat(server.queryLong("SELECT message_count" + where)).as("message_count of " + session.id)
                        .isEqualTo(count);
                assertThat(server.queryString("SELECT title" + where)).as("title of " + session.id)
                        .isEqualTo(session.title);
                assertThat(server.queryLong("SELECT CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END" + where))
                        .as("deleted " + session.id)
                        .isEqualTo(session.deleted ? 1 : 0);
            }
            assertThat(server.queryLong("SELECT count(*) FROM chat_sessions")).as("sessions")
                    .isEqualTo(sessions.size());
            assertThat(server.queryLong("SELECT count(*) FROM chat_messages m JOIN chat_sessions s"
                    + " ON s.id = m.session_id WHERE s.deleted_at IS NOT NULL AND (m.content <> '' OR NOT m.purged)"))
                    .as("messages of deleted sessions left unpurged").isZero();
        }

        // ------------------------------------------------------------- helpers

        /** The user who mostly writes session {@code session}, or the other one. */
        private static int user(int session, boolean foreign) {
            return (session + (foreign ? 1 : 0)) % 2;
        }

        /** The index of the user who owns {@code m}, or of the other one. */
        private int ownerOr(ExpectedMessage m, boolean foreign) {
            int owner = users.get(0).id().equals(m.owner) ? 0 : 1;
            return foreign ? 1 - owner : owner;
        }

        private static boolean conflicts(ExpectedMessage stored, Account user, Role role, String sessionId,
                                         String content) {
            return !stored.owner.equals(user.id()) || stored.row.role() != role
                    || !stored.row.sessionId().equals(sessionId) || !stored.row.content().equals(content);
        }

        /** The first reply to a user message (the one a chat request replays), before any regenerated sibling. */
        private ExpectedMessage replyTo(String userMessageId) {
            return messages.values().stream()
                    .filter(m -> m.row.role() == Role.ASSISTANT && userMessageId.equals(m.row.userMessageId()))
                    .min(Comparator.comparing((ExpectedMessage m) -> m.row.messageTimestamp())
                            .thenComparing(m -> m.row.id()))
                    .orElse(null);
        }

        private static Message reply(Message question, long outputTokens) {
            return new Message(TestIds.next(), question.sessionId(), Role.ASSISTANT, "answer to " + question.content(),
                    question.model(), null, outputTokens, null, question.id(),
                    question.messageTimestamp().plusMillis(1), 40 + outputTokens, null, "cmpl-" + question.id());
        }

        private static void expectError(HttpApi.Response response, ErrorCode code, String what) {
            assertThat(response.status()).as(what + ": " + response).isEqualTo(code.status());
            assertThat(response.errorCode()).as(what + ": " + response).isEqualTo(code.wire());
        }

        private Instant at(int minutesAgo) {
            return server.now().minus(minutesAgo, ChronoUnit.MINUTES);
        }

        /** Counts each kind of response across all tries; jqwik prints the table, to show what was covered. */
        private static void observed(String kind) {
            Statistics.label("responses").collect(kind);
        }

        private int next() {
            return ++serial;
        }
    }
}
