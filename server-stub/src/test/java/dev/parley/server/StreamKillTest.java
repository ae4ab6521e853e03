package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ErrorCode;
import dev.parley.server.testing.EventStream;
import dev.parley.server.testing.EventStream.Event;
import dev.parley.server.testing.ServerProcess;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC §5.3's promise about a process that dies mid-reply, with a real {@code kill -9}: the generating server is a
 * child JVM streaming word by word; once it has sent some words it is killed. Re-attaching on another process then
 * answers {@code interrupted} within 15 s (the claim, no longer renewed, lapses after 10 s), nothing was stored or
 * counted, and the same message id sent again is answered and counted once, with no claim left behind. Runs on
 * both dialects (on SQLite, two processes on one file).
 */
class StreamKillTest {
    @TempDir
    Path dir;

    @Test
    void aGeneratingProcessKilledMidReplyLeavesNothingStuck() throws Exception {
        try (TestServer survivor = TestServer.start(dir)) {
            String token = survivor.signUp("killed@example.com").accessToken();
            ChatRequest request = new ChatRequest(TestIds.next(), TestIds.next(), "Tell me a long story", null,
                    Instant.now(), null, List.of());
            try (ServerProcess generating = ServerProcess.start(dir, "generating", "--port", "0", "--db",
                    survivor.dbUrl, "--pool-size", "4", "--local-model-token-ms", "300")) {
                try (EventStream stream = EventStream.post(generating.awaitUrl(), "/api/chat", request, token)) {
                    stream.next("start");
                    stream.next("delta");
                    stream.next("delta");
                    generating.kill();
                }
            }
            long killed = System.nanoTime();

            try (EventStream again = EventStream.get(survivor.server.url(),
                    "/api/chat/" + request.messageId() + "/stream", token, null)) {
                List<Event> events = again.rest();
                Event last = events.get(events.size() - 1);
                assertThat(last.type()).isEqualTo("error");
                assertThat(last.json().path("error").path("code").asText()).isEqualTo(ErrorCode.INTERRUPTED.wire());
                assertThat(last.json().path("error").path("retryable").asBoolean()).isTrue();
            }
            assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(15));
            assertThat(survivor.queryLong("SELECT count(*) FROM chat_messages")).isZero();
            assertThat(survivor.mismatches()).isEmpty();

            var resent = survivor.api.post("/api/chat", request, token);

            assertThat(resent.status()).as(resent.toString()).isEqualTo(200);
            assertThat(survivor.model.calls()).isEqualTo(1);
            assertThat(survivor.queryLong("SELECT count(*) FROM chat_claims")).isZero();
            assertThat(survivor.queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(1);
            assertThat(survivor.queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(1);
            assertThat(survivor.mismatches()).isEmpty();
        }
    }
}
