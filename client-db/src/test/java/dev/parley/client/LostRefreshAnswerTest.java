package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.MutableClock;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A refresh whose answer is lost (SPEC §8): the server rotated the tokens, the client never heard and still holds
 * the spent refresh token. Sending it again within 30 s gets a new pair of the same family, so the device stays
 * signed in instead of being signed out as if its token had been stolen.
 */
class LostRefreshAnswerTest {
    private static final String ADA = "ada@example.com";
    private static final String PASSWORD = "correct horse battery";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private Backend backend;
    private ChatClient device;

    @AfterEach
    void stop() throws Exception {
        if (device != null) {
            device.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void theClientRetriesARefreshWhoseAnswerWasLostAndStaysSignedIn() throws Exception {
        MutableClock serverClock = new MutableClock();
        backend = new Backend(dir, b -> b.accessTokenTtl(Duration.ofMinutes(1)).clock(serverClock));
        FaultProxy net = backend.newProxy();
        device = backend.client("device", net);
        device.signUp(ADA, PASSWORD);
        AuthResponse before = readTokens();
        LocalSession session = device.newSession("Refreshed");
        net.mode(Mode.DOWN);
        device.send(session.id(), "Written while offline", null).outcome().get(20, TimeUnit.SECONDS);
        serverClock.advance(Duration.ofMinutes(5)); // the access token has expired

        net.mode(Mode.CUT_FIRST_REFRESH_REPLY);
        device.connectivityRegained();
        Backend.await(WAIT, "the outbox to drain", () -> device.syncStatus().unsent() == 0);

        assertThat(net.cutReplies()).as("the first refresh's answer was lost").isEqualTo(1);
        assertThat(device.account()).get().extracting(Account::email).isEqualTo(ADA);
        AuthResponse after = readTokens();
        assertThat(after.refreshToken()).isNotEqualTo(before.refreshToken());
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
        assertThat(backend.queryLong("SELECT count(DISTINCT family_id) FROM auth_tokens")).isEqualTo(1);
        assertThat(backend.queryLong("SELECT count(*) FROM auth_tokens WHERE kind = 'refresh'"
                + " AND revoked_at IS NULL")).as("the family is live, with one refresh token").isEqualTo(1);
        assertThat(backend.mismatches()).isEmpty();
    }

    private AuthResponse readTokens() throws Exception {
        return Json.newMapper().readValue(device.tokenFile().toFile(), AuthResponse.class);
    }
}
