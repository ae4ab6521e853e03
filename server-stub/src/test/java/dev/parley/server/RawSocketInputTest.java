package dev.parley.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Timestamps;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests no HTTP client library would send, written byte by byte on a raw socket: bodies cut short, sent slowly,
 * chunked past the limit, lying Content-Length headers, invalid UTF-8 and control characters in the path, query and
 * headers. Each gets a 4xx answer with the error body of SPEC §5, never a 500, and changes nothing in the database.
 */
class RawSocketInputTest {
    @TempDir
    static Path dir;
    private static TestServer server;
    private static String token;

    @BeforeAll
    static void startServer() {
        server = TestServer.start(dir);
        token = server.signUp("raw@example.com").accessToken();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    /**
     * One hand-made request: the bytes to send, whether to half-close afterwards, and the answer expected. A case
     * named {@code truncated: …} sends less body than it declares, and must be told it may send it again.
     */
    record RawCase(String name, byte[] request, boolean halfClose, int status, String code) {
        @Override
        public String toString() {
            return name;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rawCases")
    void rawRequestIsRefusedWithAnErrorBodyAndChangesNothing(RawCase raw) throws Exception {
        String before = snapshot();

        RawResponse response = exchange(raw.request(), raw.halfClose(), 0);

        assertThat(response.status()).as("%s -> %s", raw.name(), response).isEqualTo(raw.status());
        assertErrorBody(response, raw.code());
        // A body cut short is what a broken connection looks like: the client may (must) send it again.
        assertThat(response.json().path("error").path("retryable").asBoolean())
                .as("retryable: %s", response).isEqualTo(raw.name().startsWith("truncated"));
        assertThat(snapshot()).isEqualTo(before);
    }

    static Stream<RawCase> rawCases() {
        String push = pushBody();
        byte[] pushBytes = push.getBytes(UTF_8);
        return Stream.of(
                new RawCase("truncated: body shorter than its Content-Length",
                        request("POST", "/api/chat/messages", token, "Content-Length: " + (pushBytes.length + 50),
                                pushBytes), true, 400, "bad_request"),
                new RawCase("truncated: half of a body",
                        request("POST", "/api/chat/messages", token, "Content-Length: " + pushBytes.length,
                                Arrays.copyOf(pushBytes, pushBytes.length / 2)), true, 400, "bad_request"),
                new RawCase("truncated: sign-up body",
                        request("POST", "/api/auth/signup", null, "Content-Length: 200",
                                "{\"email\":\"cut@example.com\",\"pass".getBytes(UTF_8)), true, 400, "bad_request"),
                new RawCase("truncated: chunked body without its last chunk",
                        request("POST", "/api/chat/messages", token, "Transfer-Encoding: chunked",
                                (Integer.toHexString(pushBytes.length / 2) + "\r\n" + push.substring(0,
                                        pushBytes.length / 2) + "\r\n").getBytes(UTF_8)), true, 400, "bad_request"),
                new RawCase("truncated: Content-Length over the limit, two bytes sent",
                        request("POST", "/api/chat/messages", token,
                                "Content-Length: " + (Limits.MAX_REQUEST_BYTES + 1), "{}".getBytes(UTF_8)), true, 400,
                                "bad_request"),
                new RawCase("Content-Length not a number",
                        request("POST", "/api/chat/messages", token, "Content-Length: lots", pushBytes), true, 400,
                        "bad_request"),
                new RawCase("two different Content-Length headers",
                        request("POST", "/api/chat/messages", token, "Content-Length: 2\r\nContent-Length: "
                                + pushBytes.length, pushBytes), true, 400, "bad_request"),
                new RawCase("invalid UTF-8 in the query",
                        request("GET", "/api/chat/sync?cursor=%FF%FE%C3%28", token, null, null), true, 400,
                        "bad_request"),
                new RawCase("NUL in the query",
                        request("GET", "/api/chat/sessions?cursor=%00", token, null, null), true, 400, "bad_request"),
                new RawCase("invalid UTF-8 in a session path id",
                        request("DELETE", "/api/chat/sessions/%C3%28%FF", token, null, null), true, 400,
                        "bad_request"),
                new RawCase("raw invalid UTF-8 bytes in the bearer token",
                        request("GET", "/api/chat/sessions", "\u00ff\u00fe\u00c3(", null, null), true, 401,
                        "unauthorized"),
                new RawCase("control characters in the bearer token",
                        request("GET", "/api/usage/daily", "abc\u0001\u0007def", null, null), true, 400,
                        "bad_request"),
                new RawCase("request line that is no request line",
                        "GARBAGE\r\n\r\n".getBytes(ISO_8859_1), true, 400, "bad_request"),
                new RawCase("a header of 20,000 bytes",
                        request("GET", "/api/models", null, "X-Padding: " + "a".repeat(20_000), null), true, 431,
                        "bad_request"),
                new RawCase("dot segments escaping the root",
                        request("GET", "/%2e%2e/%2e%2e/etc/passwd", null, null, null), true, 400, "bad_request"));
    }

    @Test
    void slowlySentBodyIsReadWhole() throws Exception {
        String sessionId = TestIds.next();
        byte[] body = ("{\"sessions\":[{\"id\":\"" + sessionId + "\",\"title\":\"Typed slowly\",\"titleUpdatedAt\":\""
                + Timestamps.format(server.now()) + "\",\"createdAt\":\"" + Timestamps.format(server.now())
                + "\"}],\"messages\":[]}").getBytes(UTF_8);

        RawResponse response = exchange(request("POST", "/api/chat/messages", token,
                "Content-Length: " + body.length, body), false, 60);

        assertThat(response.status()).as("%s", response).isEqualTo(200);
        assertThat(response.json().path("sessions").get(0).path("result").asText()).isEqualTo("inserted");
        assertThat(server.queryLong("SELECT count(*) FROM chat_sessions WHERE id = '" + sessionId + "'")).isEqualTo(1);
    }

    @Test
    void slowlySentBodyCutShortIsRefused() throws Exception {
        String before = snapshot();
        byte[] body = pushBody().getBytes(UTF_8);

        RawResponse response = exchange(request("POST", "/api/chat/messages", token,
                "Content-Length: " + body.length, Arrays.copyOf(body, body.length - 10)), true, 15);

        assertThat(response.status()).as("%s", response).isEqualTo(400);
        assertErrorBody(response, "bad_request");
        assertThat(response.json().path("error").path("retryable").asBoolean()).isTrue();
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void requestCutAnywhereIsNeverAnsweredWithAFinalError() throws Exception {
        byte[] body = pushBody().getBytes(UTF_8);
        byte[] whole = request("POST", "/api/chat/messages", token, "Content-Length: " + body.length, body);
        String before = snapshot();
        int answered = 0;

        for (int cut = 1; cut < whole.length; cut += 3) {
            RawResponse response = exchange(Arrays.copyOf(whole, cut), true, 0);

            // A cut connection looks like this to the server: no answer at all, or "send it again" — never a 4xx
            // that a client would take as final and so give up on the row.
            if (response.status() != -1) {
                answered++;
                assertThat(response.status()).as("cut after %d bytes: %s", cut, response).isEqualTo(400);
                assertThat(response.json().path("error").path("retryable").asBoolean())
                        .as("cut after %d bytes: %s", cut, response).isTrue();
            }
        }
        assertThat(answered).isPositive();
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void chunkedBodyPastTheLimitIsPayloadTooLarge() throws Exception {
        String before = snapshot();
        byte[] chunk = new byte[64 * 1024];
        Arrays.fill(chunk, (byte) ' ');
        byte[] head = ("POST /api/chat/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(UTF_8);
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes(head);
        byte[] start = "{\"padding\":\"".getBytes(UTF_8);
        request.writeBytes((Integer.toHexString(start.length) + "\r\n").getBytes(UTF_8));
        request.writeBytes(start);
        request.writeBytes("\r\n".getBytes(UTF_8));
        for (int written = 0; written <= Limits.MAX_REQUEST_BYTES; written += chunk.length) {
            request.writeBytes((Integer.toHexString(chunk.length) + "\r\n").getBytes(UTF_8));
            request.writeBytes(chunk);
            request.writeBytes("\r\n".getBytes(UTF_8));
        }
        request.writeBytes("0\r\n\r\n".getBytes(UTF_8));

        RawResponse response = exchange(request.toByteArray(), true, 0);

        assertThat(response.status()).as("%s", response).isEqualTo(413);
        assertErrorBody(response, "payload_too_large");
        assertThat(snapshot()).isEqualTo(before);
    }

    // ------------------------------------------------------------------ helpers

    private static String pushBody() {
        String at = Timestamps.format(server.now());
        String session = TestIds.next();
        return "{\"sessions\":[{\"id\":\"" + session + "\",\"title\":\"Raw\",\"titleUpdatedAt\":\"" + at
                + "\",\"createdAt\":\"" + at + "\"}],\"messages\":[{\"id\":\"" + TestIds.next() + "\",\"sessionId\":\""
                + session + "\",\"role\":\"user\",\"content\":\"raw bytes\",\"model\":\"parley-local\","
                + "\"inputTokens\":2,\"messageTimestamp\":\"" + at + "\"}]}";
    }

    /** A request head (ISO-8859-1, so that a header can carry any byte) and an optional body. */
    private static byte[] request(String method, String target, String bearer, String extraHeaders, byte[] body) {
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if (bearer != null) {
            head.append("Authorization: Bearer ").append(bearer).append("\r\n");
        }
        if (body != null) {
            head.append("Content-Type: application/json\r\n");
        }
        if (extraHeaders != null) {
            head.append(extraHeaders).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.toString().getBytes(ISO_8859_1));
        if (body != null) {
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    /**
     * Sends {@code request} (a byte at a time with {@code pauseMs} between bytes of the body when positive), half-closes
     * when asked, and reads the answer until the server closes.
     */
    private static RawResponse exchange(byte[] request, boolean halfClose, int pauseMs) throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.server.port())) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            if (pauseMs <= 0) {
                out.write(request);
                out.flush();
            } else {
                int headEnd = indexOf(request, "\r\n\r\n".getBytes(ISO_8859_1)) + 4;
                out.write(request, 0, headEnd);
                out.flush();
                for (int i = headEnd; i < request.length; i += 40) {
                    Thread.sleep(pauseMs);
                    out.write(request, i, Math.min(40, request.length - i));
                    out.flush();
                }
            }
            if (halfClose) {
                socket.shutdownOutput();
            }
            return RawResponse.read(socket.getInputStream());
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    /** Status, head and body of a raw answer; a chunked body is joined. */
    record RawResponse(int status, String head, String body) {
        static RawResponse read(InputStream in) throws IOException {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    all.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException | java.net.SocketException e) {
                // keep what came
            }
            byte[] bytes = all.toByteArray();
            int headEnd = indexOf(bytes, "\r\n\r\n".getBytes(ISO_8859_1));
            if (headEnd < 0) {
                return new RawResponse(-1, new String(bytes, ISO_8859_1), "");
            }
            String head = new String(bytes, 0, headEnd, ISO_8859_1);
            byte[] rest = Arrays.copyOfRange(bytes, headEnd + 4, bytes.length);
            String body = head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")
                    ? dechunk(rest) : new String(rest, UTF_8);
            int status = Integer.parseInt(head.substring(9, 12));
            return new RawResponse(status, head, body);
        }

        private static String dechunk(byte[] rest) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int at = 0;
            while (at < rest.length) {
                int lineEnd = indexOf(Arrays.copyOfRange(rest, at, rest.length), "\r\n".getBytes(ISO_8859_1));
                if (lineEnd < 0) {
                    break;
                }
                int size = Integer.parseInt(new String(rest, at, lineEnd, ISO_8859_1).strip(), 16);
                if (size == 0) {
                    break;
                }
                out.write(rest, at + lineEnd + 2, size);
                at += lineEnd + 2 + size + 2;
            }
            return out.toString(UTF_8);
        }

        JsonNode json() {
            try {
                return HttpApi.JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("status " + status + ", body not JSON: " + body, e);
            }
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    private static void assertErrorBody(RawResponse response, String code) {
        JsonNode error = response.json().path("error");
        assertThat(error.path("code").asText()).as("%s", response).isEqualTo(code);
        assertThat(error.path("message").asText()).as("%s", response).isNotBlank()
                .doesNotContain("Exception", "\tat ", "jetty", "javalin");
        assertThat(error.has("retryable")).as("%s", response).isTrue();
        assertThat(response.body()).doesNotContain("\tat ", "Exception");
    }

    private static String snapshot() throws Exception {
        return server.queryString("""
                SELECT 'users=' || (SELECT count(*) FROM users)
                    || ' sessions=' || (SELECT count(*) FROM chat_sessions)
                    || ' messages=' || (SELECT count(*) FROM chat_messages)
                    || ' usage=' || (SELECT coalesce(sum(messages_sent + input_tokens + sessions_created), 0)
                        FROM user_usage_daily)
                    || ' tokens=' || (SELECT count(*) FROM auth_tokens)
                    || ' revoked=' || (SELECT count(*) FROM auth_tokens WHERE revoked_at IS NOT NULL)
                """) + " model=" + server.model.calls();
    }
}
