package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.RenameRequest;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One real request per error code of SPEC §5, answered with the documented status and the error body
 * {@code {"error":{"code","message","retryable","retryAfterSeconds"}}}, in plain language and without internals.
 */
class ErrorCodesTest {
    @TempDir
    Path dir;

    private TestServer server;
    private final ExecutorService background = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        if (server != null) {
            server.model.openGate();
            server.close();
        }
        background.shutdownNow();
    }

    private TestServer start() {
        return start(b -> b);
    }

    private TestServer start(UnaryOperator<ServerConfig.Builder> customize) {
        server = TestServer.start(dir, customize);
        return server;
    }

    @Test
    void malformedJsonIsBadRequest() {
        start();

        HttpApi.Response response = server.api.send("POST", "/api/auth/signup",
                "{\"email\": \"ada@example.com\", \"password\": \"marker-Zq9 ".getBytes(StandardCharsets.UTF_8), null);

        JsonNode error = assertErrorBody(response, ErrorCode.BAD_REQUEST);
        assertThat(error.path("message").asText()).doesNotContain("marker-Zq9");
    }

    @Test
    void pushWithoutTokenIsUnauthorized() {
        start();

        HttpApi.Response response = server.api.post("/api/chat/messages", new PushRequest(List.of(), List.of()), null);

        assertErrorBody(response, ErrorCode.UNAUTHORIZED);
    }

    @Test
    void signUpOnAClosedServerIsForbidden() {
        start(b -> b.signUpAllowed(false));

        HttpApi.Response response = server.api.post("/api/auth/signup",
                new Credentials("ada@example.com", "a fine password"), null);

        assertErrorBody(response, ErrorCode.FORBIDDEN);
    }

    @Test
    void unknownPathIsNotFound() {
        start();

        HttpApi.Response response = server.api.get("/api/no-such-endpoint", null);

        assertErrorBody(response, ErrorCode.NOT_FOUND);
    }

    @Test
    void renameOfAnUnknownSessionIsNotFound() {
        start();
        String token = server.signUp("ada@example.com").accessToken();

        HttpApi.Response response = server.api.patch("/api/chat/sessions/" + TestIds.next(),
                new RenameRequest("Renamed", server.now()), token);

        assertErrorBody(response, ErrorCode.NOT_FOUND);
    }

    @Test
    void duplicateEmailIsConflict() {
        start();
        server.signUp("ada@example.com");

        HttpApi.Response response = server.api.post("/api/auth/signup",
                new Credentials("ada@example.com", "a fine password"), null);

        assertErrorBody(response, ErrorCode.CONFLICT);
    }

    @Test
    void bodyOverOneMebibyteIsPayloadTooLarge() throws Exception {
        start();
        String token = server.signUp("ada@example.com").accessToken();
        String prefix = "{\"sessions\":[],\"messages\":[],\"padding\":\"";
        String suffix = "\"}";
        String body = prefix + "x".repeat(1_048_577 - prefix.length() - suffix.length()) + suffix;
        assertThat(body.getBytes(StandardCharsets.UTF_8)).hasSize(1_048_577);

        HttpApi.Response response = server.api.send("POST", "/api/chat/messages",
                body.getBytes(StandardCharsets.UTF_8), token);

        assertErrorBody(response, ErrorCode.PAYLOAD_TOO_LARGE);
        assertThat(server.api.get("/health", null).status()).as("the server keeps serving").isEqualTo(200);
    }

    @Test
    void signInBruteForceIsRateLimited() {
        start(b -> b.signInAttemptsPerMinute(2));
        server.signUp("ada@example.com");
        Credentials wrong = new Credentials("ada@example.com", "wrong password");
        server.api.post("/api/auth/signin", wrong, null);
        server.api.post("/api/auth/signin", wrong, null);

        HttpApi.Response response = server.api.post("/api/auth/signin", wrong, null);

        JsonNode error = assertErrorBody(response, ErrorCode.RATE_LIMITED);
        assertThat(error.path("retryAfterSeconds").asLong()).isPositive();
        assertThat(response.retryAfter()).isEqualTo(error.path("retryAfterSeconds").asText());
    }

    @Test
    void secondConcurrentChatForOneMessageIdIsInProgress() throws Exception {
        start();
        String token = server.signUp("ada@example.com").accessToken();
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        server.model.closeGate();
        CompletableFuture<HttpApi.Response> first = CompletableFuture.supplyAsync(
                () -> server.chat(token, sessionId, messageId, "hello"), background);
        server.model.awaitEntered();

        HttpApi.Response second = server.chat(token, sessionId, messageId, "hello");

        JsonNode error = assertErrorBody(second, ErrorCode.IN_PROGRESS);
        assertThat(error.path("retryable").asBoolean()).isTrue();
        server.model.openGate();
        HttpApi.Response answered = first.get(20, TimeUnit.SECONDS);
        assertThat(answered.status()).isEqualTo(200);
        assertThat(server.model.calls()).isEqualTo(1);
    }

    @Test
    void modelFailureIsUpstreamErrorAndSaysTheMessageWasPersisted() throws Exception {
        start();
        String token = server.signUp("ada@example.com").accessToken();
        server.model.failNext(new ModelException(ErrorCode.UPSTREAM_ERROR, "boom"));
        String messageId = TestIds.next();

        HttpApi.Response response = server.chat(token, TestIds.next(), messageId, "hello");

        assertErrorBody(response, ErrorCode.UPSTREAM_ERROR);
        assertThat(response.json().path("persisted").isBoolean()).isTrue();
        assertThat(response.json().path("persisted").asBoolean()).isTrue();
        assertThat(server.queryString("SELECT error_message FROM chat_messages WHERE id = '" + messageId + "'"))
                .isNotNull();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void modelTimeoutIsUpstreamTimeout() throws Exception {
        start();
        String token = server.signUp("ada@example.com").accessToken();
        server.model.failNext(new ModelException(ErrorCode.UPSTREAM_TIMEOUT, "the model did not answer in time"));

        HttpApi.Response response = server.chat(token, TestIds.next(), TestIds.next(), "hello");

        assertErrorBody(response, ErrorCode.UPSTREAM_TIMEOUT);
        assertThat(response.json().path("persisted").asBoolean()).isTrue();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void brokenDatabaseIsInternalWithAPlainMessage() throws Exception {
        start();
        String token = server.signUp("ada@example.com").accessToken();
        server.execute("ALTER TABLE chat_sessions RENAME TO chat_sessions_gone");

        HttpApi.Response response = server.api.get("/api/chat/sessions", token);

        JsonNode error = assertErrorBody(response, ErrorCode.INTERNAL);
        assertThat(error.path("retryable").asBoolean()).isTrue();
        assertThat(error.path("message").asText()).doesNotContainIgnoringCase("chat_sessions")
                .doesNotContainIgnoringCase("no such table");
    }

    /**
     * Asserts the documented status and error body of {@code expected}, with a plain message; returns the
     * {@code error} object for further checks.
     */
    private static JsonNode assertErrorBody(HttpApi.Response response, ErrorCode expected) {
        assertThat(response.status()).as("status of %s", response).isEqualTo(expected.status());
        JsonNode body = response.json();
        List<String> topLevel = fieldNames(body);
        assertThat(topLevel).as("top-level fields of %s", response).contains("error").isSubsetOf("error", "persisted");
        JsonNode error = body.path("error");
        assertThat(fieldNames(error)).as("error fields of %s", response)
                .containsExactlyInAnyOrder("code", "message", "retryable", "retryAfterSeconds");
        assertThat(error.path("code").asText()).isEqualTo(expected.wire());
        assertThat(error.path("retryable").isBoolean()).isTrue();
        assertThat(error.path("retryable").asBoolean()).isEqualTo(expected.retryable());
        JsonNode retryAfter = error.path("retryAfterSeconds");
        assertThat(retryAfter.isNull() || retryAfter.isIntegralNumber()).as("retryAfterSeconds of %s", response)
                .isTrue();
        String message = error.path("message").asText();
        assertThat(error.path("message").isTextual()).isTrue();
        assertThat(message).isNotBlank()
                .doesNotContain("Exception")
                .doesNotContain("java.")
                .doesNotContain("dev.parley")
                .doesNotContain("javalin")
                .doesNotContain("\tat ")
                .doesNotContainIgnoringCase("sqlite")
                .doesNotContainIgnoringCase("SQL");
        assertThat(response.body()).doesNotContain("stackTrace").doesNotContain("\tat ").doesNotContain("Exception");
        return error;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
