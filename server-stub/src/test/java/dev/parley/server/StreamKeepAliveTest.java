package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.ChatRequest;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.PacedModel;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream whose model is silent still hears from the server (SPEC §5.3: a comment at least every 15 s, here set to
 * 300 ms), so that proxies and clients do not take a slow model for a dead connection. Read as raw lines, since SSE
 * readers hide comments by design. The live change stream of §5.5, idle for as long as nothing changes, gets them too.
 */
class StreamKeepAliveTest {
    @TempDir
    Path dir;

    @Test
    void aSilentStreamGetsKeepAliveCommentsAndItsHeaders() throws Exception {
        PacedModel model = new PacedModel();
        try (TestServer server = TestServer.start(dir, config -> config.modelProvider(model)
                .streamKeepAlive(Duration.ofMillis(300)))) {
            String token = server.signUp("quiet@example.com").accessToken();
            ChatRequest request = new ChatRequest(TestIds.next(), TestIds.next(), "Think slowly", null,
                    Instant.now(), null, List.of());
            HttpRequest post = HttpRequest.newBuilder(URI.create(server.server.url() + "/api/chat"))
                    .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(HttpApi.JSON.writeValueAsBytes(request))).build();
            HttpResponse<java.util.stream.Stream<String>> response = HttpClient.newHttpClient()
                    .send(post, HttpResponse.BodyHandlers.ofLines());
            PacedModel.Reply reply = model.awaitReply();

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("text/event-stream"));
            assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-cache");
            Iterator<String> lines = response.body().iterator();
            String comment = CompletableFuture.supplyAsync(() -> {
                int comments = 0;
                while (lines.hasNext()) {
                    String line = lines.next();
                    if (line.startsWith(":") && ++comments == 2) {
                        return line; // two in a row: they keep coming while the model says nothing
                    }
                }
                return null;
            }).get(20, TimeUnit.SECONDS);
            reply.emit("Done thinking.").finish();

            assertThat(comment).isEqualTo(": keep-alive");
        }
    }

    @Test
    void anIdleLiveChangeStreamGetsKeepAliveCommentsToo() throws Exception {
        try (TestServer server = TestServer.start(dir, config -> config.streamKeepAlive(Duration.ofMillis(300)))) {
            String token = server.signUp("idle@example.com").accessToken();
            HttpRequest get = HttpRequest.newBuilder(URI.create(server.server.url() + "/api/chat/events"))
                    .header("Authorization", "Bearer " + token).GET().build();
            HttpResponse<java.util.stream.Stream<String>> response = HttpClient.newHttpClient()
                    .send(get, HttpResponse.BodyHandlers.ofLines());

            assertThat(response.statusCode()).isEqualTo(200);
            Iterator<String> lines = response.body().iterator();
            List<String> seen = CompletableFuture.supplyAsync(() -> {
                List<String> read = new java.util.ArrayList<>();
                int comments = 0;
                while (lines.hasNext() && comments < 2) {
                    String line = lines.next();
                    read.add(line);
                    if (line.startsWith(":")) {
                        comments++;
                    }
                }
                return read;
            }).get(20, TimeUnit.SECONDS);

            assertThat(seen).startsWith("event: changed").endsWith(": keep-alive");
        }
    }
}
