package dev.parley.server;

import static dev.parley.server.testing.HttpApi.JSON;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.Session;
import dev.parley.protocol.SyncPage;
import dev.parley.protocol.Timestamps;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input never hurts the server (SPEC §3 limits, §4.2, §5): every malformed, mistyped, oversized or invalid
 * request gets a 4xx with the §5 error body, no stack trace, no model call and no write at all; a bad row of a push
 * is rejected alone while the good rows beside it are stored; and hostile text that is valid content is stored and
 * returned exactly as sent. One server serves the whole class; every check compares before/after snapshots.
 */
class BadInputTest {
    /** Stands for the JSON escape {@code \ud800} (an unpaired surrogate), which Jackson will not write itself. */
    private static final String LONE_SURROGATE = "<lone-surrogate>";
    private static final String NOT_A_UUID = "not-a-uuid";
    private static final String PASSWORD = "a long enough password";

    @TempDir
    static Path dir;
    private static TestServer server;
    private static String token;
    private static String sessionId;
    /** A refresh token of an account used by nothing else, so a wrongly accepted refresh harms no other test. */
    private static String refreshToken;
    private static long triggersAtStart;
    /** Counts the schema's own triggers (not the ones PostgreSQL makes for foreign keys). */
    private static final String TRIGGERS = TestDatabases.postgres()
            ? "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    + " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'";
    private static final String TABLES = TestDatabases.postgres()
            ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'table'";

    @BeforeAll
    static void startServer() throws Exception {
        server = TestServer.start(dir);
        token = server.api.post("/api/auth/signup", Map.of("email", "main@example.com", "password", PASSWORD), null)
                .as(AuthResponse.class).accessToken();
        refreshToken = server.signUp("refresher@example.com").refreshToken();
        sessionId = TestIds.next();
        server.push(token, List.of(TestServer.session(sessionId, "Existing", server.now())), List.of());
        triggersAtStart = server.queryLong(TRIGGERS);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    // ------------------------------------------------------------------ rejected requests

    @ParameterizedTest(name = "{0}")
    @EnumSource(BodyEndpoint.class)
    void theBaseBodyOfEveryEndpointIsAccepted(BodyEndpoint endpoint) {
        Response response = endpoint.send(bytes(endpoint.validBody()));

        assertThat(response.status()).as("%s", response).isBetween(200, 201);
        if (endpoint == BodyEndpoint.REFRESH) {
            refreshToken = response.as(AuthResponse.class).refreshToken(); // the old one is spent now
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("malformedBodies")
    void malformedBodyIsRefusedWithoutWriting(BodyEndpoint endpoint, Malformed malformed) throws Exception {
        byte[] body = malformed.apply(endpoint, bytes(endpoint.validBody()));
        Snapshot before = snapshot();

        Response response = endpoint.send(body);

        assertErrorBody(response, malformed.status, malformed.code);
        assertThat(snapshot()).isEqualTo(before);
    }

    static Stream<Arguments> malformedBodies() {
        return Arrays.stream(BodyEndpoint.values())
                .flatMap(endpoint -> Arrays.stream(Malformed.values()).map(m -> Arguments.of(endpoint, m)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequestIsRefusedWithoutWriting(BadRequest bad) throws Exception {
        byte[] body = bad.body == null ? null : bad.body.get();
        Snapshot before = snapshot();

        Response response = server.api.send(bad.method, bad.path.replace("{session}", sessionId), body,
                bad.signedIn ? token : null);

        assertErrorBody(response, bad.status, bad.code);
        assertThat(snapshot()).isEqualTo(before);
    }

    static Stream<BadRequest> badRequests() {
        String v7 = TestIds.next();
        List<String> badIds = List.of(NOT_A_UUID, v7.toUpperCase(), UUID.randomUUID().toString(), "");
        List<BadRequest> cases = new ArrayList<>(List.of(
                // wrong types
                chat("messageId as a number", b -> b.put("messageId", 42)),
                chat("content as an object", b -> b.putObject("content").put("a", 1)),
                chat("sessionId as a boolean", b -> b.put("sessionId", true)),
                chat("messageTimestamp as a number", b -> b.put("messageTimestamp", 1_700_000_000_000L)),
                chat("messageTimestamp as a huge number", b -> b.put("messageTimestamp", new BigDecimal("1e400"))),
                chat("context as a string", b -> b.put("context", "earlier messages")),
                push("sessions as a string", b -> b.put("sessions", "all of them")),
                push("messages as an object", b -> b.putObject("messages")),
                rename("title as a number", b -> b.put("title", 7)),
                rename("titleUpdatedAt as a number", b -> b.put("titleUpdatedAt", 12345)),
                body(BodyEndpoint.SIGN_UP, "email as a number", b -> b.put("email", 5)),
                body(BodyEndpoint.SIGN_UP, "password as a boolean", b -> b.put("password", true)),
                body(BodyEndpoint.SIGN_IN, "password as an object", b -> b.putObject("password")),
                body(BodyEndpoint.REFRESH, "refreshToken as a number", b -> b.put("refreshToken", 123)),
                // missing or empty required fields
                chat("messageId missing", b -> b.remove("messageId")),
                chat("sessionId missing", b -> b.remove("sessionId")),
                chat("content missing", b -> b.remove("content")),
                chat("content blank", b -> b.put("content", " \n\t ")),
                chat("context role missing", b -> ((ObjectNode) b.withArray("context").get(0)).remove("role")),
                chat("context content missing", b -> ((ObjectNode) b.withArray("context").get(0)).remove("content")),
                chat("context entry null", b -> b.withArray("context").addNull()),
                rename("title missing", b -> b.remove("title")),
                rename("title blank", b -> b.put("title", "   ")),
                body(BodyEndpoint.SIGN_UP, "email missing", b -> b.remove("email")),
                body(BodyEndpoint.SIGN_UP, "password missing", b -> b.remove("password")),
                body(BodyEndpoint.SIGN_IN, "password missing", b -> b.remove("password")),
                body(BodyEndpoint.REFRESH, "refreshToken missing", b -> b.remove("refreshToken")),
                body(BodyEndpoint.REFRESH, "refreshToken blank", b -> b.put("refreshToken", "")),
                // rules and limits of SPEC §3
                chat("unknown context role admin", b -> ((ObjectNode) b.withArray("context").get(0)).put("role", "admin")),
                chat("content over 100000 characters",
                        b -> b.put("content", "x".repeat(Limits.MAX_CONTENT_CHARS + 1))),
                chat("content with NUL", b -> b.put("content", "before\u0000after")),
                chat("content with an unpaired surrogate", b -> b.put("content", "a" + LONE_SURROGATE + "b")),
                chat("context content with NUL",
                        b -> ((ObjectNode) b.withArray("context").get(0)).put("content", "a\u0000")),
                chat("sessionTitle over 255 characters",
                        b -> b.put("sessionTitle", "t".repeat(Limits.MAX_TITLE_CHARS + 1))),
                chat("sessionTitle with a newline", b -> b.put("sessionTitle", "two\nlines")),
                chat("sessionTitle with NUL", b -> b.put("sessionTitle", "nul\u0000title")),
                chat("model with a space", b -> b.put("model", "parley local")),
                chat("model with a quote", b -> b.put("model", "parley\"-local")),
                chat("unknown model", b -> b.put("model", "no-such-model")),
                chat("temperature over 2", b -> b.put("temperature", 2.5)),
                chat("temperature below 0", b -> b.put("temperature", -1)),
                chat("temperature as a string", b -> b.put("temperature", "warm")),
                chat("maxTokens 0", b -> b.put("maxTokens", 0)),
                chat("maxTokens over 200000", b -> b.put("maxTokens", Limits.MAX_REPLY_TOKENS + 1)),
                chat("maxTokens as a float", b -> b.put("maxTokens", 12.5)),
                chat("maxTokens as a string", b -> b.put("maxTokens", "100")),
                chat("system prompt over 20000 characters", b -> ((ObjectNode) b.withArray("context").get(0))
                        .put("role", "system").put("content", "p".repeat(Limits.MAX_SYSTEM_PROMPT_CHARS + 1))),
                chat("system prompt with an unpaired surrogate", b -> ((ObjectNode) b.withArray("context").get(0))
                        .put("role", "system").put("content", "a" + LONE_SURROGATE)),
                chat("101 context messages", b -> {
                    ArrayNode context = b.putArray("context");
                    IntStream.range(0, Limits.MAX_CONTEXT_MESSAGES + 1)
                            .forEach(i -> context.addObject().put("role", "user").put("content", "m" + i));
                }),
                push("501 rows", b -> {
                    ArrayNode messages = b.putArray("messages");
                    String session = b.withArray("sessions").get(0).path("id").asText();
                    IntStream.range(0, Limits.MAX_PUSH_ROWS).forEach(i -> messages.add(messageNode(session, "m" + i)));
                }),
                rename("title over 255 characters", b -> b.put("title", "t".repeat(Limits.MAX_TITLE_CHARS + 1))),
                rename("title with a newline", b -> b.put("title", "two\nlines")),
                rename("title with NUL", b -> b.put("title", "nul\u0000title")),
                rename("title with an unpaired surrogate", b -> b.put("title", "a" + LONE_SURROGATE)),
                body(BodyEndpoint.SIGN_UP, "email without a domain", b -> b.put("email", "nobody")),
                body(BodyEndpoint.SIGN_UP, "email over 254 characters",
                        b -> b.put("email", "e".repeat(Limits.MAX_EMAIL_CHARS) + "@example.com")),
                body(BodyEndpoint.SIGN_UP, "password under 8 characters", b -> b.put("password", "short")),
                body(BodyEndpoint.SIGN_UP, "password over 1024 characters",
                        b -> b.put("password", "p".repeat(Limits.MAX_PASSWORD_CHARS + 1))),
                // query parameters
                get("/api/chat/sync?cursor=abc"),
                get("/api/chat/sync?cursor=-1"),
                get("/api/chat/sync?limit=0"),
                get("/api/chat/sync?limit=501"),
                get("/api/chat/sync?limit=x"),
                get("/api/chat/sessions?cursor=%25%25%25"),
                get("/api/chat/sessions?cursor=abc"),
                get("/api/chat/sessions?limit=0"),
                get("/api/chat/sessions?limit=501"),
                get("/api/chat/sessions?limit=x"),
                get("/api/usage/daily?from=2026-13-45"),
                get("/api/usage/daily?to=tomorrow"),
                get("/api/usage/daily?from=2026-11-27&to=2026-11-26"),
                get("/api/usage/daily?from=2020-01-01&to=2026-11-26")));
        for (String id : badIds) {
            String shown = id.isEmpty() ? "empty" : id.equals(NOT_A_UUID) ? id : id.equals(v7.toUpperCase())
                    ? "upper-case UUIDv7" : "UUIDv4";
            cases.add(chat("sessionId " + shown, b -> b.put("sessionId", id)));
            cases.add(chat("messageId " + shown, b -> b.put("messageId", id)));
            if (!id.isEmpty()) {
                cases.add(new BadRequest("PATCH path id " + shown, "PATCH", "/api/chat/sessions/" + id,
                        () -> bytes(BodyEndpoint.RENAME.validBody()), true, 400, "bad_request"));
            }
        }
        // An empty path id leaves no session path at all: the route does not exist.
        cases.add(new BadRequest("PATCH path id empty", "PATCH", "/api/chat/sessions/",
                () -> bytes(BodyEndpoint.RENAME.validBody()), true, 404, "not_found"));
        cases.add(new BadRequest("PATCH path id blank", "PATCH", "/api/chat/sessions/%20",
                () -> bytes(BodyEndpoint.RENAME.validBody()), true, 400, "bad_request"));
        return cases.stream();
    }

    // ------------------------------------------------------------------ push: a bad row is rejected alone

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRows")
    void badPushRowIsRejectedAloneWhileGoodRowsAreInserted(BadRow bad) throws Exception {
        String session = TestIds.next();
        ObjectNode first = messageNode(session, "first good row");
        ObjectNode last = messageNode(session, "last good row");
        JsonNode badRow = bad.row.apply(session);
        ObjectNode body = JSON.createObjectNode();
        ArrayNode sessions = body.putArray("sessions").add(sessionNode(session, "Good session"));
        ArrayNode messages = body.putArray("messages").add(first);
        (bad.isSession ? sessions : messages).add(badRow);
        messages.add(last);
        long sessionsBefore = server.queryLong("SELECT count(*) FROM chat_sessions");
        long messagesBefore = server.queryLong("SELECT count(*) FROM chat_messages");

        Response response = server.api.send("POST", "/api/chat/messages", bytes(body), token);

        assertThat(response.status()).as("%s", response).isEqualTo(200);
        PushResponse results = response.as(PushResponse.class);
        RowResult rejected = bad.isSession ? results.sessions().get(1) : results.messages().get(1);
        assertThat(rejected.result()).isEqualTo(RowResult.Outcome.REJECTED);
        assertThat(rejected.code()).isEqualTo(RowResult.BAD_REQUEST);
        assertThat(rejected.id()).isEqualTo(badRow.path("id").textValue());
        assertPlainMessage(rejected.reason());
        assertThat(results.sessions().get(0)).isEqualTo(RowResult.of(session, RowResult.Outcome.INSERTED));
        assertThat(results.messages()).contains(
                RowResult.of(first.path("id").asText(), RowResult.Outcome.INSERTED),
                RowResult.of(last.path("id").asText(), RowResult.Outcome.INSERTED));
        assertThat(server.queryLong("SELECT count(*) FROM chat_sessions")).isEqualTo(sessionsBefore + 1);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(messagesBefore + 2);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE id IN ('" + first.path("id").asText()
                + "', '" + last.path("id").asText() + "')")).isEqualTo(2);
        assertThat(server.mismatches()).isEmpty();
    }

    static Stream<BadRow> badRows() {
        String upper = TestIds.next().toUpperCase();
        String v4 = UUID.randomUUID().toString();
        return Stream.of(
                // rows that cannot be read at all are rejected alone too
                message("inputTokens as a string", m -> m.put("inputTokens", "12")),
                message("inputTokens as a boolean", m -> m.put("inputTokens", true)),
                message("inputTokens as a float", m -> m.put("inputTokens", 12.5)),
                message("inputTokens as 1e400", m -> m.put("inputTokens", new BigDecimal("1e400"))),
                message("inputTokens beyond a long",
                        m -> m.put("inputTokens", new BigInteger("99999999999999999999999"))),
                message("elapsedMs beyond a long",
                        m -> m.put("elapsedMs", new BigInteger("99999999999999999999999"))),
                message("content as a number", m -> m.put("content", 5)),
                message("content as an object", m -> m.putObject("content").put("a", 1)),
                message("role as a number", m -> m.put("role", 7)),
                message("unknown role admin", m -> m.put("role", "admin")),
                message("messageTimestamp not a timestamp", m -> m.put("messageTimestamp", "yesterday")),
                message("id not a UUID", m -> m.put("id", NOT_A_UUID)),
                message("id upper-case UUIDv7", m -> m.put("id", upper)),
                message("id UUIDv4", m -> m.put("id", v4)),
                message("id empty", m -> m.put("id", "")),
                message("id missing", m -> m.remove("id")),
                message("sessionId not a UUID", m -> m.put("sessionId", NOT_A_UUID)),
                message("sessionId upper-case UUIDv7", m -> m.put("sessionId", TestIds.next().toUpperCase())),
                message("sessionId UUIDv4", m -> m.put("sessionId", UUID.randomUUID().toString())),
                message("sessionId empty", m -> m.put("sessionId", "")),
                message("sessionId missing", m -> m.remove("sessionId")),
                message("userMessageId not a UUID", m -> assistant(m).put("userMessageId", NOT_A_UUID)),
                message("role missing", m -> m.remove("role")),
                message("content missing", m -> m.remove("content")),
                message("messageTimestamp missing", m -> m.remove("messageTimestamp")),
                message("negative inputTokens", m -> m.put("inputTokens", -1)),
                message("negative outputTokens", m -> assistant(m).put("outputTokens", -5)),
                message("negative elapsedMs", m -> assistant(m).put("elapsedMs", -1)),
                message("inputTokens over the maximum", m -> m.put("inputTokens", Limits.MAX_TOKENS + 1)),
                message("assistant row with inputTokens", m -> assistant(m).put("inputTokens", 5)),
                message("user row with outputTokens", m -> m.put("outputTokens", 5)),
                message("errorMessage on an assistant row", m -> assistant(m).put("errorMessage", "boom")),
                message("userMessageId on a user row", m -> m.put("userMessageId", TestIds.next())),
                message("content over 100000 characters", m -> m.put("content", "x".repeat(Limits.MAX_CONTENT_CHARS + 1))),
                message("content with NUL", m -> m.put("content", "before\u0000after")),
                message("content with an unpaired surrogate", m -> m.put("content", "a" + LONE_SURROGATE + "b")),
                message("errorMessage with NUL", m -> m.put("errorMessage", "bad\u0000")),
                message("model with a space", m -> m.put("model", "parley local")),
                message("model with a quote", m -> m.put("model", "parley\"-local")),
                message("model with a single quote", m -> m.put("model", "x'); DROP TABLE users; --")),
                session("session id not a UUID", s -> s.put("id", NOT_A_UUID)),
                session("session id upper-case UUIDv7", s -> s.put("id", TestIds.next().toUpperCase())),
                session("session id UUIDv4", s -> s.put("id", UUID.randomUUID().toString())),
                session("session id empty", s -> s.put("id", "")),
                session("title over 255 characters", s -> s.put("title", "t".repeat(Limits.MAX_TITLE_CHARS + 1))),
                session("title with a newline", s -> s.put("title", "two\nlines")),
                session("title with NUL", s -> s.put("title", "nul\u0000title")),
                session("title blank", s -> s.put("title", " ")),
                session("title missing", s -> s.remove("title")),
                session("createdAt missing", s -> s.remove("createdAt")),
                session("systemPrompt over 20000 characters", s -> s.put("systemPrompt",
                        "p".repeat(Limits.MAX_SYSTEM_PROMPT_CHARS + 1)).put("systemPromptUpdatedAt", now())),
                session("systemPrompt with NUL", s -> s.put("systemPrompt", "be\u0000brief")
                        .put("systemPromptUpdatedAt", now())),
                session("systemPrompt with an unpaired surrogate", s -> s.put("systemPrompt", "a" + LONE_SURROGATE)
                        .put("systemPromptUpdatedAt", now())),
                session("systemPrompt as a number", s -> s.put("systemPrompt", 5).put("systemPromptUpdatedAt", now())),
                session("systemPromptUpdatedAt in the future", s -> s.put("systemPrompt", "Be brief.")
                        .put("systemPromptUpdatedAt", Timestamps.format(server.now().plusSeconds(3600)))),
                session("systemPromptUpdatedAt not a timestamp", s -> s.put("systemPrompt", "Be brief.")
                        .put("systemPromptUpdatedAt", "yesterday")));
    }

    // ------------------------------------------------------------------ the limits themselves are allowed

    @Test
    void valuesExactlyAtTheLimitsAreAccepted() throws Exception {
        String session = TestIds.next();
        ObjectNode fiveHundred = pushBody(session, "At the limits");
        IntStream.range(2, Limits.MAX_PUSH_ROWS).forEach(i -> fiveHundred.withArray("messages")
                .add(messageNode(session, "row " + i)));
        assertThat(server.api.send("POST", "/api/chat/messages", bytes(fiveHundred), token).status())
                .as("a push of exactly 500 rows").isEqualTo(200);

        byte[] oneMebibyte = padTo(bytes(pushBody(TestIds.next(), "Big body")), Limits.MAX_REQUEST_BYTES);
        Response big = server.api.send("POST", "/api/chat/messages", oneMebibyte, token);
        assertThat(big.status()).as("a body of exactly 1 MiB: %s", big).isEqualTo(200);

        ObjectNode hundredContext = BodyEndpoint.CHAT.validBody();
        ArrayNode context = hundredContext.putArray("context");
        IntStream.range(0, Limits.MAX_CONTEXT_MESSAGES).forEach(i -> context.addObject().put("role", "user")
                .put("content", "m" + i));
        assertThat(BodyEndpoint.CHAT.send(bytes(hundredContext)).status()).as("100 context messages").isEqualTo(200);

        ObjectNode chatOptions = BodyEndpoint.CHAT.validBody().put("temperature", Limits.MAX_TEMPERATURE)
                .put("maxTokens", Limits.MAX_REPLY_TOKENS);
        ((ObjectNode) chatOptions.withArray("context").get(0)).put("role", "system")
                .put("content", "s".repeat(Limits.MAX_SYSTEM_PROMPT_CHARS));
        assertThat(BodyEndpoint.CHAT.send(bytes(chatOptions)).status())
                .as("temperature 2, maxTokens 200000 and a 20000-character system prompt").isEqualTo(200);

        String prompted = TestIds.next();
        ObjectNode longestPrompt = pushBody(prompted, "Longest prompt");
        ((ObjectNode) longestPrompt.withArray("sessions").get(0))
                .put("systemPrompt", "s".repeat(Limits.MAX_SYSTEM_PROMPT_CHARS)).put("systemPromptUpdatedAt", now());
        Response promptPushed = server.api.send("POST", "/api/chat/messages", bytes(longestPrompt), token);
        assertThat(promptPushed.json().path("sessions").path(0).path("result").asText())
                .as("a 20000-character system prompt: %s", promptPushed).isEqualTo("inserted");
        assertThat(server.queryLong("SELECT length(system_prompt) FROM chat_sessions WHERE id = '" + prompted + "'"))
                .isEqualTo(Limits.MAX_SYSTEM_PROMPT_CHARS);

        String longest = "t".repeat(Limits.MAX_TITLE_CHARS);
        Response renamed = server.api.patch("/api/chat/sessions/" + session,
                Map.of("title", longest, "titleUpdatedAt", Timestamps.format(server.now().plusSeconds(1))), token);
        assertThat(renamed.status()).as("a 255-character title: %s", renamed).isEqualTo(200);
        assertThat(renamed.as(Session.class).title()).isEqualTo(longest);
        assertThat(server.mismatches()).isEmpty();
    }

    // ------------------------------------------------------------------ hostile but valid text is kept verbatim

    @Test
    void hostileContentSentThroughChatIsStoredAndSyncedVerbatim() throws Exception {
        String userToken = server.signUp("hostile-chat@example.com").accessToken();
        Map<String, String> sent = new LinkedHashMap<>();
        for (String text : hostileStrings()) {
            String messageId = TestIds.next();
            Response response = server.chat(userToken, TestIds.next(), messageId, text);
            assertThat(response.status()).as("chat with %s", shorten(text)).isEqualTo(200);
            assertThat(response.json().path("userMessage").path("content").textValue()).isEqualTo(text);
            sent.put(messageId, text);
        }

        assertStoredVerbatim(sync(userToken).contents(), sent);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages m JOIN users u ON u.id = m.user_id"
                + " WHERE u.email = 'hostile-chat@example.com'")).isEqualTo(2L * sent.size());
        assertDatabaseIntact();
    }

    @Test
    void hostileContentPushedIsStoredAndSyncedVerbatim() throws Exception {
        String userToken = server.signUp("hostile-push@example.com").accessToken();
        String session = TestIds.next();
        Instant at = server.now();
        Map<String, String> sent = new LinkedHashMap<>();
        List<Message> rows = new ArrayList<>();
        for (String text : hostileStrings()) {
            Message row = TestServer.userMessage(session, text, 3, at);
            rows.add(row);
            sent.put(row.id(), text);
        }

        PushResponse response = server.push(userToken, List.of(), rows);

        assertThat(response.messages()).allSatisfy(r -> assertThat(r.result()).isEqualTo(RowResult.Outcome.INSERTED));
        assertStoredVerbatim(sync(userToken).contents(), sent);
        assertDatabaseIntact();
    }

    @Test
    void hostileTitlesPushedOrRenamedAreStoredAndSyncedVerbatim() throws Exception {
        String userToken = server.signUp("hostile-titles@example.com").accessToken();
        Instant at = server.now();
        List<String> titles = hostileStrings().stream()
                .filter(t -> t.length() <= Limits.MAX_TITLE_CHARS && t.chars().noneMatch(Character::isISOControl))
                .toList();
        assertThat(titles).hasSizeGreaterThanOrEqualTo(15);
        Map<String, String> pushed = new LinkedHashMap<>();
        Map<String, String> renamed = new LinkedHashMap<>();
        List<Session> sessions = new ArrayList<>();
        for (String title : titles) {
            Session hostile = TestServer.session(TestIds.next(), title, at);
            Session plain = TestServer.session(TestIds.next(), "Plain", at);
            sessions.add(hostile);
            sessions.add(plain);
            pushed.put(hostile.id(), title);
            renamed.put(plain.id(), title);
        }
        server.push(userToken, sessions, List.of());

        for (Map.Entry<String, String> rename : renamed.entrySet()) {
            Response response = server.api.patch("/api/chat/sessions/" + rename.getKey(), Map.of("title",
                    rename.getValue(), "titleUpdatedAt", Timestamps.format(at.plusSeconds(1))), userToken);
            assertThat(response.status()).as("rename to %s: %s", rename.getValue(), response).isEqualTo(200);
            assertThat(response.as(Session.class).title()).isEqualTo(rename.getValue());
        }

        Map<String, String> stored = sync(userToken).titles();
        assertStoredVerbatim(stored, pushed);
        assertStoredVerbatim(stored, renamed);
        Map<String, String> listed = new HashMap<>();
        server.api.get("/api/chat/sessions?limit=500", userToken).json().path("sessions")
                .forEach(s -> listed.put(s.path("id").asText(), s.path("title").textValue()));
        assertStoredVerbatim(listed, renamed);
        assertDatabaseIntact();
    }

    @Test
    void hostileSystemPromptsPushedAreStoredAndSyncedVerbatim() throws Exception {
        String userToken = server.signUp("hostile-prompts@example.com").accessToken();
        Instant at = server.now();
        Map<String, String> pushed = new LinkedHashMap<>();
        List<Session> sessions = new ArrayList<>();
        List<String> prompts = hostileStrings().stream()
                .filter(t -> t.length() <= Limits.MAX_SYSTEM_PROMPT_CHARS).toList();
        assertThat(prompts).hasSizeGreaterThanOrEqualTo(20);
        for (String prompt : prompts) {
            Session session = Session.of(TestIds.next(), "Prompted", at, prompt, at, at, null);
            sessions.add(session);
            pushed.put(session.id(), prompt);
        }

        PushResponse response = server.push(userToken, sessions, List.of());

        assertThat(response.sessions()).allSatisfy(r -> assertThat(r.result()).isEqualTo(RowResult.Outcome.INSERTED));
        Map<String, String> synced = new HashMap<>();
        server.api.get("/api/chat/sync?limit=500", userToken).as(SyncPage.class).sessions()
                .forEach(s -> synced.put(s.id(), s.systemPrompt()));
        assertStoredVerbatim(synced, pushed);
        assertDatabaseIntact();
    }

    /** Valid content that tries to be code, markup, a path, a format string or confusing Unicode. */
    static List<String> hostileStrings() {
        return List.of(
                "'; DROP TABLE chat_messages; --",
                "\" OR 1=1 --",
                "Robert'); DROP TABLE users;--",
                "' OR ''='",
                "<script>alert(1)</script>",
                "{{7*7}}",
                "${jndi:ldap://x}",
                "../../etc/passwd",
                "%s%n%x %00 %0a",
                "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽",
                "abc \u202Edcba",
                "zero\u200Bwidth",
                "e\u0301 Z\u0351\u0364\u0337a\u0300\u0301\u0302",
                "\tcol1\tcol2\r\nline two\rline three\n",
                "C:\\Users\\x \\\\server\\share \\n \\t \\u0000 \\\" \\\\\\\\",
                "'\"<>&\\%;- ".repeat(Limits.MAX_CONTENT_CHARS / 10),
                "{\"a\":1}",
                "null",
                "𝕳𝖊𝖑𝖑𝖔 你好，世界",
                "\uFEFFstarts with a byte order mark",
                "bell\u0007 escape\u001B[31m red");
    }

    // ------------------------------------------------------------------ the shapes of the cases

    /** Endpoints that read a JSON body, each with a body it accepts and the text field that can carry raw bytes. */
    enum BodyEndpoint {
        CHAT("POST", "/api/chat", "content", true),
        PUSH("POST", "/api/chat/messages", "content", true),
        RENAME("PATCH", "/api/chat/sessions/{session}", "title", true),
        SIGN_UP("POST", "/api/auth/signup", "email", false),
        SIGN_IN("POST", "/api/auth/signin", "email", false),
        REFRESH("POST", "/api/auth/refresh", "refreshToken", false);

        final String method;
        final String path;
        final String textField;
        final boolean signedIn;

        BodyEndpoint(String method, String path, String textField, boolean signedIn) {
            this.method = method;
            this.path = path;
            this.textField = textField;
            this.signedIn = signedIn;
        }

        /** A fresh body this endpoint accepts; each bad case changes one thing in it. */
        ObjectNode validBody() {
            ObjectNode body = JSON.createObjectNode();
            switch (this) {
                case CHAT -> {
                    body.put("sessionId", TestIds.next()).put("messageId", TestIds.next())
                            .put("content", "What is the capital of France?")
                            .put("messageTimestamp", Timestamps.format(server.now()));
                    ArrayNode context = body.putArray("context");
                    context.addObject().put("role", "user").put("content", "Hello");
                    context.addObject().put("role", "assistant").put("content", "Hi, how can I help?");
                }
                case PUSH -> body = pushBody(TestIds.next(), "Pushed");
                case RENAME -> body.put("title", "Renamed").put("titleUpdatedAt", Timestamps.format(server.now()));
                case SIGN_UP -> body.put("email", "new-" + TestIds.next() + "@example.com").put("password", PASSWORD);
                case SIGN_IN -> body.put("email", "main@example.com").put("password", PASSWORD);
                case REFRESH -> body.put("refreshToken", refreshToken);
            }
            return body;
        }

        Response send(byte[] body) {
            return server.api.send(method, path.replace("{session}", sessionId), body, signedIn ? token : null);
        }
    }

    /** Ways to break a good body as bytes; all refused with 400 {@code bad_request} except the oversized one. */
    enum Malformed {
        TRUNCATED((endpoint, valid) -> Arrays.copyOf(valid, valid.length / 2)),
        NOT_JSON((endpoint, valid) -> "{bad".getBytes(UTF_8)),
        TRAILING_GARBAGE((endpoint, valid) -> concat(valid, " trailing".getBytes(UTF_8))),
        EMPTY((endpoint, valid) -> new byte[0]),
        JSON_NULL((endpoint, valid) -> "null".getBytes(UTF_8)),
        ARRAY_INSTEAD_OF_OBJECT((endpoint, valid) -> concat("[".getBytes(UTF_8), valid, "]".getBytes(UTF_8))),
        ARRAYS_NESTED_1000_DEEP((endpoint, valid) -> concat(
                ("{\"deep\":" + "[".repeat(1000) + "]".repeat(1000) + ",").getBytes(UTF_8),
                Arrays.copyOfRange(valid, 1, valid.length))),
        INVALID_UTF8((endpoint, valid) -> {
            // Raw bytes that are no UTF-8 at all, at the start of a text field the server reads.
            byte[] field = ("\"" + endpoint.textField + "\":\"").getBytes(UTF_8);
            int at = indexOf(valid, field) + field.length;
            return concat(Arrays.copyOf(valid, at), new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF, (byte) 0xFE},
                    Arrays.copyOfRange(valid, at, valid.length));
        }),
        OVER_ONE_MEBIBYTE(413, "payload_too_large",
                (endpoint, valid) -> padTo(valid, Limits.MAX_REQUEST_BYTES + 1));

        final int status;
        final String code;
        private final BiFunction<BodyEndpoint, byte[], byte[]> breaker;

        Malformed(BiFunction<BodyEndpoint, byte[], byte[]> breaker) {
            this(400, "bad_request", breaker);
        }

        Malformed(int status, String code, BiFunction<BodyEndpoint, byte[], byte[]> breaker) {
            this.status = status;
            this.code = code;
            this.breaker = breaker;
        }

        byte[] apply(BodyEndpoint endpoint, byte[] valid) {
            return breaker.apply(endpoint, valid);
        }
    }

    /** One request that must be refused; {@code body} is built when the test runs, {@code null} for GET. */
    record BadRequest(String name, String method, String path, Supplier<byte[]> body, boolean signedIn, int status,
                      String code) {
        @Override
        public String toString() {
            return method + " " + path.replace("{session}", "{id}") + ": " + name;
        }
    }

    /** A push row that must be rejected alone: a good session or message row with one thing wrong. */
    record BadRow(String name, boolean isSession, Function<String, JsonNode> row) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** What a refused request must leave untouched: every table's row count, the usage sums, the model. */
    record Snapshot(String database, int modelCalls) {
    }

    private static BadRequest body(BodyEndpoint endpoint, String name, Consumer<ObjectNode> change) {
        return new BadRequest(name, endpoint.method, endpoint.path, () -> {
            ObjectNode body = endpoint.validBody();
            change.accept(body);
            return bytes(body);
        }, endpoint.signedIn, 400, "bad_request");
    }

    private static BadRequest chat(String name, Consumer<ObjectNode> change) {
        return body(BodyEndpoint.CHAT, name, change);
    }

    private static BadRequest push(String name, Consumer<ObjectNode> change) {
        return body(BodyEndpoint.PUSH, name, change);
    }

    /** A push whose message row has one wrong field: the whole body is unreadable, so nothing of it is stored. */
    private static BadRequest rename(String name, Consumer<ObjectNode> change) {
        return body(BodyEndpoint.RENAME, name, change);
    }

    private static BadRequest get(String pathAndQuery) {
        return new BadRequest("bad query", "GET", pathAndQuery, null, true, 400, "bad_request");
    }

    private static BadRow message(String name, Consumer<ObjectNode> change) {
        return new BadRow(name, false, session -> {
            ObjectNode row = messageNode(session, "the bad row");
            change.accept(row);
            return row;
        });
    }

    private static BadRow session(String name, Consumer<ObjectNode> change) {
        return new BadRow(name, true, session -> {
            ObjectNode row = sessionNode(TestIds.next(), "Bad session");
            change.accept(row);
            return row;
        });
    }

    /** Turns a user row into a valid assistant reply, so that only the case's own change is wrong. */
    private static ObjectNode assistant(ObjectNode row) {
        row.remove("inputTokens");
        return row.put("role", "assistant").put("outputTokens", 7).put("elapsedMs", 12);
    }

    private static ObjectNode pushBody(String session, String title) {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("sessions").add(sessionNode(session, title));
        body.putArray("messages").add(messageNode(session, "Pushed question"));
        return body;
    }

    private static String now() {
        return Timestamps.format(server.now());
    }

    private static ObjectNode sessionNode(String id, String title) {
        String at = Timestamps.format(server.now());
        return JSON.createObjectNode().put("id", id).put("title", title).put("titleUpdatedAt", at).put("createdAt", at);
    }

    private static ObjectNode messageNode(String session, String content) {
        return JSON.createObjectNode().put("id", TestIds.next()).put("sessionId", session).put("role", "user")
                .put("content", content).put("model", "parley-local").put("inputTokens", 3)
                .put("messageTimestamp", Timestamps.format(server.now()));
    }

    // ------------------------------------------------------------------ assertions

    /** The error body of SPEC §5, exactly, with a plain message. */
    private static void assertErrorBody(Response response, int status, String code) {
        assertThat(response.status()).as("%s", response).isEqualTo(status);
        JsonNode body = response.json();
        List<String> topLevel = new ArrayList<>();
        body.fieldNames().forEachRemaining(topLevel::add);
        assertThat(topLevel).as("%s", response).contains("error").isSubsetOf("error", "persisted");
        JsonNode error = body.path("error");
        List<String> fields = new ArrayList<>();
        error.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).as("%s", response).containsExactlyInAnyOrder("code", "message", "retryable",
                "retryAfterSeconds");
        assertThat(error.path("code").textValue()).as("%s", response).isEqualTo(code);
        assertThat(error.path("retryable").isBoolean() && !error.path("retryable").booleanValue())
                .as("retryable false in %s", response).isTrue();
        assertThat(error.path("retryAfterSeconds").isNull()).as("retryAfterSeconds null in %s", response).isTrue();
        assertPlainMessage(error.path("message").textValue());
        assertThat(response.body()).doesNotContain("\tat ", "Exception");
    }

    /** A sentence for people: no stack trace, no Java class or package name. */
    private static void assertPlainMessage(String message) {
        assertThat(message).isNotBlank()
                .doesNotContain("Exception", "\tat ", "java.", "jackson", "javalin", "sqlite", "dev.parley")
                .doesNotContainPattern("\\b[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+\\.[A-Z][A-Za-z0-9_$]*");
    }

    private static void assertStoredVerbatim(Map<String, String> stored, Map<String, String> sent) {
        for (Map.Entry<String, String> entry : sent.entrySet()) {
            assertThat(stored.get(entry.getKey())).as("stored text of %s", shorten(entry.getValue()))
                    .isEqualTo(entry.getValue());
        }
    }

    /** Every table is still there (no injection ran), the triggers too, and analytics are exact. */
    private static void assertDatabaseIntact() throws Exception {
        assertThat(server.queryLong(TABLES + " AND " + (TestDatabases.postgres() ? "table_name" : "name")
                + " IN ('users', 'auth_tokens', 'chat_sessions', 'chat_messages', 'user_usage_daily', 'chat_claims')"))
                .isEqualTo(6);
        assertThat(server.queryLong(TRIGGERS)).isEqualTo(triggersAtStart);
        assertThat(server.queryLong("SELECT count(*) FROM users")).isGreaterThanOrEqualTo(2);
        assertThat(server.mismatches()).isEmpty();
    }

    private static Snapshot snapshot() throws Exception {
        String database = server.queryString("""
                SELECT 'users=' || (SELECT count(*) FROM users)
                    || ' sessions=' || (SELECT count(*) FROM chat_sessions)
                    || ' messages=' || (SELECT count(*) FROM chat_messages)
                    || ' usageRows=' || (SELECT count(*) FROM user_usage_daily)
                    || ' authTokens=' || (SELECT count(*) FROM auth_tokens)
                    || ' revokedTokens=' || (SELECT count(*) FROM auth_tokens WHERE revoked_at IS NOT NULL)
                    || ' usageSum=' || (SELECT coalesce(sum(messages_sent + messages_received + input_tokens
                        + output_tokens + total_tokens + sessions_created + generation_ms), 0) FROM user_usage_daily)
                    || ' changeSeq=' || (SELECT coalesce(sum(change_seq), 0) FROM users)
                """);
        return new Snapshot(database, server.model.calls());
    }

    // ------------------------------------------------------------------ reading back

    private record Synced(Map<String, String> contents, Map<String, String> titles) {
    }

    /** Every session title and message content of the user, through GET /api/chat/sync page by page. */
    private static Synced sync(String userToken) {
        Map<String, String> contents = new HashMap<>();
        Map<String, String> titles = new HashMap<>();
        String cursor = "";
        boolean more = true;
        while (more) {
            Response response = server.api.get("/api/chat/sync?limit=500&cursor=" + cursor, userToken);
            assertThat(response.status()).as("%s", response).isEqualTo(200);
            SyncPage page = response.as(SyncPage.class);
            page.messages().forEach(m -> contents.put(m.id(), m.content()));
            page.sessions().forEach(s -> titles.put(s.id(), s.title()));
            cursor = page.nextCursor();
            more = page.hasMore();
        }
        return new Synced(contents, titles);
    }

    // ------------------------------------------------------------------ bytes

    private static byte[] bytes(JsonNode body) {
        try {
            return JSON.writeValueAsString(body).replace(LONE_SURROGATE, "\\ud800").getBytes(UTF_8);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code valid} with an ignored {@code padding} field that makes it exactly {@code size} bytes long. */
    private static byte[] padTo(byte[] valid, int size) {
        byte[] open = "{\"padding\":\"".getBytes(UTF_8);
        byte[] close = "\",".getBytes(UTF_8);
        int padding = size - open.length - close.length - (valid.length - 1);
        byte[] filler = new byte[padding];
        Arrays.fill(filler, (byte) 'x');
        byte[] padded = concat(open, filler, close, Arrays.copyOfRange(valid, 1, valid.length));
        assertThat(padded).hasSize(size);
        return padded;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("no " + new String(needle, UTF_8) + " in the body");
    }

    private static String shorten(String text) {
        return text.length() <= 60 ? text : text.substring(0, 60) + "… (" + text.length() + " chars)";
    }
}
