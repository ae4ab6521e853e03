package dev.parley.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.server.testing.TestDatabases;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code parley server} as an operator runs it: a separate JVM, its announcement line, its option checks. */
class ServerCommandTest {
    private static final Pattern LISTENING = Pattern.compile("Parley server listening on (http://127\\.0\\.0\\.1:\\d+)");

    @TempDir
    Path dir;

    @Test
    void serverAnnouncesItsAddressOnceItAcceptsRequests() throws Exception {
        String db = TestDatabases.emptyDatabase(dir, "cli");
        Process process = new ProcessBuilder(List.of(javaBinary(), "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "server", "--port", "0", "--db", db))
                .redirectError(dir.resolve("stderr.txt").toFile())
                .start();
        // Destroying the process (finally) closes its output, which ends the reading thread.
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        try {
            // Read on another thread, so that a child that never announces fails the test instead of hanging it.
            String url = CompletableFuture.supplyAsync(() -> announcedUrl(out)).get(120, TimeUnit.SECONDS);
            assertThat(url).as("announcement line; stderr: %s", Files.readString(dir.resolve("stderr.txt")))
                    .isNotNull();

            HttpResponse<String> health = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(url + "/health")).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"database\":\"ok\"");
            try (Connection c = DriverManager.getConnection(db); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM users")) {
                assertThat(rs.next()).as("the schema was migrated").isTrue();
            }
        } finally {
            process.destroy();
            assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
        }
    }

    @Test
    void optionsOutOfRangeAreRefusedBeforeStarting() {
        assertThat(Main.run("server", "--port", "70000")).isEqualTo(2);
        assertThat(Main.run("server", "--db", "jdbc:mysql://localhost/parley")).isEqualTo(2);
        assertThat(Main.run("server", "--local-model-fail-rate", "1.5")).isEqualTo(2);
        assertThat(Main.run("server", "--model-provider", "openai")).isEqualTo(2);
        assertThat(Main.run("server", "--model-provider", "magic")).isEqualTo(2);
    }

    private static String announcedUrl(BufferedReader out) {
        try {
            String line;
            while ((line = out.readLine()) != null) {
                Matcher matcher = LISTENING.matcher(line);
                if (matcher.matches()) {
                    return matcher.group(1);
                }
            }
            return null;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
