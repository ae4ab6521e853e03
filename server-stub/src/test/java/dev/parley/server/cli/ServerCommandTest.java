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

    /*
     * The two tests below run the command in this JVM. Each also gives --port 70000, which the configuration refuses
     * (exit 2) right after the model provider is made, so that no server starts here even if the check under test
     * let the options through; the message then names --port instead of what the test expects.
     */

    @Test
    void badModelIdsAreRefusedAtStartNamingTheOptionAndTheId() throws Exception {
        List<String[]> cases = List.of(
                new String[] {"openai/gpt-4o-mini,,llama3.1:8b", "--models holds an empty model id"},
                new String[] {"", "--models holds an empty model id"},
                new String[] {"openai/gpt-4o-mini, llama3.1:8b,openai/gpt-4o-mini",
                        "--models lists model id 'openai/gpt-4o-mini' twice"},
                new String[] {"gpt 4o", "--models: 'gpt 4o' is not a model id"},
                new String[] {"m".repeat(201), "--models: model id 'mmmm"});
        for (String[] c : cases) {
            StringBuilder err = new StringBuilder();

            int exit = standardErrorOf(err, () -> Main.run("server", "--model-provider", "openai",
                    "--model-base-url", "http://127.0.0.1:9/v1", "--models", c[0], "--port", "70000"));

            assertThat(exit).as("exit code for --models '%s'", c[0]).isEqualTo(2);
            assertThat(err.toString()).as("for --models '%s'", c[0]).startsWith("parley server: " + c[1]);
        }
    }

    @Test
    void unreachableUpstreamWithoutModelsStopsTheStartWithAPlainMessage() throws Exception {
        int deadPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + deadPort + "/v1";
        StringBuilder err = new StringBuilder();

        int exit = standardErrorOf(err, () -> Main.run("server", "--model-provider", "openai", "--model-base-url", url,
                "--port", "70000"));

        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).startsWith("parley server: could not start: cannot reach the model provider at "
                + url).contains("--model-base-url", "--models").doesNotContain("Exception\n\tat");
    }

    /** Runs {@code command} with standard error captured into {@code err}; returns its result. */
    private static int standardErrorOf(StringBuilder err, java.util.function.IntSupplier command) {
        java.io.PrintStream original = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            return command.getAsInt();
        } finally {
            System.setErr(original);
            err.append(captured.toString(StandardCharsets.UTF_8));
            original.print(err);
        }
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
