package dev.parley.server;

import static dev.parley.server.testing.TestServer.session;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Errors only PostgreSQL raises, injected with a trigger whose counter is a sequence (which no rollback resets):
 * serialization failures, deadlocks and a connection the server terminates mid-transaction are retried, so the
 * client gets its answer and the rows count once, never a 500.
 */
@Tag("postgresql-only")
class PostgresFaultsTest {
    @TempDir
    Path dir;

    private TestServer server;
    private String token;

    @BeforeEach
    void start() {
        server = TestServer.start(dir);
        token = server.signUp("ada@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void serializationFailureAndDeadlockAreRetriedForAPush() throws Exception {
        failFirstMessageWrites();
        String sessionId = TestIds.next();
        Message question = userMessage(sessionId, "retried twice", 4, server.now());

        PushResponse pushed = server.push(token, List.of(session(sessionId, "S", server.now())), List.of(question));

        assertThat(pushed.messages().get(0).result()).isEqualTo(Outcome.INSERTED);
        assertThat(server.queryLong("SELECT last_value FROM injected_failures")).as("two refused, one through")
                .isEqualTo(3);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
        assertThat(server.queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void serializationFailureAndDeadlockAreRetriedWhenAReplyIsStored() throws Exception {
        failFirstMessageWrites();

        Response response = server.chat(token, TestIds.next(), TestIds.next(), "hello");

        assertThat(response.status()).as("%s", response).isEqualTo(200);
        assertThat(response.as(ChatResponse.class).persisted()).isTrue();
        assertThat(server.model.calls()).isEqualTo(1);
        // The storing transaction inserts the user message, then the reply: it was refused twice at its first
        // insert and ran whole a third time, which took the user message (3) and the reply (4).
        assertThat(server.queryLong("SELECT last_value FROM injected_failures"))
                .as("two refused, then the user message and its reply").isEqualTo(4);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.queryLong("SELECT sum(messages_sent + messages_received) FROM user_usage_daily"))
                .isEqualTo(2);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void connectionTerminatedMidTransactionIsRetriedOnAFreshOne() throws Exception {
        server.execute("CREATE SEQUENCE terminations");
        server.execute("CREATE FUNCTION terminate_first_write() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN IF nextval('terminations') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid());"
                + " END IF; RETURN NEW; END $$");
        server.execute("CREATE TRIGGER terminate_first_write BEFORE INSERT ON chat_messages"
                + " FOR EACH ROW EXECUTE FUNCTION terminate_first_write()");
        String sessionId = TestIds.next();

        PushResponse pushed = server.push(token, List.of(session(sessionId, "S", server.now())),
                List.of(userMessage(sessionId, "after a lost connection", 4, server.now())));

        assertThat(pushed.messages().get(0).result()).isEqualTo(Outcome.INSERTED);
        assertThat(server.queryLong("SELECT last_value FROM terminations")).isEqualTo(2);
        assertThat(server.queryLong("SELECT count(*) FROM chat_sessions")).isEqualTo(1);
        assertThat(server.queryLong("SELECT sum(sessions_created) FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
        assertThat(server.api.get("/health", null).status()).isEqualTo(200);
    }

    /** The first message insert fails with a serialization failure, the second with a deadlock, later ones pass. */
    private void failFirstMessageWrites() throws Exception {
        server.execute("CREATE SEQUENCE injected_failures");
        server.execute("CREATE FUNCTION fail_first_writes() RETURNS trigger LANGUAGE plpgsql AS $$"
                + " BEGIN CASE nextval('injected_failures')"
                + " WHEN 1 THEN RAISE EXCEPTION 'injected' USING ERRCODE = 'serialization_failure';"
                + " WHEN 2 THEN RAISE EXCEPTION 'injected' USING ERRCODE = 'deadlock_detected';"
                + " ELSE NULL; END CASE; RETURN NEW; END $$");
        server.execute("CREATE TRIGGER fail_first_writes BEFORE INSERT ON chat_messages"
                + " FOR EACH ROW EXECUTE FUNCTION fail_first_writes()");
    }
}
