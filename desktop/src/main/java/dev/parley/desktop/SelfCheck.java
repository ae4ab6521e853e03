package dev.parley.desktop;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.Exchange;
import dev.parley.client.LocalSession;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.protocol.HealthResponse;
import dev.parley.protocol.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * {@code Parley --self-check}: whether this installation can run here, without a display and without starting
 * JavaFX (no JavaFX class is touched), for an installer's smoke test or a user's bug report. In the data directory,
 * as the app does, it reads the settings, starts the embedded server (its SQLite file and migrations) and opens the
 * client store against the server the app would use; it asks the embedded server's {@code /health}, and has one
 * chat exchange with the built-in model through a {@link ChatClient} of its own in a temporary directory, signed
 * out, so that the user's conversations and account are left as they were. The embedded server offers the
 * built-in model only: the user's other models need keys from the system keyring and the network, which a check
 * of the installation must not depend on.
 *
 * <p>Prints one line to {@code out} and returns 0 when every step passed; else prints the failed step and why to
 * {@code err} and returns 1. Everything it opened is closed before it returns. Call from one thread.
 */
final class SelfCheck {
    /** The longest the check waits for the built-in model's reply or the server's health answer. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private String step = "starting";

    private SelfCheck() {
    }

    /** Runs the check over {@code dataDir}, reading {@code PARLEY_SERVER_URL} from {@code environment}. */
    static int run(Path dataDir, UnaryOperator<String> environment, PrintStream out, PrintStream err) {
        SelfCheck check = new SelfCheck();
        long started = System.nanoTime();
        try {
            String report = check.check(dataDir, environment);
            out.printf(Locale.ROOT, "Parley %s self-check passed in %.1f s: %s%n", Launcher.version(),
                    (System.nanoTime() - started) / 1e9, report);
            return 0;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            err.println("Parley self-check failed while " + check.step + ": " + reason(e) + " (data directory "
                    + dataDir.toAbsolutePath() + ")");
            return 1;
        }
    }

    private String check(Path dataDir, UnaryOperator<String> environment) throws Exception {
        step = "reading the settings in " + dataDir.toAbsolutePath();
        String configured = environment.apply("PARLEY_SERVER_URL");
        String serverUrl = configured != null && !configured.isBlank() ? configured
                : new SettingsStore(dataDir).load().serverUrl();

        step = "starting the embedded server";
        try (EmbeddedServer server = EmbeddedServer.start(dataDir)) {
            step = "asking the embedded server's /health";
            String health = health(server.url());

            step = "opening the client store";
            String store;
            ClientConfig.Builder app = serverUrl == null
                    ? ClientConfig.builder(dataDir, server.url()).launchSecret(server.launchSecret())
                    : ClientConfig.builder(dataDir, serverUrl);
            try (ChatClient client = ChatClient.open(app.build())) {
                store = "client store opened (" + client.account().map(a -> "signed in as " + a.email())
                        .orElse("signed out") + ", server " + (serverUrl == null ? "embedded" : serverUrl) + ")";
            }

            step = "chatting with the built-in model";
            String reply = roundTrip(server);
            return "data directory " + dataDir.toAbsolutePath() + "; " + store + "; embedded server "
                    + server.url() + " " + health + "; " + reply;
        }
    }

    /** {@code GET /health} needs no launch secret; "ok", else a failure naming the answer. */
    private static String health(String serverUrl) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(serverUrl + "/health"))
                .timeout(TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
        HealthResponse health = response.statusCode() == 200
                ? Json.newMapper().readValue(response.body(), HealthResponse.class) : null;
        if (health == null || !"ok".equals(health.status())) {
            throw new IllegalStateException("/health answered " + response.statusCode() + " " + response.body());
        }
        return "healthy";
    }

    /** One message and its reply, in a store of the check's own, deleted afterwards. */
    private static String roundTrip(EmbeddedServer server)
            throws IOException, InterruptedException, ExecutionException {
        Path scratch = Files.createTempDirectory("parley-self-check");
        try (ChatClient client = ChatClient.open(ClientConfig.builder(scratch, server.url())
                .launchSecret(server.launchSecret()).build())) {
            LocalSession session = client.newSession("Self-check");
            long sent = System.nanoTime();
            Exchange exchange = client.send(session.id(), "Parley self-check: say something.", null);
            Exchange.Outcome outcome;
            try {
                outcome = exchange.outcome().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new IllegalStateException("no reply within " + TIMEOUT.toSeconds() + " s", e);
            }
            if (outcome.reply() == null || outcome.reply().failed() || exchange.text().isBlank()) {
                throw new IllegalStateException("no reply (the message ended "
                        + (outcome.userMessage().errorCode() == null ? "without one"
                        : "with error " + outcome.userMessage().errorCode()) + ")");
            }
            return String.format(Locale.ROOT, "built-in model replied in %d ms (%d characters)",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent), exchange.text().length());
        } finally {
            deleteTree(scratch);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the self-check's temporary store " + dir, e);
        }
    }

    /** The failure's own words: the first message along its causes, else what kind of failure it was. */
    private static String reason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage();
            }
        }
        return failure.getClass().getSimpleName();
    }
}
