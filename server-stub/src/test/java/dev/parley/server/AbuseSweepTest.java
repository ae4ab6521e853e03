package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RefreshRequest;
import dev.parley.protocol.Role;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.Timestamps;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every authenticated endpoint against every kind of bad token (missing, malformed, forged, altered, revoked,
 * rotated out, revoked with its family, a refresh token in place of an access token, expired): each is a 401 with
 * the error body, changes nothing and echoes nothing. Also: a reply answering another user's message, and the
 * server's log and answers scanned for every password and token of a hostile session.
 */
class AbuseSweepTest {
    private static final String PASSWORD_A = "ada's correct horse battery";

    @TempDir
    static Path dir;
    private static TestServer server;
    private static AuthResponse ada;
    private static String sessionA;
    private static final Map<TokenKind, String> tokens = new java.util.EnumMap<>(TokenKind.class);

    /** The kinds of token an attacker or a stale client may present. */
    enum TokenKind {
        MISSING, NOT_BEARER, EMPTY_BEARER, FORGED_RANDOM, ONE_CHARACTER_ALTERED, REVOKED_BY_SIGN_OUT,
        ROTATED_OUT_BY_REFRESH, FAMILY_REVOKED_BY_REUSE, REFRESH_TOKEN_AS_ACCESS_TOKEN, SQL_IN_TOKEN
    }

    /** The authenticated endpoints; {@code {session}} is Ada's session. */
    enum Endpoint {
        PUSH("POST", "/api/chat/messages"),
        SYNC("GET", "/api/chat/sync"),
        SESSIONS("GET", "/api/chat/sessions"),
        RENAME("PATCH", "/api/chat/sessions/{session}"),
        DELETE("DELETE", "/api/chat/sessions/{session}"),
        USAGE("GET", "/api/usage/daily"),
        SIGN_OUT("POST", "/api/auth/signout"),
        CHAT_WITH_A_TOKEN("POST", "/api/chat");

        final String method;
        final String path;

        Endpoint(String method, String path) {
            this.method = method;
            this.path = path;
        }

        byte[] body() {
            String at = Timestamps.format(server.now());
            String json = switch (this) {
                case PUSH -> "{\"sessions\":[{\"id\":\"" + sessionA + "\",\"title\":\"Taken\",\"titleUpdatedAt\":\""
                        + at + "\",\"createdAt\":\"" + at + "\",\"deletedAt\":\"" + at + "\"}],\"messages\":[]}";
                case RENAME -> "{\"title\":\"Taken\",\"titleUpdatedAt\":\"" + at + "\"}";
                case CHAT_WITH_A_TOKEN -> "{\"sessionId\":\"" + sessionA + "\",\"messageId\":\"" + TestIds.next()
                        + "\",\"content\":\"let me in\",\"context\":[]}";
                default -> null;
            };
            return json == null ? null : json.getBytes(StandardCharsets.UTF_8);
        }
    }

    @BeforeAll
    static void start() {
        server = TestServer.start(dir);
        ada = signUp("ada@example.com", PASSWORD_A);
        sessionA = TestIds.next();
        assertThat(server.chat(ada.accessToken(), sessionA, TestIds.next(), "Ada's question").status()).isEqualTo(200);

        AuthResponse signedOut = signIn();
        assertThat(server.api.post("/api/auth/signout", null, signedOut.accessToken()).status()).isEqualTo(204);
        AuthResponse beforeRefresh = signIn();
        AuthResponse afterRefresh = refresh(beforeRefresh.refreshToken());
        AuthResponse family = signIn();
        AuthResponse familyRotated = refresh(family.refreshToken());
        server.clock.advance(Duration.ofSeconds(31)); // past the grace for a lost answer (SPEC §8)
        assertThat(server.api.post("/api/auth/refresh", new RefreshRequest(family.refreshToken()), null).status())
                .as("reusing a spent refresh token").isEqualTo(401);
        assertThat(afterRefresh.accessToken()).isNotBlank();

        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String valid = ada.accessToken();
        char last = valid.charAt(valid.length() - 1);
        tokens.put(TokenKind.FORGED_RANDOM, Base64.getUrlEncoder().withoutPadding().encodeToString(random));
        tokens.put(TokenKind.ONE_CHARACTER_ALTERED, valid.substring(0, valid.length() - 1) + (last == 'A' ? 'B' : 'A'));
        tokens.put(TokenKind.REVOKED_BY_SIGN_OUT, signedOut.accessToken());
        tokens.put(TokenKind.ROTATED_OUT_BY_REFRESH, beforeRefresh.accessToken());
        tokens.put(TokenKind.FAMILY_REVOKED_BY_REUSE, familyRotated.accessToken());
        tokens.put(TokenKind.REFRESH_TOKEN_AS_ACCESS_TOKEN, ada.refreshToken());
        tokens.put(TokenKind.SQL_IN_TOKEN, "x' OR '1'='1");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Stream<Arguments> everyEndpointWithEveryBadToken() {
        List<Arguments> cases = new ArrayList<>();
        for (Endpoint endpoint : Endpoint.values()) {
            for (TokenKind kind : TokenKind.values()) {
                if (endpoint == Endpoint.CHAT_WITH_A_TOKEN && kind == TokenKind.MISSING) {
                    continue; // no token at all is an anonymous exchange, by design
                }
                cases.add(Arguments.of(endpoint, kind));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("everyEndpointWithEveryBadToken")
    void badTokenIsUnauthorizedChangesNothingAndEchoesNothing(Endpoint endpoint, TokenKind kind) throws Exception {
        String before = snapshot();

        Response response = send(endpoint, kind);

        assertThat(response.status()).as("%s", response).isEqualTo(401);
        assertThat(response.errorCode()).isEqualTo("unauthorized");
        assertThat(response.json().path("error").path("retryable").asBoolean(true)).isFalse();
        assertThat(snapshot()).isEqualTo(before);
        String token = tokens.get(kind);
        if (token != null) {
            assertThat(response.body()).doesNotContain(token);
        }
        assertThat(response.body()).doesNotContain(ada.accessToken(), ada.refreshToken());
    }

    @Test
    void expiredAccessTokenIsRefusedByEveryEndpoint(@TempDir Path ownDir) throws Exception {
        try (TestServer own = TestServer.start(ownDir, b -> b.accessTokenTtl(Duration.ofMinutes(5)))) {
            HttpApi.Response created = own.api.post("/api/auth/signup",
                    new Credentials("eve@example.com", "eve's long password"), null);
            AuthResponse eve = created.as(AuthResponse.class);
            String session = TestIds.next();
            assertThat(own.chat(eve.accessToken(), session, TestIds.next(), "hello").status()).isEqualTo(200);
            own.clock.advance(Duration.ofMinutes(6));

            for (Endpoint endpoint : Endpoint.values()) {
                byte[] body = endpoint.body();
                Response response = own.api.send(endpoint.method, endpoint.path.replace("{session}", session),
                        body == null ? null : new String(body, StandardCharsets.UTF_8).replace(sessionA, session)
                                .getBytes(StandardCharsets.UTF_8), eve.accessToken());
                assertThat(response.status()).as("%s: %s", endpoint, response).isEqualTo(401);
                assertThat(response.errorCode()).isEqualTo("unauthorized");
            }
            assertThat(own.queryLong("SELECT count(*) FROM chat_sessions WHERE deleted_at IS NULL AND title = 'New chat'"))
                    .isEqualTo(1);
            assertThat(own.api.post("/api/auth/refresh", new RefreshRequest(eve.refreshToken()), null).status())
                    .as("the refresh token still works").isEqualTo(200);
        }
    }

    @Test
    void replyPushedByAnotherUserToAnswerAdasMessageIsRejectedLikeAMissingOne() throws Exception {
        AuthResponse bob = signUp("bob-" + TestIds.next() + "@example.com", "bob's long password");
        String adasMessage = server.queryString("SELECT id FROM chat_messages WHERE session_id = '" + sessionA
                + "' AND role = 'user'");
        String bobsSession = TestIds.next();
        Message reply = new Message(TestIds.next(), bobsSession, Role.ASSISTANT, "a forged answer", "parley-local",
                null, 3L, null, adasMessage, server.now(), 5L, null, null);
        Message nowhere = new Message(TestIds.next(), bobsSession, Role.ASSISTANT, "an answer to nothing",
                "parley-local", null, 3L, null, TestIds.next(), server.now(), 5L, null, null);
        String before = snapshot();

        PushResponse result = server.push(bob.accessToken(), List.of(TestServer.session(bobsSession, "Bob's",
                server.now())), List.of(reply, nowhere));

        assertThat(result.messages()).extracting(RowResult::result, RowResult::code).containsExactly(
                org.assertj.core.groups.Tuple.tuple(RowResult.Outcome.REJECTED, RowResult.NOT_FOUND),
                org.assertj.core.groups.Tuple.tuple(RowResult.Outcome.REJECTED, RowResult.NOT_FOUND));
        assertThat(result.messages().get(0).reason()).isEqualTo(result.messages().get(1).reason());
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE user_message_id = '" + adasMessage + "'"))
                .isEqualTo(1);
        assertThat(snapshot().replaceAll("sessions=\\d+", "")).isEqualTo(before.replaceAll("sessions=\\d+", ""));
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void passwordsAndTokensNeverAppearInTheLogOrInAnswers(@TempDir Path ownDir) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        List<String> secrets = new ArrayList<>();
        List<Response> answers = new ArrayList<>();
        String password = "mallory's secret passphrase 7781";
        String wrong = "mallory guesses wrongly 9923";
        secrets.add(password);
        secrets.add(wrong);
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (TestServer own = TestServer.start(ownDir, b -> b.signInAttemptsPerMinute(3))) {
            Response signedUp = own.api.post("/api/auth/signup", new Credentials("mallory@example.com", password), null);
            answers.add(signedUp);
            AuthResponse mallory = signedUp.as(AuthResponse.class);
            secrets.add(mallory.accessToken());
            secrets.add(mallory.refreshToken());
            for (int i = 0; i < 5; i++) { // brute force meets 429
                answers.add(own.api.post("/api/auth/signin", new Credentials("mallory@example.com", wrong), null));
            }
            assertThat(answers.get(answers.size() - 1).status()).isEqualTo(429);
            answers.add(own.api.post("/api/auth/signup", new Credentials("mallory@example.com", password), null));
            answers.add(own.api.send("POST", "/api/auth/signin", ("{\"email\":\"x@example.com\",\"password\":\""
                    + password + "\",").getBytes(StandardCharsets.UTF_8), null)); // broken JSON holding a password
            Response refreshed = own.api.post("/api/auth/refresh", new RefreshRequest(mallory.refreshToken()), null);
            answers.add(refreshed);
            AuthResponse rotated = refreshed.as(AuthResponse.class);
            secrets.add(rotated.accessToken());
            secrets.add(rotated.refreshToken());
            answers.add(own.api.post("/api/auth/refresh", new RefreshRequest(mallory.refreshToken()), null)); // reuse
            answers.add(own.chat(rotated.accessToken(), TestIds.next(), TestIds.next(), "after the family died"));
            answers.add(own.api.get("/api/chat/sessions", mallory.accessToken() + "tampered"));
            answers.add(own.api.send("GET", "/api/chat/sync", null, "Basic " + Base64.getEncoder()
                    .encodeToString(("mallory@example.com:" + password).getBytes(StandardCharsets.UTF_8))));
            own.model.failNext(new ModelException(dev.parley.protocol.ErrorCode.UPSTREAM_ERROR, "the model failed"));
            Response signedIn = own.api.post("/api/auth/signup", new Credentials("trent@example.com", password), null);
            answers.add(signedIn);
            AuthResponse trent = signedIn.as(AuthResponse.class);
            secrets.add(trent.accessToken());
            secrets.add(trent.refreshToken());
            answers.add(own.chat(trent.accessToken(), TestIds.next(), TestIds.next(), "a failing model"));
            answers.add(own.api.post("/api/auth/signout", null, trent.accessToken()));
            answers.add(own.api.get("/api/chat/sessions", trent.accessToken())); // revoked now
        } finally {
            System.setErr(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertThat(log).as("the server logged during the session").contains("Javalin");
        for (String secret : secrets) {
            assertThat(log).as("the log holds no password or token").doesNotContain(secret);
        }
        assertThat(log).doesNotContain("Bearer ");
        for (Response answer : answers) {
            assertThat(answer.body()).as("an answer").doesNotContain(password, wrong);
        }
        List<String> issued = secrets.subList(2, secrets.size());
        assertThat(answers.stream().filter(a -> a.status() >= 400)).allSatisfy(a -> assertThat(a.body())
                .as("an error answer").doesNotContain(issued.toArray(String[]::new)));
    }

    // ------------------------------------------------------------------ helpers

    private static Response send(Endpoint endpoint, TokenKind kind) {
        String path = endpoint.path.replace("{session}", sessionA);
        byte[] body = endpoint.body();
        return switch (kind) {
            case MISSING -> server.api.send(endpoint.method, path, body, null);
            case NOT_BEARER -> raw(endpoint.method, path, body, "Basic " + Base64.getEncoder().encodeToString(
                    ("ada@example.com:" + PASSWORD_A).getBytes(StandardCharsets.UTF_8)));
            case EMPTY_BEARER -> raw(endpoint.method, path, body, "Bearer ");
            default -> server.api.send(endpoint.method, path, body, tokens.get(kind));
        };
    }

    /** A request with an Authorization header of our own making. */
    private static Response raw(String method, String path, byte[] body, String authorization) {
        try {
            java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(server.server.url() + path))
                    .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                            : java.net.http.HttpRequest.BodyPublishers.ofByteArray(body))
                    .header("Authorization", authorization);
            if (body != null) {
                request.header("Content-Type", "application/json");
            }
            java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient()
                    .send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.body(), null);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static AuthResponse signUp(String email, String password) {
        Response response = server.api.post("/api/auth/signup", new Credentials(email, password), null);
        assertThat(response.status()).as("%s", response).isEqualTo(201);
        return response.as(AuthResponse.class);
    }

    private static AuthResponse signIn() {
        Response response = server.api.post("/api/auth/signin", new Credentials("ada@example.com", PASSWORD_A), null);
        assertThat(response.status()).as("%s", response).isEqualTo(200);
        return response.as(AuthResponse.class);
    }

    private static AuthResponse refresh(String refreshToken) {
        Response response = server.api.post("/api/auth/refresh", new RefreshRequest(refreshToken), null);
        assertThat(response.status()).as("%s", response).isEqualTo(200);
        return response.as(AuthResponse.class);
    }

    /** Ada's session as stored, every table's size and the usage sums. */
    private static String snapshot() throws Exception {
        return server.queryString("SELECT 'session=' || title || '/' || CASE WHEN deleted_at IS NULL THEN 'live' ELSE 'deleted' END"
                + " || ' sessions=' || (SELECT count(*) FROM chat_sessions)"
                + " || ' messages=' || (SELECT count(*) FROM chat_messages)"
                + " || ' users=' || (SELECT count(*) FROM users)"
                + " || ' usage=' || (SELECT sum(messages_sent + messages_received + total_tokens) FROM user_usage_daily)"
                + " || ' revoked=' || (SELECT count(*) FROM auth_tokens WHERE revoked_at IS NOT NULL)"
                + " FROM chat_sessions WHERE id = '" + sessionA + "'") + " model=" + server.model.calls();
    }
}
