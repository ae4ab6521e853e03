package dev.parley.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.Timestamps;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * JSON that only a hostile or broken client writes (comments, single quotes, NaN, leading zeros, trailing commas,
 * raw control characters, objects nested a thousand deep, numbers of a hundred thousand digits, names of sixty
 * thousand characters, overlong and out-of-range UTF-8, operator objects where text belongs) and query values and
 * path ids no client sends. Every one is a 400 with the error body (a push's row of the wrong shape is rejected
 * alone, in a 200), calls no model and writes nothing.
 * (BadInputTest holds the broader catalogue of wrong types, limits and verbatim hostile text.)
 */
class HostileJsonTest {
    /** Stands for the text value each breaker may replace. */
    private static final String MARK = "MARKED TEXT";

    @TempDir
    static Path dir;
    private static TestServer server;
    private static String token;
    private static String sessionId;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir);
        token = server.signUp("json@example.com").accessToken();
        sessionId = TestIds.next();
        assertThat(server.chat(token, sessionId, TestIds.next(), "hello").status()).isEqualTo(200);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Endpoints that read JSON, each with a body it accepts in which {@link #MARK} is a text value it reads. */
    enum JsonEndpoint {
        CHAT("POST", "/api/chat", true),
        PUSH("POST", "/api/chat/messages", true),
        RENAME("PATCH", "/api/chat/sessions/{session}", true),
        SIGN_UP("POST", "/api/auth/signup", false),
        REFRESH("POST", "/api/auth/refresh", false);

        final String method;
        final String path;
        final boolean signedIn;

        JsonEndpoint(String method, String path, boolean signedIn) {
            this.method = method;
            this.path = path;
            this.signedIn = signedIn;
        }

        String validBody() {
            String at = Timestamps.format(server.now());
            return switch (this) {
                case CHAT -> "{\"sessionId\":\"" + TestIds.next() + "\",\"messageId\":\"" + TestIds.next()
                        + "\",\"content\":\"" + MARK + "\",\"context\":[]}";
                case PUSH -> "{\"sessions\":[],\"messages\":[{\"id\":\"" + TestIds.next() + "\",\"sessionId\":\""
                        + TestIds.next() + "\",\"role\":\"user\",\"content\":\"" + MARK + "\",\"inputTokens\":1,"
                        + "\"messageTimestamp\":\"" + at + "\"}]}";
                case RENAME -> "{\"title\":\"" + MARK + "\",\"titleUpdatedAt\":\"" + at + "\"}";
                case SIGN_UP -> "{\"email\":\"" + MARK + "\",\"password\":\"a long enough password\"}";
                case REFRESH -> "{\"refreshToken\":\"" + MARK + "\"}";
            };
        }
    }

    /** Ways to make a good body hostile. */
    enum Breaker {
        COMMENT(b -> bytes("/* a comment */ " + b)),
        SINGLE_QUOTES(b -> bytes(b.replace('"', '\''))),
        TRAILING_COMMA(b -> bytes(b.substring(0, b.length() - 1) + ",}")),
        NAN(b -> bytes(b.substring(0, b.length() - 1) + ",\"extra\":NaN}")),
        INFINITY(b -> bytes(b.substring(0, b.length() - 1) + ",\"extra\":-Infinity}")),
        LEADING_ZEROS(b -> bytes(b.substring(0, b.length() - 1) + ",\"extra\":007}")),
        RAW_CONTROL_CHARACTER(b -> bytes(b.replace(MARK, "bell\u0007inside"))),
        RAW_NEWLINE_IN_A_STRING(b -> bytes(b.replace(MARK, "two\nlines"))),
        OBJECTS_1000_DEEP(b -> bytes(b.substring(0, b.length() - 1) + ",\"extra\":" + "{\"a\":".repeat(1000) + "1"
                + "}".repeat(1000) + "}")),
        NUMBER_OF_100000_DIGITS(b -> bytes(b.substring(0, b.length() - 1) + ",\"extra\":" + "9".repeat(100_000) + "}")),
        NAME_OF_60000_CHARACTERS(b -> bytes(b.substring(0, b.length() - 1) + ",\"" + "n".repeat(60_000) + "\":1}")),
        OVERLONG_UTF8(b -> withBytes(b, new byte[] {(byte) 0xC0, (byte) 0xAF})),
        UTF8_BEYOND_U10FFFF(b -> withBytes(b, new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80})),
        TRUNCATED_UTF8_SEQUENCE(b -> withBytes(b, new byte[] {(byte) 0xE2, (byte) 0x82})),
        OPERATOR_OBJECT_FOR_TEXT(true, b -> bytes(b.replace("\"" + MARK + "\"", "{\"$ne\":null}"))),
        ARRAY_FOR_TEXT(true, b -> bytes(b.replace("\"" + MARK + "\"", "[\"" + MARK + "\"]"))),
        TWO_DOCUMENTS(b -> bytes(b + b));

        final boolean rowLevel;
        final Function<String, byte[]> breaker;

        Breaker(Function<String, byte[]> breaker) {
            this(false, breaker);
        }

        /** @param rowLevel whether the body stays valid JSON and only a value has the wrong shape */
        Breaker(boolean rowLevel, Function<String, byte[]> breaker) {
            this.rowLevel = rowLevel;
            this.breaker = breaker;
        }
    }

    static Stream<Arguments> hostileBodies() {
        List<Arguments> cases = new ArrayList<>();
        for (JsonEndpoint endpoint : JsonEndpoint.values()) {
            for (Breaker breaker : Breaker.values()) {
                cases.add(Arguments.of(endpoint, breaker));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("hostileBodies")
    void hostileBodyIsABadRequestThatWritesNothing(JsonEndpoint endpoint, Breaker breaker) throws Exception {
        byte[] body = breaker.breaker.apply(endpoint.validBody());
        String before = snapshot();

        Response response = server.api.send(endpoint.method, endpoint.path.replace("{session}", sessionId), body,
                endpoint.signedIn ? token : null);

        if (endpoint == JsonEndpoint.PUSH && breaker.rowLevel) {
            // A push reads its rows one by one: a row of the wrong shape is rejected alone (SPEC §5.0).
            assertThat(response.status()).as("%s", response).isEqualTo(200);
            JsonNode row = response.json().path("messages").get(0);
            assertThat(row.path("result").asText()).isEqualTo("rejected");
            assertThat(row.path("code").asText()).isEqualTo("bad_request");
        } else {
            assertBadRequest(response);
        }
        assertThat(snapshot()).isEqualTo(before);
    }

    static Stream<String> hostileQueriesAndPaths() {
        return Stream.of(
                "GET /api/chat/sync?limit=99999999999999999999999",
                "GET /api/chat/sync?limit=1e3",
                "GET /api/chat/sync?limit=-0x10",
                "GET /api/chat/sync?cursor=99999999999999999999999999999",
                "GET /api/chat/sync?cursor=1%20OR%201=1",
                "GET /api/chat/sessions?cursor=%27%3B%20DROP%20TABLE%20users%3B--",
                "GET /api/chat/sessions?limit=%E2%80%AE5",
                "GET /api/usage/daily?from=2026-02-30",
                "GET /api/usage/daily?from=%00",
                "GET /api/usage/daily?from=+999999999-01-01",
                "PATCH /api/chat/sessions/..%2F..%2Fusers",
                "PATCH /api/chat/sessions/%27%20OR%20%271%27%3D%271",
                "DELETE /api/chat/sessions/%E2%80%AE" + "0".repeat(30),
                "DELETE /api/chat/sessions/" + "f".repeat(5_000));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileQueriesAndPaths")
    void hostileQueryOrPathIdIsABadRequestThatWritesNothing(String request) throws Exception {
        String method = request.substring(0, request.indexOf(' '));
        String path = request.substring(request.indexOf(' ') + 1);
        byte[] body = method.equals("PATCH") ? bytes(JsonEndpoint.RENAME.validBody().replace(MARK, "Hijack")) : null;
        String before = snapshot();

        Response response = server.api.send(method, path, body, token);

        assertBadRequest(response);
        assertThat(snapshot()).isEqualTo(before);
    }

    private static void assertBadRequest(Response response) {
        assertThat(response.status()).as("%s", response).isEqualTo(400);
        JsonNode error = response.json().path("error");
        assertThat(error.path("code").asText()).as("%s", response).isEqualTo("bad_request");
        assertThat(error.path("message").asText()).isNotBlank().doesNotContain("Exception", "jackson", "\tat ");
        assertThat(response.body()).doesNotContain("9".repeat(50), "n".repeat(50));
    }

    private static String snapshot() throws Exception {
        return server.queryString("""
                SELECT 'users=' || (SELECT count(*) FROM users)
                    || ' sessions=' || (SELECT count(*) FROM chat_sessions)
                    || ' titles=' || (SELECT min(title) || '/' || max(title) FROM chat_sessions)
                    || ' messages=' || (SELECT count(*) FROM chat_messages)
                    || ' tokens=' || (SELECT count(*) FROM auth_tokens)
                    || ' revoked=' || (SELECT count(*) FROM auth_tokens WHERE revoked_at IS NOT NULL)
                    || ' usage=' || (SELECT sum(messages_sent + input_tokens + sessions_created) FROM user_usage_daily)
                """) + " model=" + server.model.calls();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(UTF_8);
    }

    /** The body with {@code raw} (not UTF-8) in place of the marked text. */
    private static byte[] withBytes(String body, byte[] raw) {
        int at = body.indexOf(MARK);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bytes(body.substring(0, at)));
        out.writeBytes(raw);
        out.writeBytes(bytes(body.substring(at + MARK.length())));
        return out.toByteArray();
    }
}
