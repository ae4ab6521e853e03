package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.RawHttp;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HTTP edge of SPEC §8 on a real server: media types, the Host rule, the launch secret, token caching, the
 * Bearer challenge, client addresses behind a proxy, and the error body for a JVM Error.
 */
class EdgeSecurityTest {
    @TempDir
    static Path dir;
    private static TestServer server;
    private static String token;
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void startServer() {
        server = TestServer.start(dir);
        token = server.signUp("edge@example.com").accessToken();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private static HttpResponse<String> send(String baseUrl, String method, String path, String contentType,
                                             String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (headers.length > 0) {
            request.headers(headers);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String code(HttpResponse<String> response) throws Exception {
        return HttpApi.JSON.readTree(response.body()).path("error").path("code").asText(null);
    }

    private static String signInBody(String email) {
        return "{\"email\":\"" + email + "\",\"password\":\"password-of-" + email + "\"}";
    }

    private static String chatBody() {
        return "{\"sessionId\":\"" + TestIds.next() + "\",\"messageId\":\"" + TestIds.next()
                + "\",\"content\":\"hi\",\"messageTimestamp\":\"" + server.now() + "\",\"context\":[]}";
    }

    // --- 415 and CORS

    @ParameterizedTest
    @CsvSource({
            "/api/auth/signup, text/plain",
            "/api/auth/signup, application/x-www-form-urlencoded",
            "/api/chat, text/plain",
            "/api/chat, application/x-www-form-urlencoded",
            "/api/chat/messages, text/plain",
            "/api/chat/messages, multipart/form-data; boundary=x",
    })
    void aJsonEndpointRefusesABodyThatIsNotSentAsJson(String path, String contentType) throws Exception {
        String body = path.equals("/api/auth/signup") ? signInBody("form@example.com")
                : path.equals("/api/chat") ? chatBody() : "{\"sessions\":[],\"messages\":[]}";

        HttpResponse<String> response = send(server.server.url(), "POST", path, contentType, body,
                "Authorization", "Bearer " + token, "Origin", "https://evil.example");

        assertThat(response.statusCode()).isEqualTo(415);
        assertThat(code(response)).isEqualTo("unsupported_media_type");
        assertThat(response.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control-"));
        assertThat(server.queryLong("SELECT count(*) FROM users WHERE email = 'form@example.com'")).isZero();
        assertThat(server.model.calls()).isZero();
    }

    @Test
    void aBodyWithoutContentTypeIsRefused() throws Exception {
        HttpResponse<String> response = send(server.server.url(), "POST", "/api/auth/signin", null,
                signInBody("edge@example.com"));

        assertThat(response.statusCode()).isEqualTo(415);
    }

    @Test
    void jsonWithACharsetParameterIsAccepted() throws Exception {
        HttpResponse<String> response = send(server.server.url(), "POST", "/api/auth/signin",
                "application/json; charset=UTF-8", signInBody("edge@example.com"));

        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void aPreflightGetsNoCorsHeaders() throws Exception {
        HttpResponse<String> response = send(server.server.url(), "OPTIONS", "/api/chat", null, null,
                "Origin", "https://evil.example", "Access-Control-Request-Method", "POST");

        assertThat(response.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control-"));
    }

    // --- Cache-Control and WWW-Authenticate

    @Test
    void tokenResponsesAreNotStored() throws Exception {
        HttpResponse<String> signUp = send(server.server.url(), "POST", "/api/auth/signup", "application/json",
                signInBody("nostore@example.com"));
        HttpResponse<String> signIn = send(server.server.url(), "POST", "/api/auth/signin", "application/json",
                signInBody("nostore@example.com"));
        String refreshToken = HttpApi.JSON.readTree(signIn.body()).path("refreshToken").asText();
        HttpResponse<String> refresh = send(server.server.url(), "POST", "/api/auth/refresh", "application/json",
                "{\"refreshToken\":\"" + refreshToken + "\"}");

        for (HttpResponse<String> response : List.of(signUp, signIn, refresh)) {
            assertThat(response.statusCode()).isBetween(200, 201);
            assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
        }
    }

    @Test
    void everyUnauthorizedAnswerCarriesTheBearerChallenge() throws Exception {
        HttpResponse<String> noToken = send(server.server.url(), "GET", "/api/chat/sync", null, null);
        HttpResponse<String> badToken = send(server.server.url(), "GET", "/api/chat/sync", null, null,
                "Authorization", "Bearer not-a-token");
        HttpResponse<String> badPassword = send(server.server.url(), "POST", "/api/auth/signin", "application/json",
                "{\"email\":\"edge@example.com\",\"password\":\"wrong-password\"}");

        for (HttpResponse<String> response : List.of(noToken, badToken, badPassword)) {
            assertThat(response.statusCode()).isEqualTo(401);
            assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        }
    }

    // --- the Host rule (DNS rebinding)

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "localhost", "[::1]", "LOCALHOST:1234", "127.0.0.1:8080", "[::1]:9"})
    void aLoopbackServerAnswersLoopbackHosts(String host) {
        RawHttp.Answer answer = RawHttp.send(server.server.port(), "GET /api/models HTTP/1.1\r\nHost: " + host
                + "\r\n", null);

        assertThat(answer.status()).isEqualTo(200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"evil.example", "evil.example:PORT", "127.0.0.1.evil.example", "localhost.evil.example:80",
            "192.168.1.10"})
    void aLoopbackServerRefusesARebindingHost(String host) throws Exception {
        RawHttp.Answer answer = RawHttp.send(server.server.port(), "GET /api/models HTTP/1.1\r\nHost: "
                + host.replace("PORT", Integer.toString(server.server.port())) + "\r\n", null);

        assertThat(answer.status()).isEqualTo(421);
        JsonNode error = HttpApi.JSON.readTree(answer.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("bad_request");
        assertThat(error.path("retryable").asBoolean(true)).isFalse();
    }

    @Test
    void aRebindingHostCannotSignUp() throws Exception {
        RawHttp.Answer answer = RawHttp.send(server.server.port(), "POST /api/auth/signup HTTP/1.1\r\n"
                + "Host: evil.example\r\nContent-Type: application/json\r\n", signInBody("rebind@example.com"));

        assertThat(answer.status()).isEqualTo(421);
        assertThat(server.queryLong("SELECT count(*) FROM users WHERE email = 'rebind@example.com'")).isZero();
    }

    @Test
    void aServerBoundToEveryAddressAnswersAnyHost(@TempDir Path other) {
        try (TestServer open = TestServer.start(other, b -> b.host("0.0.0.0"))) {
            RawHttp.Answer answer = RawHttp.send(open.server.port(), "GET /api/models HTTP/1.1\r\n"
                    + "Host: chat.example.org\r\n", null);

            assertThat(answer.status()).isEqualTo(200);
        }
    }

    // --- the launch secret

    @Test
    void aServerWithALaunchSecretRefusesRequestsWithoutIt(@TempDir Path other) throws Exception {
        String secret = "s".repeat(20) + "ecret-of-this-launch";
        try (TestServer guarded = TestServer.start(other, b -> b.launchSecret(secret))) {
            String url = guarded.server.url();
            HttpResponse<String> without = send(url, "POST", "/api/auth/signup", "application/json",
                    signInBody("nosecret@example.com"));
            HttpResponse<String> wrong = send(url, "GET", "/api/models", null, null,
                    ServerConfig.Security.SECRET_HEADER, secret.substring(1) + "x");
            HttpResponse<String> right = send(url, "POST", "/api/auth/signup", "application/json",
                    signInBody("secret@example.com"), ServerConfig.Security.SECRET_HEADER, secret);
            HttpResponse<String> health = send(url, "GET", "/health", null, null);

            assertThat(without.statusCode()).isEqualTo(403);
            assertThat(code(without)).isEqualTo("forbidden");
            assertThat(wrong.statusCode()).isEqualTo(403);
            assertThat(right.statusCode()).isEqualTo(201);
            assertThat(health.statusCode()).isEqualTo(200); // liveness stays open; it tells nothing else
            assertThat(guarded.queryLong("SELECT count(*) FROM users WHERE email = 'nosecret@example.com'"))
                    .isZero();
        }
    }

    // --- client addresses behind a proxy

    @Test
    void forwardedForIsIgnoredFromAnUntrustedPeer(@TempDir Path other) throws Exception {
        try (TestServer limited = TestServer.start(other, b -> b.anonymousChatsPerMinute(1))) {
            String url = limited.server.url();
            HttpResponse<String> first = send(url, "POST", "/api/chat", "application/json", chatBody(),
                    "X-Forwarded-For", "198.51.100.1");
            HttpResponse<String> second = send(url, "POST", "/api/chat", "application/json", chatBody(),
                    "X-Forwarded-For", "198.51.100.2");

            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(second.statusCode()).isEqualTo(429); // both came from 127.0.0.1, whatever the header says
        }
    }

    @Test
    void forwardedForIsHonouredFromATrustedProxy(@TempDir Path other) throws Exception {
        try (TestServer limited = TestServer.start(other, b -> b.anonymousChatsPerMinute(1)
                .trustedProxies(List.of("127.0.0.0/8")))) {
            String url = limited.server.url();
            HttpResponse<String> first = send(url, "POST", "/api/chat", "application/json", chatBody(),
                    "X-Forwarded-For", "198.51.100.1");
            HttpResponse<String> other1 = send(url, "POST", "/api/chat", "application/json", chatBody(),
                    "X-Forwarded-For", "198.51.100.2");
            HttpResponse<String> again = send(url, "POST", "/api/chat", "application/json", chatBody(),
                    "X-Forwarded-For", "203.0.113.9, 198.51.100.1");

            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(other1.statusCode()).isEqualTo(200);
            assertThat(again.statusCode()).isEqualTo(429); // the right-most entry is the client, not the first
        }
    }

    // --- every Throwable answers the error body

    @Test
    void anErrorThrownInAHandlerAnswersTheErrorBody(@TempDir Path other) throws Exception {
        OutOfMemoryModel model = new OutOfMemoryModel();
        try (TestServer failing = TestServer.start(other, b -> b.modelProvider(model))) {
            model.failing = true;
            HttpResponse<String> models = send(failing.server.url(), "GET", "/api/models", null, null);

            assertThat(models.statusCode()).isEqualTo(500);
            JsonNode error = HttpApi.JSON.readTree(models.body()).path("error");
            assertThat(error.path("code").asText()).isEqualTo("internal");
            assertThat(error.path("message").asText()).isNotBlank();
            assertThat(models.body()).doesNotContain("OutOfMemoryError", "at dev.parley");
        }
    }

    @Test
    void anErrorThrownByTheModelDuringAChatAnswersTheErrorBody(@TempDir Path other) throws Exception {
        try (TestServer failing = TestServer.start(other, b -> b.modelProvider(new OutOfMemoryModel()))) {
            HttpResponse<String> chat = send(failing.server.url(), "POST", "/api/chat", "application/json",
                    chatBody().replace("\"context\"", "\"model\":\"parley-local\",\"context\""));

            assertThat(chat.statusCode()).isIn(500, 503);
            assertThat(HttpApi.JSON.readTree(chat.body()).path("error").path("code").asText())
                    .isIn("internal", "unavailable");
        }
    }

    /** A model whose every call runs out of memory. */
    private static final class OutOfMemoryModel implements ModelProvider {
        /** Set once the server has started: it reads the list while it starts. */
        volatile boolean failing;

        @Override
        public List<ModelInfo> models() {
            if (!failing) {
                return List.of(new ModelInfo("parley-local", "Local"));
            }
            throw new OutOfMemoryError("Java heap space");
        }

        @Override
        public String defaultModel() {
            return "parley-local";
        }

        @Override
        public Completion complete(CompletionRequest request) {
            throw new OutOfMemoryError("Java heap space");
        }
    }
}
