package dev.parley.server;

import static dev.parley.server.testing.TestServer.session;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.Message;
import dev.parley.protocol.Session;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server counts every row its direct-write endpoint receives, by kind and result: what a benchmark reads to
 * know how many rows a client really sent, and what an operator watches.
 */
class PushMetricsTest {
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
    void everyPushedRowIsCountedOnceByKindAndResult() {
        String sessionId = TestIds.next();
        List<Session> sessions = List.of(session(sessionId, "Counted", server.now()));
        List<Message> messages = List.of(userMessage(sessionId, "one", 3, server.now()),
                userMessage(sessionId, "two", 3, server.now()));

        server.push(token, sessions, messages);
        server.push(token, sessions, messages);
        Message refused = userMessage(TestIds.next(), "a NUL \u0000 is refused", 1, server.now());
        server.push(token, List.of(), List.of(refused));

        assertThat(rows("session", "inserted")).isEqualTo(1);
        assertThat(rows("message", "inserted")).isEqualTo(2);
        assertThat(rows("session", "unchanged")).isEqualTo(1);
        assertThat(rows("message", "unchanged")).isEqualTo(2);
        assertThat(rows("message", "rejected")).isEqualTo(1);
        assertThat(rows("message", "updated")).isZero();
    }

    private double rows(String kind, String result) {
        Counter counter = server.server.meters().find("parley.push.rows").tags("kind", kind, "result", result)
                .counter();
        return counter == null ? 0 : counter.count();
    }
}
