package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.RefreshRequest;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC §8 for accounts: e-mail and password must be valid Unicode, common passwords are refused, a refresh retried
 * after a lost answer keeps the device signed in, and expired and revoked tokens are purged.
 */
class AccountSecurityTest {
    private static final String PASSWORD = "correct horse battery staple";

    @TempDir
    Path dir;

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start(UnaryOperator<ServerConfig.Builder> customize) {
        server = TestServer.start(dir, customize);
    }

    // ----------------------------------------------------------------- valid Unicode

    @Test
    void loneSurrogateInEmailOrPasswordIsABadRequestAndNothingIsStored() throws Exception {
        start(b -> b);

        HttpApi.Response email = rawSignUp("{\"email\":\"ada\\ud800@example.com\",\"password\":\"" + PASSWORD + "\"}");
        HttpApi.Response password = rawSignUp("{\"email\":\"ada@example.com\",\"password\":\"correct\\udc00horse"
                + " battery\"}");

        for (HttpApi.Response response : List.of(email, password)) {
            assertThat(response.status()).as(response.body()).isEqualTo(400);
            assertThat(response.errorCode()).isEqualTo("bad_request");
            assertThat(response.json().path("error").path("message").asText()).contains("Unicode");
        }
        assertThat(server.queryLong("SELECT COUNT(*) FROM users")).isZero();
    }

    @Test
    void loneSurrogateInASignInPasswordNeverMatchesAPasswordWithAQuestionMark() throws Exception {
        start(b -> b);
        assertThat(signUp("ada@example.com", "why? because I said so").status()).isEqualTo(201);

        // Encoded as UTF-8 a lone surrogate becomes '?', which is what the stored password holds there.
        HttpApi.Response signIn = server.api.post("/api/auth/signin",
                "{\"email\":\"ada@example.com\",\"password\":\"why\\ud800 because I said so\"}", null);

        assertThat(signIn.status()).as(signIn.body()).isEqualTo(400);
        assertThat(signIn.body()).doesNotContain("accessToken");
        assertThat(signIn("ada@example.com", "why? because I said so").status()).isEqualTo(200);
    }

    @Test
    void surrogatePairsAreValidUnicodeAndAccepted() {
        start(b -> b);

        assertThat(signUp("émoji@example.com", "a rocket 🚀 to the moon").status()).isEqualTo(201);
        assertThat(signIn("émoji@example.com", "a rocket 🚀 to the moon").status()).isEqualTo(200);
    }

    // ----------------------------------------------------------------- common passwords

    @Test
    void commonPasswordsAreRefusedWithAPlainMessageWhateverTheirCase() throws Exception {
        start(b -> b);

        for (String common : List.of("12345678", "password", "Password123", "qwertyuiop", "iloveyou1",
                "11111111", "1q2w3e4r", "P@ssw0rd", "sunshine2024", "letmein!")) {
            HttpApi.Response response = signUp("user" + Math.abs(common.hashCode()) + "@example.com", common);

            assertThat(response.status()).as(common).isEqualTo(400);
            assertThat(response.errorCode()).isEqualTo("bad_request");
            assertThat(response.json().path("error").path("message").asText()).as(common)
                    .contains("most common");
        }
        assertThat(server.queryLong("SELECT COUNT(*) FROM users")).isZero();
        assertThat(signUp("ada@example.com", PASSWORD).status()).isEqualTo(201);
    }

    // ----------------------------------------------------------------- refresh grace

    @Test
    void refreshTokenUsedAgainWithin30SecondsGetsANewPairOfTheSameFamily() throws Exception {
        start(b -> b);
        AuthResponse first = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);
        AuthResponse lost = refresh(first.refreshToken()).as(AuthResponse.class); // the answer that never arrived
        server.clock.advance(Duration.ofSeconds(25));

        HttpApi.Response retried = refresh(first.refreshToken());

        assertThat(retried.status()).as(retried.body()).isEqualTo(200);
        AuthResponse again = retried.as(AuthResponse.class);
        assertThat(again.user()).isEqualTo(first.user());
        assertThat(again.accessToken()).isNotIn(first.accessToken(), lost.accessToken());
        assertThat(again.refreshToken()).isNotIn(first.refreshToken(), lost.refreshToken());
        assertThat(sessionsWith(again.accessToken()).status()).isEqualTo(200);
        assertThat(server.queryLong("SELECT COUNT(DISTINCT family_id) FROM auth_tokens")).isEqualTo(1);
        // The new pair replaces the lost one, and refreshes as any pair does.
        assertThat(sessionsWith(lost.accessToken()).status()).isEqualTo(401);
        assertThat(refresh(again.refreshToken()).status()).isEqualTo(200);
    }

    @Test
    void refreshTokenUsedAgainAfter30SecondsRevokesTheFamily() {
        start(b -> b);
        AuthResponse first = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);
        AuthResponse rotated = refresh(first.refreshToken()).as(AuthResponse.class);
        server.clock.advance(Duration.ofSeconds(10));
        AuthResponse retried = refresh(first.refreshToken()).as(AuthResponse.class); // within the grace
        server.clock.advance(Duration.ofSeconds(21)); // 31 s after the first rotation, 21 s after the second

        HttpApi.Response late = refresh(first.refreshToken());

        assertThat(late.status()).isEqualTo(401);
        assertThat(late.errorCode()).isEqualTo("unauthorized");
        assertThat(sessionsWith(retried.accessToken()).status()).isEqualTo(401);
        assertThat(refresh(retried.refreshToken()).status()).isEqualTo(401);
        assertThat(refresh(rotated.refreshToken()).status()).isEqualTo(401);
    }

    @Test
    void refreshTokenOfASignedOutFamilyGetsNoGrace() {
        start(b -> b);
        AuthResponse first = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);
        AuthResponse rotated = refresh(first.refreshToken()).as(AuthResponse.class);
        assertThat(server.api.post("/api/auth/signout", null, rotated.accessToken()).status()).isEqualTo(204);

        HttpApi.Response retried = refresh(first.refreshToken());

        assertThat(retried.status()).isEqualTo(401);
        assertThat(retried.body()).doesNotContain("accessToken");
    }

    // ----------------------------------------------------------------- purge

    @Test
    void expiredAndRevokedTokensArePurgedWhileALiveFamilyKeepsWhatDetectsReuse() throws Exception {
        start(b -> b.accessTokenTtl(Duration.ofMinutes(5)).refreshTokenTtl(Duration.ofHours(1)));
        AuthResponse laptop = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);
        AuthResponse phone = signIn("ada@example.com", PASSWORD).as(AuthResponse.class);
        assertThat(server.api.post("/api/auth/signout", null, phone.accessToken()).status()).isEqualTo(204);
        AuthResponse laptopNow = refresh(laptop.refreshToken()).as(AuthResponse.class);
        String laptopFamily = familyOf(laptop.refreshToken());
        String phoneFamily = familyOf(phone.refreshToken());
        assertThat(server.queryLong("SELECT COUNT(*) FROM auth_tokens")).isEqualTo(6);

        server.clock.advance(Duration.ofMinutes(11)); // the laptop's access token expired; the sweep is due
        signUp("bob@example.com", PASSWORD);

        assertThat(server.queryLong("SELECT COUNT(*) FROM auth_tokens WHERE family_id = '" + phoneFamily + "'"))
                .as("a signed-out family").isZero();
        assertThat(server.queryStrings("SELECT kind FROM auth_tokens WHERE family_id = '" + laptopFamily + "'"
                + " ORDER BY created_at, kind")).as("the spent and the live refresh token; no access token")
                .containsExactly("refresh", "refresh");
        assertThat(server.queryLong("SELECT COUNT(*) FROM auth_tokens")).isEqualTo(4);
        // The spent one still tells a theft from a retry: presented long after its rotation, it ends the family.
        assertThat(refresh(laptop.refreshToken()).status()).isEqualTo(401);
        assertThat(refresh(laptopNow.refreshToken()).status()).isEqualTo(401);

        server.clock.advance(Duration.ofHours(2)); // every token has expired
        signIn("bob@example.com", PASSWORD);

        assertThat(server.queryLong("SELECT COUNT(*) FROM auth_tokens")).as("only bob's new pair").isEqualTo(2);
    }

    // ----------------------------------------------------------------- helpers

    private String familyOf(String refreshToken) throws Exception {
        return server.queryString("SELECT family_id FROM auth_tokens WHERE token_hash = '" + sha256(refreshToken)
                + "'");
    }

    private static String sha256(String token) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private HttpApi.Response rawSignUp(String json) {
        return server.api.post("/api/auth/signup", json, null);
    }

    private HttpApi.Response signUp(String email, String password) {
        return server.api.post("/api/auth/signup", new Credentials(email, password), null);
    }

    private HttpApi.Response signIn(String email, String password) {
        return server.api.post("/api/auth/signin", new Credentials(email, password), null);
    }

    private HttpApi.Response refresh(String refreshToken) {
        return server.api.post("/api/auth/refresh", new RefreshRequest(refreshToken), null);
    }

    private HttpApi.Response sessionsWith(String accessToken) {
        return server.api.get("/api/chat/sessions", accessToken);
    }
}
