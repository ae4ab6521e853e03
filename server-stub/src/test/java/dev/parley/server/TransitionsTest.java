package dev.parley.server;

import static dev.parley.server.testing.TestServer.assistantReply;
import static dev.parley.server.testing.TestServer.failedUserMessage;
import static dev.parley.server.testing.TestServer.session;
import static dev.parley.server.testing.TestServer.succeeded;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.Message;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.Role;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.protocol.Session;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each row of the message-id transition table (SPEC §4.2) through the direct-write endpoint, with its counting. */
class TransitionsTest {
    @TempDir
    Path dir;

    TestServer server;
    String token;
    String userId;

    @BeforeEach
    void start() {
        server = TestServer.start(dir);
        var auth = server.signUp("ada@example.com");
        token = auth.accessToken();
        userId = auth.user().id();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void absentMessageIsInsertedAndCounted() throws Exception {
        String sessionId = TestIds.next();
        Message question = userMessage(sessionId, "hello", 5, server.now());
        Message answer = assistantReply(question, "hi there", 7, 120);

        PushResponse result = server.push(token, List.of(session(sessionId, "Greetings", server.now())),
                List.of(question, answer));

        assertThat(result.sessions()).extracting(RowResult::result).containsExactly(Outcome.INSERTED);
        assertThat(result.messages()).extracting(RowResult::result).containsExactly(Outcome.INSERTED, Outcome.INSERTED);
        assertThat(usage("messages_sent")).isEqualTo(1);
        assertThat(usage("messages_received")).isEqualTo(1);
        assertThat(usage("input_tokens")).isEqualTo(5);
        assertThat(usage("output_tokens")).isEqualTo(7);
        assertThat(usage("total_tokens")).isEqualTo(12);
        assertThat(usage("generation_ms")).isEqualTo(120);
        assertThat(usage("sessions_created")).isEqualTo(1);
        assertThat(server.queryCounts("SELECT models_used FROM user_usage_daily")).isEqualTo(Map.of("parley-local", 2L));
        assertThat(server.queryLong("SELECT message_count FROM chat_sessions")).isEqualTo(2);
        assertThat(server.queryLong("SELECT total_tokens FROM chat_sessions")).isEqualTo(12);
        assertThat(server.queryString("SELECT last_message_preview FROM chat_sessions")).isEqualTo("hi there");
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void failedMessageRetriedToSuccessCountsExactlyOnce() throws Exception {
        String sessionId = TestIds.next();
        Message failed = failedUserMessage(sessionId, "are you there?", server.now(), "upstream_error");
        server.push(token, List.of(), List.of(failed));
        assertThat(usage("messages_sent")).isZero();

        PushResponse retried = server.push(token, List.of(), List.of(succeeded(failed, 9)));
        PushResponse again = server.push(token, List.of(), List.of(succeeded(failed, 9)));

        assertThat(retried.messages().get(0).result()).isEqualTo(Outcome.UPDATED);
        assertThat(again.messages().get(0).result()).isEqualTo(Outcome.UNCHANGED);
        assertThat(usage("messages_sent")).isEqualTo(1);
        assertThat(usage("input_tokens")).isEqualTo(9);
        assertThat(server.queryString("SELECT error_message FROM chat_messages")).isNull();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void failedMessagePushedFailedAgainIsUnchangedAndRefreshesItsError() throws Exception {
        Message failed = failedUserMessage(TestIds.next(), "hello?", server.now(), "timeout");
        server.push(token, List.of(), List.of(failed));

        Message failedAgain = new Message(failed.id(), failed.sessionId(), Role.USER, failed.content(), failed.model(),
                0L, null, null, null, failed.messageTimestamp(), null, "rate limited", null);
        PushResponse result = server.push(token, List.of(), List.of(failedAgain));

        assertThat(result.messages().get(0).result()).isEqualTo(Outcome.UNCHANGED);
        assertThat(server.queryString("SELECT error_message FROM chat_messages")).isEqualTo("rate limited");
        assertThat(usage("messages_sent")).isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void successPushedAgainIsUnchangedAndNotCountedTwice() throws Exception {
        String sessionId = TestIds.next();
        Message question = userMessage(sessionId, "once", 3, server.now());
        server.push(token, List.of(), List.of(question));

        Message failedCopy = new Message(question.id(), sessionId, Role.USER, "once", "parley-local", 0L, null, null,
                null, question.messageTimestamp(), null, "late failure report", null);
        PushResponse same = server.push(token, List.of(), List.of(question));
        PushResponse failedAfterSuccess = server.push(token, List.of(), List.of(failedCopy));

        assertThat(same.messages().get(0).result()).isEqualTo(Outcome.UNCHANGED);
        assertThat(failedAfterSuccess.messages().get(0).result()).isEqualTo(Outcome.UNCHANGED);
        assertThat(server.queryString("SELECT error_message FROM chat_messages")).isNull();
        assertThat(usage("messages_sent")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void sameIdWithDifferentContentRoleOrSessionIsAConflict() throws Exception {
        String sessionId = TestIds.next();
        Message question = userMessage(sessionId, "original", 3, server.now());
        server.push(token, List.of(), List.of(question));

        Message otherContent = withContentRoleSession(question, "edited", Role.USER, sessionId);
        Message otherRole = withContentRoleSession(question, "original", Role.SYSTEM, sessionId);
        Message otherSession = withContentRoleSession(question, "original", Role.USER, TestIds.next());
        PushResponse result = server.push(token, List.of(), List.of(otherContent, otherRole, otherSession));

        assertThat(result.messages()).allSatisfy(r -> {
            assertThat(r.result()).isEqualTo(Outcome.REJECTED);
            assertThat(r.code()).isEqualTo(RowResult.CONFLICT);
        });
        assertThat(server.queryString("SELECT content FROM chat_messages")).isEqualTo("original");
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void anotherUsersMessageIdIsAConflict() throws Exception {
        Message mine = userMessage(TestIds.next(), "mine", 3, server.now());
        server.push(token, List.of(), List.of(mine));
        String otherToken = server.signUp("bob@example.com").accessToken();

        PushResponse result = server.push(otherToken, List.of(), List.of(
                withContentRoleSession(mine, "mine", Role.USER, TestIds.next())));

        assertThat(result.messages().get(0).code()).isEqualTo(RowResult.CONFLICT);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
    }

    @Test
    void rowOfADeletedSessionIsRejectedAsSessionDeleted() throws Exception {
        String sessionId = TestIds.next();
        Message first = userMessage(sessionId, "before delete", 3, server.now());
        server.push(token, List.of(), List.of(first));
        assertThat(server.api.delete("/api/chat/sessions/" + sessionId, token).status()).isEqualTo(204);

        Message late = userMessage(sessionId, "after delete", 4, server.now());
        PushResponse result = server.push(token, List.of(session(sessionId, "Renamed", server.now())),
                List.of(late, first));

        assertThat(result.sessions().get(0).code()).isEqualTo(RowResult.SESSION_DELETED);
        assertThat(result.messages()).extracting(RowResult::code)
                .containsExactly(RowResult.SESSION_DELETED, RowResult.SESSION_DELETED);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
        assertThat(usage("messages_sent")).isEqualTo(1); // usage is history and stays
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void rowOfAnotherUsersSessionIsRejectedAsNotFound() throws Exception {
        String sessionId = TestIds.next();
        server.push(token, List.of(session(sessionId, "Mine", server.now())), List.of());
        String otherToken = server.signUp("bob@example.com").accessToken();

        PushResponse result = server.push(otherToken, List.of(session(sessionId, "Taken", server.now())),
                List.of(userMessage(sessionId, "intrude", 1, server.now())));

        assertThat(result.sessions().get(0).code()).isEqualTo(RowResult.NOT_FOUND);
        assertThat(result.messages().get(0).code()).isEqualTo(RowResult.NOT_FOUND);
        assertThat(server.queryString("SELECT title FROM chat_sessions")).isEqualTo("Mine");
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isZero();
    }

    @Test
    void batchPushedThreeTimesLeavesAnalyticsUnchanged() throws Exception {
        String sessionId = TestIds.next();
        Message q1 = userMessage(sessionId, "one", 2, server.now());
        Message a1 = assistantReply(q1, "reply one", 5, 30);
        Message q2 = failedUserMessage(sessionId, "two", server.now().plusMillis(5), "offline");
        List<Session> sessions = List.of(session(sessionId, "Batch", server.now()));
        server.push(token, sessions, List.of(q1, a1, q2));
        String before = usageSnapshot();

        PushResponse second = server.push(token, sessions, List.of(q1, a1, q2));
        PushResponse third = server.push(token, sessions, List.of(q1, a1, q2));

        assertThat(second.messages()).extracting(RowResult::result).containsOnly(Outcome.UNCHANGED);
        assertThat(third.messages()).extracting(RowResult::result).containsOnly(Outcome.UNCHANGED);
        assertThat(third.sessions()).extracting(RowResult::result).containsOnly(Outcome.UNCHANGED);
        assertThat(usageSnapshot()).isEqualTo(before);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void rejectedRowNeverBlocksTheGoodRowsOfItsBatch() throws Exception {
        String sessionId = TestIds.next();
        Message good1 = userMessage(sessionId, "good one", 1, server.now());
        Message bad = new Message("not-a-uuid", sessionId, Role.USER, "bad", null, -1L, null, null, null,
                server.now(), null, null, null);
        Message good2 = userMessage(sessionId, "good two", 1, server.now());

        PushResponse result = server.push(token, List.of(), List.of(good1, bad, good2));

        assertThat(result.messages()).extracting(RowResult::result)
                .containsExactly(Outcome.INSERTED, Outcome.REJECTED, Outcome.INSERTED);
        assertThat(result.messages()).extracting(RowResult::id).containsExactly(good1.id(), "not-a-uuid", good2.id());
        assertThat(result.messages().get(1).code()).isEqualTo(RowResult.BAD_REQUEST);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void messageWithoutItsSessionCreatesNewChat() throws Exception {
        String sessionId = TestIds.next();

        server.push(token, List.of(), List.of(userMessage(sessionId, "orphan", 1, server.now())));

        assertThat(server.queryString("SELECT title FROM chat_sessions WHERE id = '" + sessionId + "'"))
                .isEqualTo("New chat");
        assertThat(usage("sessions_created")).isEqualTo(1);
    }

    @Test
    void aSecondReplyToOneUserMessageIsASiblingCountedOnceUnderItsOwnId() throws Exception {
        Message question = userMessage(TestIds.next(), "q", 1, server.now());
        Message first = assistantReply(question, "first", 2, 10);
        Message second = assistantReply(question, "second", 3, 10);

        PushResponse result = server.push(token, List.of(), List.of(question, first, second));
        PushResponse again = server.push(token, List.of(), List.of(question, first, second));

        assertThat(result.messages()).extracting(RowResult::result)
                .containsExactly(Outcome.INSERTED, Outcome.INSERTED, Outcome.INSERTED);
        assertThat(again.messages()).extracting(RowResult::result)
                .containsExactly(Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.UNCHANGED);
        assertThat(usage("messages_received")).isEqualTo(2);
        assertThat(usage("output_tokens")).isEqualTo(5);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void replyToAStoredFailedMessageIsAConflictAndCountsNothing() throws Exception {
        String sessionId = TestIds.next();
        Message failed = failedUserMessage(sessionId, "lost on the way", server.now(), "upstream_error");
        server.push(token, List.of(), List.of(failed));
        Message reply = assistantReply(failed, "an answer to nothing", 6, 40);

        PushResponse result = server.push(token, List.of(), List.of(reply));

        assertThat(result.messages()).singleElement().satisfies(r -> {
            assertThat(r.result()).isEqualTo(Outcome.REJECTED);
            assertThat(r.code()).isEqualTo(RowResult.CONFLICT);
        });
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'")).isZero();
        assertThat(usage("messages_received")).isZero();
        assertThat(usage("output_tokens")).isZero();
        assertThat(server.queryLong("SELECT message_count FROM chat_sessions")).isZero();
        assertThat(server.mismatches()).isEmpty();

        // Once the question is retried to a success, the same reply is its answer.
        PushResponse retried = server.push(token, List.of(), List.of(succeeded(failed, 4), reply));

        assertThat(retried.messages()).extracting(RowResult::result).containsExactly(Outcome.UPDATED, Outcome.INSERTED);
        assertThat(usage("messages_sent")).isEqualTo(1);
        assertThat(usage("messages_received")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void replyToAFailedMessageOfTheSameBatchIsAConflictAndCountsNothing() throws Exception {
        String sessionId = TestIds.next();
        Message failed = failedUserMessage(sessionId, "timed out", server.now(), "upstream_timeout");
        Message reply = assistantReply(failed, "an answer to nothing", 6, 40);

        PushResponse result = server.push(token, List.of(session(sessionId, "Offline", server.now())),
                List.of(failed, reply));

        assertThat(result.messages()).extracting(RowResult::result).containsExactly(Outcome.INSERTED, Outcome.REJECTED);
        assertThat(result.messages().get(1).code()).isEqualTo(RowResult.CONFLICT);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'")).isZero();
        assertThat(usage("messages_sent")).isZero();
        assertThat(usage("messages_received")).isZero();
        assertThat(usage("output_tokens")).isZero();
        assertThat(usage("generation_ms")).isZero();
        assertThat(server.queryLong("SELECT message_count FROM chat_sessions")).isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void replyToAnotherUsersMessageIsRejectedLikeAMissingOne() throws Exception {
        Message question = userMessage(TestIds.next(), "mine", 1, server.now());
        server.push(token, List.of(), List.of(question));
        String otherToken = server.signUp("bob@example.com").accessToken();
        String bobsSession = TestIds.next();
        Message hijack = new Message(TestIds.next(), bobsSession, Role.ASSISTANT, "not yours", "parley-local", null,
                3L, null, question.id(), server.now(), 5L, null, null);
        Message toNobody = new Message(TestIds.next(), bobsSession, Role.ASSISTANT, "to nobody", "parley-local", null,
                3L, null, TestIds.next(), server.now(), 5L, null, null);

        PushResponse result = server.push(otherToken, List.of(), List.of(hijack, toNobody));

        assertThat(result.messages()).extracting(RowResult::code)
                .containsExactly(RowResult.NOT_FOUND, RowResult.NOT_FOUND);
        assertThat(result.messages().get(0).reason()).isEqualTo(result.messages().get(1).reason());
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'")).isZero();
    }

    @Test
    void replyFiledInAnotherSessionThanItsQuestionIsRejected() throws Exception {
        Message question = userMessage(TestIds.next(), "where am I?", 1, server.now());
        Message reply = assistantReply(question, "elsewhere", 2, 10);
        Message misfiled = new Message(reply.id(), TestIds.next(), Role.ASSISTANT, reply.content(), reply.model(),
                null, 2L, null, question.id(), reply.messageTimestamp(), 10L, null, null);

        PushResponse result = server.push(token, List.of(), List.of(question, misfiled));

        assertThat(result.messages()).extracting(RowResult::result).containsExactly(Outcome.INSERTED, Outcome.REJECTED);
        assertThat(result.messages().get(1).code()).isEqualTo(RowResult.NOT_FOUND);
    }

    @Test
    void titlesResolveLastWriterWins() throws Exception {
        String sessionId = TestIds.next();
        Instant t0 = server.now().minusSeconds(60);
        server.push(token, List.of(session(sessionId, "First", t0)), List.of());

        PushResponse newer = server.push(token, List.of(Session.of(sessionId, "Newer", t0.plusSeconds(20), t0, null)),
                List.of());
        PushResponse older = server.push(token, List.of(Session.of(sessionId, "Older", t0.plusSeconds(10), t0, null)),
                List.of());

        assertThat(newer.sessions().get(0).result()).isEqualTo(Outcome.UPDATED);
        assertThat(older.sessions().get(0).result()).isEqualTo(Outcome.UNCHANGED);
        assertThat(server.queryString("SELECT title FROM chat_sessions")).isEqualTo("Newer");
        assertThat(usage("sessions_created")).isEqualTo(1);
    }

    @Test
    void futureTimestampIsClampedToTheServerClock() throws Exception {
        Instant farFuture = server.now().plusSeconds(3600);
        Message fromTheFuture = userMessage(TestIds.next(), "time travel", 1, farFuture);

        server.push(token, List.of(), List.of(fromTheFuture));

        long stored = server.queryLong("SELECT message_timestamp FROM chat_messages");
        assertThat(stored).isLessThanOrEqualTo(server.now().toEpochMilli());
        assertThat(stored).isGreaterThan(server.now().minusSeconds(60).toEpochMilli());
    }

    private long usage(String column) throws Exception {
        return server.queryLong("SELECT coalesce(sum(" + column + "), 0) FROM user_usage_daily WHERE user_id = '"
                + userId + "'");
    }

    private String usageSnapshot() throws Exception {
        return server.queryString("SELECT string_agg(usage_date || ':' || messages_sent || ':' || messages_received"
                + " || ':' || input_tokens || ':' || output_tokens || ':' || total_tokens || ':' || models_used || ':'"
                + " || sessions_created || ':' || generation_ms, '|' ORDER BY usage_date) FROM user_usage_daily")
                + server.queryString("SELECT string_agg(id || ':' || message_count || ':' || total_tokens, '|'"
                + " ORDER BY id) FROM chat_sessions");
    }

    private static Message withContentRoleSession(Message m, String content, Role role, String sessionId) {
        return new Message(m.id(), sessionId, role, content, m.model(), role == Role.USER ? m.inputTokens() : null,
                null, null, null, m.messageTimestamp(), null, null, null);
    }
}
