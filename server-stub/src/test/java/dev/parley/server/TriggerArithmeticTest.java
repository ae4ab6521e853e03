package dev.parley.server;

import static dev.parley.server.testing.TestServer.assistantReply;
import static dev.parley.server.testing.TestServer.session;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.Message;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admin SQL that rewrites counted rows directly: the triggers alone must keep every counter exact (SPEC §4.1,
 * "whichever path wrote it"). The API never changes a counted row, so only these tests reach those paths.
 */
class TriggerArithmeticTest {
    @TempDir
    Path dir;

    TestServer server;
    String sessionA;
    String sessionB;
    Message question;
    Message reply;

    @BeforeEach
    void start() {
        server = TestServer.start(dir);
        String token = server.signUp("ada@example.com").accessToken();
        sessionA = TestIds.next();
        sessionB = TestIds.next();
        question = userMessage(sessionA, "question", 11, server.now().minusSeconds(10));
        reply = assistantReply(question, "answer", 13, 250);
        server.push(token, List.of(session(sessionA, "A", server.now().minusSeconds(20)),
                session(sessionB, "B", server.now().minusSeconds(20))), List.of(question, reply));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void rewritingTokensOfACountedRowMovesTheCountersByTheDifference() throws Exception {
        server.execute("UPDATE chat_messages SET output_tokens = 20, total_tokens = 20 WHERE id = '" + reply.id() + "'");

        assertThat(server.queryLong("SELECT output_tokens FROM user_usage_daily")).isEqualTo(20);
        assertThat(server.queryLong("SELECT messages_received FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void changingTheModelMovesItsUse() throws Exception {
        server.execute("UPDATE chat_messages SET model = 'other-model' WHERE id = '" + reply.id() + "'");

        assertThat(server.queryCounts("SELECT models_used FROM user_usage_daily"))
                .isEqualTo(Map.of("parley-local", 1L, "other-model", 1L));
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void markingACountedRowFailedRemovesItsContributionAndItsLastMessageRole() throws Exception {
        server.execute("UPDATE chat_messages SET error_message = 'retracted', output_tokens = 0, total_tokens = 0"
                + " WHERE id = '" + reply.id() + "'");

        assertThat(server.queryLong("SELECT messages_received FROM user_usage_daily")).isZero();
        assertThat(server.queryString("SELECT last_message_preview FROM chat_sessions WHERE id = '" + sessionA + "'"))
                .isEqualTo("question");
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void movingAMessageToAnotherSessionMovesItsStatistics() throws Exception {
        server.execute("UPDATE chat_messages SET session_id = '" + sessionB + "' WHERE id = '" + reply.id() + "'");

        assertThat(server.queryLong("SELECT message_count FROM chat_sessions WHERE id = '" + sessionA + "'"))
                .isEqualTo(1);
        assertThat(server.queryLong("SELECT message_count FROM chat_sessions WHERE id = '" + sessionB + "'"))
                .isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void movingAMessageToAnotherDayMovesItsUsage() throws Exception {
        long dayEarlier = reply.messageTimestamp().minusSeconds(86_400).toEpochMilli();
        server.execute("UPDATE chat_messages SET message_timestamp = " + dayEarlier + " WHERE id = '" + reply.id() + "'");

        assertThat(server.queryLong("SELECT count(*) FROM user_usage_daily WHERE messages_received = 1")).isEqualTo(1);
        assertThat(server.queryLong("SELECT count(*) FROM user_usage_daily")).isEqualTo(2);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void hardDeletingASessionAndItsMessagesRemovesEverything() throws Exception {
        server.execute("DELETE FROM chat_messages WHERE session_id = '" + sessionA + "'");
        server.execute("DELETE FROM chat_sessions WHERE id = '" + sessionA + "'");

        assertThat(server.queryLong("SELECT sum(messages_sent + messages_received + total_tokens) FROM user_usage_daily"))
                .isZero();
        assertThat(server.queryLong("SELECT sum(sessions_created) FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }
}
