package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.Credentials;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.ServerProcess;
import dev.parley.server.testing.TestDatabases;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Password hashing runs with bounded concurrency (SPEC §8): fifty sign-ins at once against a server with a 256 MiB
 * heap, where each Argon2id hash holds 19 MiB, get answers, never a 500 or a cut connection — 200 or 401 for those
 * that were checked, 429 or 503 {@code unavailable} (retryable) for the rest, each refusal with the JSON error body.
 */
class SignInFloodTest {
    private static final int SIGN_INS = 50;
    private static final String PASSWORD = "correct horse battery staple";
    /** A G1 log line's heap before and after the pause: {@code 120M->30M(256M)}. */
    private static final Pattern GC_HEAP = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");

    @TempDir
    Path dir;

    @Test
    void fiftyConcurrentSignInsOnASmallHeapAreAnsweredWithoutAServerError() throws Exception {
        Path gcLog = dir.resolve("gc.log");
        try (ServerProcess process = ServerProcess.start(dir, "flood",
                List.of("-Xmx256m", "-Xlog:gc:file=" + gcLog),
                "--port", "0", "--db", TestDatabases.urlFor(dir))) {
            String url = process.awaitUrl();
            HttpApi api = new HttpApi(url);
            for (int i = 0; i < 3; i++) {
                HttpApi.Response signUp = api.post("/api/auth/signup",
                        new Credentials("owner" + i + "@example.com", PASSWORD), null);
                assertThat(signUp.status()).as(signUp.body()).isEqualTo(201);
            }
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < SIGN_INS; i++) {
                // Owners with the right password, owners with a wrong one, and accounts that do not exist: all hash.
                String email = i % 5 == 0 ? "owner" + (i % 3) + "@example.com" : "nobody" + i + "@example.com";
                String password = i % 10 == 0 ? PASSWORD : "a wrong guess " + i;
                byte[] body = HttpApi.JSON.writeValueAsBytes(new Credentials(email, password));
                answers.add(client.sendAsync(HttpRequest.newBuilder(URI.create(url + "/api/auth/signin"))
                        .timeout(Duration.ofSeconds(40)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }

            Map<Integer, Integer> byStatus = new TreeMap<>();
            for (CompletableFuture<HttpResponse<String>> answer : answers) {
                HttpResponse<String> response = answer.get(50, TimeUnit.SECONDS);
                byStatus.merge(response.statusCode(), 1, Integer::sum);
                assertThat(response.statusCode()).as(response.body()).isIn(200, 401, 429, 503);
                assertThat(response.body()).isNotEmpty();
                if (response.statusCode() != 200) {
                    JsonNode error = HttpApi.JSON.readTree(response.body()).path("error");
                    assertThat(error.path("code").asText()).isIn("unauthorized", "rate_limited", "unavailable");
                    assertThat(error.path("message").asText()).isNotBlank();
                    if (response.statusCode() == 503) {
                        assertThat(error.path("code").asText()).isEqualTo("unavailable");
                        assertThat(error.path("retryable").asBoolean()).isTrue();
                    }
                }
            }
            assertThat(api.get("/health", null).status()).as("still standing").isEqualTo(200);
            System.out.printf("%d sign-ins at once on -Xmx256m: answers by status %s; peak heap before a GC %d MiB%n",
                    SIGN_INS, byStatus, peakHeapMiB(gcLog));
            assertThat(byStatus).containsKey(503); // the bound was reached, and answered
        }
    }

    /** The largest heap in use before any collection the child JVM logged; 0 when it logged none. */
    private static long peakHeapMiB(Path gcLog) throws IOException {
        long peak = 0;
        if (!Files.exists(gcLog)) {
            return peak;
        }
        for (String line : Files.readAllLines(gcLog)) {
            Matcher m = GC_HEAP.matcher(line);
            while (m.find()) {
                peak = Math.max(peak, Long.parseLong(m.group(1)));
            }
        }
        return peak;
    }
}
