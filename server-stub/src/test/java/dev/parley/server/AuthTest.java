package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.RefreshRequest;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Accounts and bearer tokens (SPEC §5 auth rows, §3 limits): what is stored, what is refused, what expires. */
class AuthTest {
    private static final String PASSWORD = "correct horse battery staple";
    private static final String BASE64URL_256_BITS = "[A-Za-z0-9_-]{43,}";

    @TempDir
    Path dir;

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private TestServer start() {
        return start(b -> b);
    }

    private TestServer start(UnaryOperator<ServerConfig.Builder> customize) {
        server = TestServer.start(dir, customize);
        return server;
    }

    // ----------------------------------------------------------------- sign-up

    @Test
    void signUpAnswersCreatedWithUserAndBothTokens() {
        start();
        Instant before = server.now();

        HttpApi.Response response = signUp("ada@example.com", PASSWORD);

        assertThat(response.status()).isEqualTo(201);
        AuthResponse auth = response.as(AuthResponse.class);
        assertThat(auth.user().id()).isNotBlank();
        assertThat(auth.user().email()).isEqualTo("ada@example.com");
        assertThat(auth.accessToken()).isNotBlank();
        assertThat(auth.refreshToken()).isNotBlank().isNotEqualTo(auth.accessToken());
        assertThat(auth.expiresAt()).isAfter(before.plus(Duration.ofMinutes(59)))
                .isBefore(server.now().plus(Duration.ofMinutes(61)));
        assertThat(sessionsWith(auth.accessToken()).status()).isEqualTo(200);
    }

    @Test
    void emailIsStoredLowerCasedSoSignInIgnoresItsCase() throws Exception {
        start();

        AuthResponse signedUp = signUp("Ada@Example.COM", PASSWORD).as(AuthResponse.class);
        HttpApi.Response signedIn = signIn("ada@example.com", PASSWORD);

        assertThat(signedUp.user().email()).isEqualTo("ada@example.com");
        assertThat(server.queryString("SELECT email FROM users WHERE id = '" + signedUp.user().id() + "'"))
                .isEqualTo("ada@example.com");
        assertThat(signedIn.status()).isEqualTo(200);
        assertThat(signedIn.as(AuthResponse.class).user().id()).isEqualTo(signedUp.user().id());
    }

    @Test
    void duplicateEmailIsAConflictWhateverItsCase() throws Exception {
        start();
        signUp("ada@example.com", PASSWORD);

        HttpApi.Response again = signUp("ADA@example.com", "another password");

        assertThat(again.status()).isEqualTo(409);
        assertThat(again.errorCode()).isEqualTo("conflict");
        assertThat(server.queryLong("SELECT COUNT(*) FROM users")).isEqualTo(1);
        assertThat(signIn("ada@example.com", PASSWORD).status()).isEqualTo(200);
    }

    @Test
    void invalidEmailIsABadRequest() throws Exception {
        start();

        for (String email : List.of("", "not-an-email", "ada@", "@example.com", "ada@example", "ada lovelace@example.com",
                "ada@@example.com")) {
            HttpApi.Response response = signUp(email, PASSWORD);

            assertThat(response.status()).as("sign-up with '%s'", email).isEqualTo(400);
            assertThat(response.errorCode()).as("sign-up with '%s'", email).isEqualTo("bad_request");
        }
        assertThat(server.queryLong("SELECT COUNT(*) FROM users")).isZero();
    }

    @Test
    void emailOver254CharactersIsABadRequestAnd254AreAccepted() throws Exception {
        start();
        String domain = "@example.com";
        String longest = "a".repeat(254 - domain.length()) + domain;
        String tooLong = "a".repeat(255 - domain.length()) + domain;

        HttpApi.Response refused = signUp(tooLong, PASSWORD);
        HttpApi.Response accepted = signUp(longest, PASSWORD);

        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo("bad_request");
        assertThat(accepted.status()).isEqualTo(201);
        assertThat(server.queryLong("SELECT COUNT(*) FROM users")).isEqualTo(1);
    }

    @Test
    void passwordOutside8To1024CharactersIsABadRequest() throws Exception {
        start();

        HttpApi.Response tooShort = signUp("short@example.com", "x".repeat(7));
        HttpApi.Response tooLong = signUp("long@example.com", "x".repeat(1025));

        assertThat(tooShort.status()).isEqualTo(400);
        assertThat(tooShort.errorCode()).isEqualTo("bad_request");
        assertThat(tooLong.status()).isEqualTo(400);
        assertThat(tooLong.errorCode()).isEqualTo("bad_request");
        assertThat(server.queryLong("SELECT COUNT(*) FROM users")).isZero();
    }

    @Test
    void passwordsOf8And1024CharactersAreAccepted() {
        start();

        assertThat(signUp("shortest@example.com", "k7#qz2Lm").status()).isEqualTo(201);
        assertThat(signUp("longest@example.com", "y".repeat(1024)).status()).isEqualTo(201);
        assertThat(signIn("longest@example.com", "y".repeat(1024)).status()).isEqualTo(200);
    }

    // ----------------------------------------------------------------- sign-in

    @Test
    void wrongPasswordAndUnknownEmailGetTheSameUnauthorizedAnswer() {
        start();
        signUp("ada@example.com", PASSWORD);

        HttpApi.Response wrongPassword = signIn("ada@example.com", "not the password");
        HttpApi.Response unknownEmail = signIn("nobody@example.com", "not the password");

        assertThat(wrongPassword.status()).isEqualTo(401);
        assertThat(wrongPassword.errorCode()).isEqualTo("unauthorized");
        assertThat(unknownEmail.status()).isEqualTo(401);
        assertThat(unknownEmail.body()).isEqualTo(wrongPassword.body());
    }

    @Test
    void passwordIsStoredAsAnArgon2idHash() throws Exception {
        start();
        AuthResponse auth = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);

        String stored = server.queryString("SELECT password_hash FROM users WHERE id = '" + auth.user().id() + "'");

        assertThat(stored).startsWith("$argon2id$").doesNotContain(PASSWORD);
    }

    @Test
    void responsesNeverContainThePassword() {
        start();
        String secret = "Sup3r-secret-passphrase";

        List<HttpApi.Response> responses = List.of(
                signUp("ada@example.com", secret),
                signIn("ada@example.com", secret),
                signIn("ada@example.com", secret + "-wrong"),
                signUp("ada@example.com", secret),
                signUp("not-an-email", secret),
                signUp("bob@example.com", secret.repeat(100)),
                signUp("carol@example.com", "Sh0rt!"));

        assertThat(responses).extracting(HttpApi.Response::status).containsExactly(201, 200, 401, 409, 400, 400, 400);
        for (HttpApi.Response response : responses) {
            assertThat(response.body()).doesNotContain(secret).doesNotContain("Sh0rt!");
        }
    }

    @Test
    void signInIsRateLimitedPerAccountEvenWithTheRightPasswordUntilAMinutePasses() {
        start(b -> b.signInAttemptsPerMinute(3));
        signUp("ada@example.com", PASSWORD);
        // The spelling of the address changes nothing: the limit keys on the account.
        for (String spelling : List.of("ada@example.com", "ADA@example.com", " Ada@Example.COM ")) {
            assertThat(signIn(spelling, "a wrong guess").status()).isEqualTo(401);
        }

        HttpApi.Response limited = signIn("ada@example.com", PASSWORD);

        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.errorCode()).isEqualTo("rate_limited");
        long retryAfter = limited.json().path("error").path("retryAfterSeconds").asLong();
        assertThat(retryAfter).isPositive();
        assertThat(limited.retryAfter()).isNotNull();
        assertThat(Long.parseLong(limited.retryAfter())).isPositive();
        assertThat(limited.body()).doesNotContain("accessToken");

        server.clock.advance(Duration.ofMinutes(1));

        assertThat(signIn("ada@example.com", PASSWORD).status()).isEqualTo(200);
    }

    // ----------------------------------------------------------------- tokens

    @Test
    void tokensAreStoredOnlyAsHashesAndCarryAtLeast256Bits() throws Exception {
        start();
        AuthResponse auth = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);

        assertThat(auth.accessToken()).matches(BASE64URL_256_BITS);
        assertThat(auth.refreshToken()).matches(BASE64URL_256_BITS);
        assertThat(server.queryLong("SELECT COUNT(*) FROM auth_tokens WHERE user_id = '" + auth.user().id() + "'"))
                .isEqualTo(2);
        for (String raw : List.of(auth.accessToken(), auth.refreshToken())) {
            assertThat(server.queryLong("SELECT COUNT(*) FROM auth_tokens WHERE token_hash = '" + raw + "'"
                    + " OR replace(token_hash, '" + raw + "', '') <> token_hash"
                    + " OR replace(family_id, '" + raw + "', '') <> family_id")).isZero();
        }
    }

    @Test
    void refreshRotatesBothTokensAndSpendsTheOldRefreshToken() {
        start();
        AuthResponse first = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);

        HttpApi.Response rotated = refresh(first.refreshToken());

        assertThat(rotated.status()).isEqualTo(200);
        AuthResponse second = rotated.as(AuthResponse.class);
        assertThat(second.user()).isEqualTo(first.user());
        assertThat(second.accessToken()).isNotEqualTo(first.accessToken()).matches(BASE64URL_256_BITS);
        assertThat(second.refreshToken()).isNotEqualTo(first.refreshToken()).matches(BASE64URL_256_BITS);
        assertThat(sessionsWith(second.accessToken()).status()).isEqualTo(200);
        server.clock.advance(Duration.ofSeconds(31)); // past the grace for a lost answer

        HttpApi.Response spent = refresh(first.refreshToken());

        assertThat(spent.status()).isEqualTo(401);
        assertThat(spent.errorCode()).isEqualTo("unauthorized");
    }

    @Test
    void reusedRefreshTokenRevokesTheWholeFamily() {
        start();
        AuthResponse first = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);
        AuthResponse rotated = refresh(first.refreshToken()).as(AuthResponse.class);
        assertThat(sessionsWith(rotated.accessToken()).status()).isEqualTo(200);
        server.clock.advance(Duration.ofSeconds(31)); // past the grace for a lost answer

        HttpApi.Response reuse = refresh(first.refreshToken());

        assertThat(reuse.status()).isEqualTo(401);
        assertThat(sessionsWith(rotated.accessToken()).status()).isEqualTo(401);
        assertThat(refresh(rotated.refreshToken()).status()).isEqualTo(401);
    }

    @Test
    void unknownRefreshTokenIsUnauthorized() {
        start();

        HttpApi.Response response = refresh("A".repeat(43));

        assertThat(response.status()).isEqualTo(401);
        assertThat(response.errorCode()).isEqualTo("unauthorized");
    }

    @Test
    void signOutRevokesThisDeviceOnly() {
        start();
        AuthResponse laptop = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);
        AuthResponse phone = signIn("ada@example.com", PASSWORD).as(AuthResponse.class);

        HttpApi.Response signedOut = server.api.post("/api/auth/signout", null, laptop.accessToken());

        assertThat(signedOut.status()).isEqualTo(204);
        assertThat(sessionsWith(laptop.accessToken()).status()).isEqualTo(401);
        assertThat(refresh(laptop.refreshToken()).status()).isEqualTo(401);
        assertThat(sessionsWith(phone.accessToken()).status()).isEqualTo(200);
        assertThat(refresh(phone.refreshToken()).status()).isEqualTo(200);
    }

    @Test
    void expiredAccessTokenIsUnauthorized() {
        start(b -> b.accessTokenTtl(Duration.ofMinutes(5)));
        AuthResponse auth = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);
        server.clock.advance(Duration.ofMinutes(4));
        assertThat(sessionsWith(auth.accessToken()).status()).isEqualTo(200);

        server.clock.advance(Duration.ofMinutes(1).plusSeconds(1));

        HttpApi.Response expired = sessionsWith(auth.accessToken());
        assertThat(expired.status()).isEqualTo(401);
        assertThat(expired.errorCode()).isEqualTo("unauthorized");
        assertThat(refresh(auth.refreshToken()).status()).as("the refresh token outlives the access token")
                .isEqualTo(200);
    }

    @Test
    void expiredRefreshTokenIsUnauthorized() {
        start(b -> b.refreshTokenTtl(Duration.ofHours(2)));
        AuthResponse auth = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);

        server.clock.advance(Duration.ofHours(2).plusSeconds(1));

        HttpApi.Response expired = refresh(auth.refreshToken());
        assertThat(expired.status()).isEqualTo(401);
        assertThat(expired.errorCode()).isEqualTo("unauthorized");
    }

    @Test
    void closedServerRefusesSignUpWithForbidden() throws Exception {
        start(b -> b.signUpAllowed(false));

        HttpApi.Response response = signUp("ada@example.com", PASSWORD);

        assertThat(response.status()).isEqualTo(403);
        assertThat(response.errorCode()).isEqualTo("forbidden");
        assertThat(server.queryLong("SELECT COUNT(*) FROM users")).isZero();
    }

    @Test
    void malformedAuthorizationHeaderIsUnauthorized() throws Exception {
        start();
        AuthResponse auth = signUp("ada@example.com", PASSWORD).as(AuthResponse.class);

        for (String header : List.of("Token x", "Bearer ", "Bearer", "Basic YWRhOnNlY3JldA==",
                "Bearer not-a-real-token", auth.accessToken(), "Bearer " + auth.refreshToken())) {
            HttpResponse<String> sessions = getWithAuthorization("/api/chat/sessions", header);

            assertThat(sessions.statusCode()).as("Authorization: %s", header).isEqualTo(401);
            assertThat(sessions.body()).as("Authorization: %s", header).contains("\"unauthorized\"");
        }
        assertThat(getWithAuthorization("/api/chat/sessions", "Bearer " + auth.accessToken()).statusCode())
                .isEqualTo(200);
    }

    @Test
    void chatWithAnInvalidTokenIsUnauthorizedRatherThanAnonymous() {
        start();

        HttpApi.Response response = server.chat("not-a-real-token", TestIds.next(), TestIds.next(), "hello");

        assertThat(response.status()).isEqualTo(401);
        assertThat(response.errorCode()).isEqualTo("unauthorized");
        assertThat(server.model.calls()).isZero();
    }

    // ----------------------------------------------------------------- helpers

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

    /** A GET with the Authorization header exactly as given (HttpApi always writes "Bearer <token>"). */
    private HttpResponse<String> getWithAuthorization(String path, String header)
            throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.server.url() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", header)
                .GET()
                .build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }
}
