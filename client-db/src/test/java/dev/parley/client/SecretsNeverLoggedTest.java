package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.MutableClock;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole session of one user, client and server in this process, with every log line captured: sign-up, sends,
 * tokens refreshed, an outage, a wrong password, sign-out and sign-in. No password and no token (access or refresh,
 * old or new) appears in the log, and the token file stays owner-only through every rewrite.
 */
class SecretsNeverLoggedTest {
    private static final String PASSWORD = "a secret nobody logs 4471";
    private static final String WRONG = "a wrong guess nobody logs 8812";

    @TempDir
    Path dir;

    private final ObjectMapper json = Json.newMapper();

    @Test
    void noPasswordOrTokenEverReachesTheLog() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        List<String> secrets = new ArrayList<>(List.of(PASSWORD, WRONG));
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        MutableClock serverClock = new MutableClock();
        try (Backend backend = new Backend(dir, b -> b.clock(serverClock).accessTokenTtl(Duration.ofMinutes(1)));
             ChatClient client = backend.client("device")) {
            client.signUp("ada@example.com", PASSWORD);
            secrets.addAll(tokens(client));
            LocalSession session = client.newSession("Secrets");
            client.send(session.id(), "first", null).outcome().get(20, TimeUnit.SECONDS);

            serverClock.advance(Duration.ofMinutes(2)); // the access token expires: the next call refreshes it
            client.send(session.id(), "after expiry", null).outcome().get(20, TimeUnit.SECONDS);
            List<String> refreshed = tokens(client);
            assertThat(refreshed).doesNotContainAnyElementsOf(secrets);
            secrets.addAll(refreshed);
            assertOwnerOnly(client.tokenFile());

            backend.proxy.mode(Mode.DOWN);
            client.send(session.id(), "during the outage", null).outcome().get(20, TimeUnit.SECONDS);
            client.pushNow().get(20, TimeUnit.SECONDS);
            backend.proxy.mode(Mode.PASS);
            client.signOut();
            assertThatThrownBy(() -> client.signIn("ada@example.com", WRONG)).isInstanceOf(ClientException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(WRONG));
            client.signIn("ada@example.com", PASSWORD);
            secrets.addAll(tokens(client));
            assertOwnerOnly(client.tokenFile());
            Backend.await(Duration.ofSeconds(20), "the outbox to drain", () -> client.syncStatus().unsent() == 0);
        } finally {
            System.setErr(original);
        }

        String log = captured.toString(StandardCharsets.UTF_8);
        assertThat(log).as("client and server both logged").contains("dev.parley.client", "Javalin");
        for (String secret : secrets) {
            assertThat(log).as("the log").doesNotContain(secret);
        }
        assertThat(log).doesNotContain("Bearer ", "refreshToken", "accessToken");
    }

    @Test
    void aTokenFileLeftReadableByOthersIsReplacedByAnOwnerOnlyOne() throws Exception {
        try (Backend backend = new Backend(dir)) {
            try (ChatClient client = backend.client("device")) {
                client.signUp("ada@example.com", PASSWORD);
                Files.setPosixFilePermissions(client.tokenFile(),
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                client.signOut();
                client.signIn("ada@example.com", PASSWORD);

                assertOwnerOnly(client.tokenFile());
                assertThat(client.tokenFile().resolveSibling("account.json.tmp")).doesNotExist();
            }
        }
    }

    private List<String> tokens(ChatClient client) throws Exception {
        AuthResponse stored = json.readValue(client.tokenFile().toFile(), AuthResponse.class);
        return List.of(stored.accessToken(), stored.refreshToken());
    }

    private static void assertOwnerOnly(Path file) throws Exception {
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
    }
}
