package dev.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every wire record of SPEC §5.0 written with {@link Json#newMapper()}: exact camelCase field names, values in the
 * wire formats, and an equal record when read back. Also the strictness and tolerance of that mapper.
 */
class JsonRoundTripTest {
    private static final String SESSION_ID = "01936f3e-8b2a-7c4d-9e5f-0a1b2c3d4e5f";
    private static final String USER_MESSAGE_ID = "01936f3e-8b2b-7a10-8b00-111111111111";
    private static final String ASSISTANT_MESSAGE_ID = "01936f3e-8b2c-7b20-a000-222222222222";
    private static final String OTHER_SESSION_ID = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";
    private static final Instant CREATED = Instant.parse("2026-11-26T10:15:00.001Z");
    private static final Instant SENT = Instant.parse("2026-11-26T10:15:30.123Z");
    private static final Instant REPLIED = Instant.parse("2026-11-26T10:15:31.456Z");

    private final ObjectMapper mapper = Json.newMapper();

    private static Message userMessage() {
        return new Message(USER_MESSAGE_ID, SESSION_ID, Role.USER, "What is WAL mode?", "parley-local",
                12L, null, 12L, null, SENT, null, null, null);
    }

    private static Message assistantMessage() {
        return new Message(ASSISTANT_MESSAGE_ID, SESSION_ID, Role.ASSISTANT, "Write-ahead logging.", "parley-local",
                null, 34L, 34L, USER_MESSAGE_ID, REPLIED, 1250L, null, "cmpl-7f3a");
    }

    private static Session sessionWithStatistics() {
        return new Session(SESSION_ID, "SQLite questions", SENT, null, null, CREATED, null,
                2L, 46L, "parley-local", "Write-ahead logging.", REPLIED);
    }

    /** Writes {@code value}, asserts it reads back equal, and returns the written JSON as a tree. */
    private <T> JsonNode roundTrip(T value, Class<T> type) throws Exception {
        String text = mapper.writeValueAsString(value);
        assertThat(mapper.readValue(text, type)).isEqualTo(value);
        byte[] bytes = mapper.writeValueAsBytes(value);
        assertThat(mapper.readValue(bytes, type)).isEqualTo(value);
        return mapper.readTree(text);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new LinkedHashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static void assertAbsentOrNull(JsonNode node, String field) {
        assertThat(node.path(field).isMissingNode() || node.path(field).isNull())
                .as("%s is absent or null in %s", field, node)
                .isTrue();
    }

    @Nested
    class WireShapes {

        @Test
        void messageUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            Message failed = new Message(USER_MESSAGE_ID, SESSION_ID, Role.USER, "hi", "gpt-x", 0L, 0L, 0L,
                    "01936f3e-8b2a-7c4d-9e5f-999999999999", SENT, 17L, "upstream timed out", "cmpl-1");

            JsonNode json = roundTrip(failed, Message.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("id", "sessionId", "role", "content", "model",
                    "inputTokens", "outputTokens", "totalTokens", "userMessageId", "messageTimestamp", "elapsedMs",
                    "errorMessage", "completionId", "finishReason", "parentId", "origin");
            assertThat(json.get("id").asText()).isEqualTo(USER_MESSAGE_ID);
            assertThat(json.get("sessionId").asText()).isEqualTo(SESSION_ID);
            assertThat(json.get("role").asText()).isEqualTo("user");
            assertThat(json.get("content").asText()).isEqualTo("hi");
            assertThat(json.get("model").asText()).isEqualTo("gpt-x");
            assertThat(json.get("inputTokens").isIntegralNumber()).isTrue();
            assertThat(json.get("outputTokens").isIntegralNumber()).isTrue();
            assertThat(json.get("totalTokens").isIntegralNumber()).isTrue();
            assertThat(json.get("userMessageId").asText()).isEqualTo("01936f3e-8b2a-7c4d-9e5f-999999999999");
            assertThat(json.get("messageTimestamp").asText()).isEqualTo("2026-11-26T10:15:30.123Z");
            assertThat(json.get("elapsedMs").asLong()).isEqualTo(17L);
            assertThat(json.get("errorMessage").asText()).isEqualTo("upstream timed out");
            assertThat(json.get("completionId").asText()).isEqualTo("cmpl-1");
        }

        @Test
        void assistantMessageRoundTripsWithItsOptionalFieldsAbsent() throws Exception {
            JsonNode json = roundTrip(assistantMessage(), Message.class);

            assertThat(json.get("role").asText()).isEqualTo("assistant");
            assertThat(json.get("outputTokens").asLong()).isEqualTo(34L);
            assertThat(json.get("userMessageId").asText()).isEqualTo(USER_MESSAGE_ID);
            assertThat(json.get("elapsedMs").asLong()).isEqualTo(1250L);
            assertAbsentOrNull(json, "inputTokens");
            assertAbsentOrNull(json, "errorMessage");
        }

        @Test
        void finishReasonTravelsAsItsWireNameAndAnUnknownOneReadsAsNull() throws Exception {
            Message stopped = new Message(ASSISTANT_MESSAGE_ID, SESSION_ID, Role.ASSISTANT, "Write-", "parley-local",
                    0L, 2L, 2L, USER_MESSAGE_ID, SENT, 40L, null, null, FinishReason.STOPPED);

            JsonNode json = roundTrip(stopped, Message.class);
            assertThat(json.get("finishReason").asText()).isEqualTo("stopped");
            assertThat(mapper.readValue(mapper.writeValueAsString("content_filter"), FinishReason.class))
                    .isSameAs(FinishReason.CONTENT_FILTER);
            assertThat(mapper.readValue(mapper.writeValueAsString("tool_calls"), FinishReason.class)).isNull();
        }

        @Test
        void originTravelsAsItsWireNameAndAnAbsentOneMeansChat() throws Exception {
            Message imported = Message.builder(USER_MESSAGE_ID, SESSION_ID, Role.USER).content("from elsewhere")
                    .messageTimestamp(SENT).origin(Origin.IMPORT).build();
            assertThat(roundTrip(imported, Message.class).get("origin").asText()).isEqualTo("import");
            assertThat(imported.imported()).isTrue();
            assertThat(userMessage().imported()).isFalse();
            assertThat(mapper.readValue("\"chat\"", Origin.class)).isSameAs(Origin.CHAT);
            assertThat(Origin.fromWire(null)).isSameAs(Origin.CHAT);
            assertThatThrownBy(() -> mapper.readValue("\"copied\"", Origin.class))
                    .isInstanceOf(JsonProcessingException.class).hasMessageContaining("expected chat or import");
        }

        @Test
        void branchFieldsRoundTrip() throws Exception {
            Message edited = Message.builder(USER_MESSAGE_ID, SESSION_ID, Role.USER).content("hi again")
                    .messageTimestamp(SENT).parentId(ASSISTANT_MESSAGE_ID).build();
            assertThat(roundTrip(edited, Message.class).get("parentId").asText()).isEqualTo(ASSISTANT_MESSAGE_ID);
            assertThat(mapper.readValue(mapper.writeValueAsString(edited), Message.class)).isEqualTo(edited);

            ChatRequest request = new ChatRequest(SESSION_ID, USER_MESSAGE_ID, "hi", null, SENT, null, null, null,
                    List.of(), ASSISTANT_MESSAGE_ID, "01936f3e-8b2a-7c4d-9e5f-000000000042");
            JsonNode chat = roundTrip(request, ChatRequest.class);
            assertThat(chat.get("parentId").asText()).isEqualTo(ASSISTANT_MESSAGE_ID);
            assertThat(chat.get("replyId").asText()).isEqualTo("01936f3e-8b2a-7c4d-9e5f-000000000042");

            RegenerateRequest regenerate = new RegenerateRequest(SESSION_ID, USER_MESSAGE_ID,
                    "01936f3e-8b2a-7c4d-9e5f-000000000042", "parley-local", 0.5, 100,
                    List.of(new ChatRequest.ContextMessage(Role.SYSTEM, "Be brief.")));
            JsonNode body = roundTrip(regenerate, RegenerateRequest.class);
            assertThat(fieldNames(body)).containsExactlyInAnyOrder("sessionId", "messageId", "replyId", "model",
                    "temperature", "maxTokens", "context");
            assertThat(mapper.readValue(mapper.writeValueAsString(regenerate), RegenerateRequest.class))
                    .isEqualTo(regenerate);
            assertThat(new RegenerateRequest(SESSION_ID, USER_MESSAGE_ID, "r", null, null, null, null).context())
                    .isEmpty();
        }

        @Test
        void streamEventsRoundTrip() throws Exception {
            JsonNode start = roundTrip(new StreamStart(userMessage(), null, ASSISTANT_MESSAGE_ID, true),
                    StreamStart.class);
            assertThat(start.get("replyId").asText()).isEqualTo(ASSISTANT_MESSAGE_ID);
            assertThat(start.get("replayed").asBoolean()).isTrue();
            assertThat(start.get("userMessage").get("id").asText()).isEqualTo(USER_MESSAGE_ID);
            assertThat(roundTrip(new StreamDelta("h\u00e9 \uD83D\uDE00"), StreamDelta.class).get("text").asText())
                    .isEqualTo("h\u00e9 \uD83D\uDE00");
        }

        @Test
        void liveChangeEventsUseTheSpecFieldNames() throws Exception {
            JsonNode changed = roundTrip(new ChangedEvent("42"), ChangedEvent.class);
            assertThat(fieldNames(changed)).containsExactly("cursor");
            assertThat(changed.get("cursor").asText()).isEqualTo("42");
            GeneratingEvent generating = new GeneratingEvent(USER_MESSAGE_ID, ASSISTANT_MESSAGE_ID, SESSION_ID);
            JsonNode body = roundTrip(generating, GeneratingEvent.class);
            assertThat(fieldNames(body)).containsExactlyInAnyOrder("messageId", "replyId", "sessionId");
            assertThat(mapper.readValue(mapper.writeValueAsString(generating), GeneratingEvent.class))
                    .isEqualTo(generating);
        }

        @Test
        void messageOmittingOptionalFieldsReadsAsNulls() throws Exception {
            Message read = mapper.readValue("{\"id\":\"" + USER_MESSAGE_ID + "\",\"sessionId\":\"" + SESSION_ID
                    + "\",\"role\":\"system\",\"content\":\"be brief\",\"messageTimestamp\":\"2026-11-26T10:15:30.123Z\"}",
                    Message.class);

            assertThat(read).isEqualTo(new Message(USER_MESSAGE_ID, SESSION_ID, Role.SYSTEM, "be brief", null,
                    null, null, null, null, SENT, null, null, null));
            assertThat(read.failed()).isFalse();
        }

        @Test
        void sessionUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            Session deleted = new Session(SESSION_ID, "Trip", SENT, "Answer as a travel agent.", REPLIED, CREATED, REPLIED,
                    2L, 46L, "parley-local", "Write-ahead logging.", REPLIED);

            JsonNode json = roundTrip(deleted, Session.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("id", "title", "titleUpdatedAt", "systemPrompt",
                    "systemPromptUpdatedAt", "createdAt", "deletedAt", "messageCount", "totalTokens", "lastModel", "lastMessagePreview",
                    "lastMessageTimestamp");
            assertThat(json.get("id").asText()).isEqualTo(SESSION_ID);
            assertThat(json.get("title").asText()).isEqualTo("Trip");
            assertThat(json.get("titleUpdatedAt").asText()).isEqualTo("2026-11-26T10:15:30.123Z");
            assertThat(json.get("systemPrompt").asText()).isEqualTo("Answer as a travel agent.");
            assertThat(json.get("systemPromptUpdatedAt").asText()).isEqualTo("2026-11-26T10:15:31.456Z");
            assertThat(json.get("createdAt").asText()).isEqualTo("2026-11-26T10:15:00.001Z");
            assertThat(json.get("deletedAt").asText()).isEqualTo("2026-11-26T10:15:31.456Z");
            assertThat(json.get("messageCount").asLong()).isEqualTo(2L);
            assertThat(json.get("totalTokens").asLong()).isEqualTo(46L);
            assertThat(json.get("lastModel").asText()).isEqualTo("parley-local");
            assertThat(json.get("lastMessagePreview").asText()).isEqualTo("Write-ahead logging.");
            assertThat(json.get("lastMessageTimestamp").asText()).isEqualTo("2026-11-26T10:15:31.456Z");
        }

        @Test
        void clientSessionWithoutStatisticsRoundTrips() throws Exception {
            JsonNode json = roundTrip(Session.of(SESSION_ID, "New chat", SENT, CREATED, null), Session.class);

            assertThat(json.get("title").asText()).isEqualTo("New chat");
            assertAbsentOrNull(json, "deletedAt");
            assertAbsentOrNull(json, "messageCount");
            assertAbsentOrNull(json, "lastMessagePreview");
        }

        @Test
        void pushRequestUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            PushRequest push = new PushRequest(List.of(Session.of(SESSION_ID, "Trip", SENT, CREATED, null)),
                    List.of(userMessage(), assistantMessage()));

            JsonNode json = roundTrip(push, PushRequest.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("sessions", "messages");
            assertThat(json.get("sessions").isArray()).isTrue();
            assertThat(json.get("sessions").get(0).get("id").asText()).isEqualTo(SESSION_ID);
            assertThat(json.get("messages").size()).isEqualTo(2);
            assertThat(json.get("messages").get(0).get("id").asText()).isEqualTo(USER_MESSAGE_ID);
            assertThat(json.get("messages").get(1).get("id").asText()).isEqualTo(ASSISTANT_MESSAGE_ID);
        }

        @Test
        void pushResponseAndRowResultUseTheSpecFieldNamesAndRoundTrip() throws Exception {
            PushResponse response = new PushResponse(
                    List.of(RowResult.of(SESSION_ID, RowResult.Outcome.INSERTED)),
                    List.of(RowResult.of(USER_MESSAGE_ID, RowResult.Outcome.UPDATED),
                            RowResult.of(ASSISTANT_MESSAGE_ID, RowResult.Outcome.UNCHANGED),
                            RowResult.rejected(OTHER_SESSION_ID, RowResult.SESSION_DELETED, "session was deleted")));

            JsonNode json = roundTrip(response, PushResponse.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("sessions", "messages");
            JsonNode inserted = json.get("sessions").get(0);
            assertThat(fieldNames(inserted)).contains("id", "result").isSubsetOf("id", "result", "code", "reason");
            assertThat(inserted.get("id").asText()).isEqualTo(SESSION_ID);
            assertThat(inserted.get("result").asText()).isEqualTo("inserted");
            assertAbsentOrNull(inserted, "code");
            assertAbsentOrNull(inserted, "reason");
            JsonNode messages = json.get("messages");
            assertThat(messages.get(0).get("result").asText()).isEqualTo("updated");
            assertThat(messages.get(1).get("result").asText()).isEqualTo("unchanged");
            JsonNode rejected = messages.get(2);
            assertThat(fieldNames(rejected)).containsExactlyInAnyOrder("id", "result", "code", "reason");
            assertThat(rejected.get("result").asText()).isEqualTo("rejected");
            assertThat(rejected.get("code").asText()).isEqualTo("session_deleted");
            assertThat(rejected.get("reason").asText()).isEqualTo("session was deleted");
        }

        @Test
        void rowResultWithUnknownOutcomeIsRejected() {
            assertThatThrownBy(() -> mapper.readValue("{\"id\":\"x\",\"result\":\"merged\"}", RowResult.class))
                    .isInstanceOf(JsonProcessingException.class)
                    .hasMessageContaining("merged");
        }

        @Test
        void chatRequestWithContextUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            ChatRequest request = new ChatRequest(SESSION_ID, USER_MESSAGE_ID, "And in PostgreSQL?", "parley-local",
                    SENT, "SQLite questions", 0.7, 512, List.of(
                            new ChatRequest.ContextMessage(Role.SYSTEM, "Be brief."),
                            new ChatRequest.ContextMessage(Role.USER, "What is WAL mode?"),
                            new ChatRequest.ContextMessage(Role.ASSISTANT, "Write-ahead logging.")));

            JsonNode json = roundTrip(request, ChatRequest.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("sessionId", "messageId", "content", "model",
                    "messageTimestamp", "sessionTitle", "temperature", "maxTokens", "context", "parentId", "replyId");
            assertThat(json.get("temperature").asDouble()).isEqualTo(0.7);
            assertThat(json.get("maxTokens").asInt()).isEqualTo(512);
            assertThat(json.get("sessionId").asText()).isEqualTo(SESSION_ID);
            assertThat(json.get("messageId").asText()).isEqualTo(USER_MESSAGE_ID);
            assertThat(json.get("content").asText()).isEqualTo("And in PostgreSQL?");
            assertThat(json.get("model").asText()).isEqualTo("parley-local");
            assertThat(json.get("messageTimestamp").asText()).isEqualTo("2026-11-26T10:15:30.123Z");
            assertThat(json.get("sessionTitle").asText()).isEqualTo("SQLite questions");
            JsonNode context = json.get("context");
            assertThat(context.size()).isEqualTo(3);
            assertThat(fieldNames(context.get(0))).containsExactlyInAnyOrder("role", "content");
            assertThat(context.get(0).get("role").asText()).isEqualTo("system");
            assertThat(context.get(1).get("role").asText()).isEqualTo("user");
            assertThat(context.get(2).get("role").asText()).isEqualTo("assistant");
            assertThat(context.get(2).get("content").asText()).isEqualTo("Write-ahead logging.");
        }

        @Test
        void chatRequestWithoutSessionTitleRoundTrips() throws Exception {
            ChatRequest request = new ChatRequest(SESSION_ID, USER_MESSAGE_ID, "hi", "parley-local", SENT, null,
                    List.of());

            JsonNode json = roundTrip(request, ChatRequest.class);

            assertAbsentOrNull(json, "sessionTitle");
            assertAbsentOrNull(json, "temperature");
            assertAbsentOrNull(json, "maxTokens");
            assertThat(json.get("context").isArray()).isTrue();
            assertThat(json.get("context").size()).isZero();
        }

        @Test
        void chatResponseUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            ChatResponse response = new ChatResponse(userMessage(), assistantMessage(), sessionWithStatistics(),
                    true, false);

            JsonNode json = roundTrip(response, ChatResponse.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("userMessage", "assistantMessage", "session",
                    "persisted", "replayed");
            assertThat(json.get("userMessage").get("id").asText()).isEqualTo(USER_MESSAGE_ID);
            assertThat(json.get("assistantMessage").get("userMessageId").asText()).isEqualTo(USER_MESSAGE_ID);
            assertThat(json.get("session").get("messageCount").asLong()).isEqualTo(2L);
            assertThat(json.get("persisted").isBoolean()).isTrue();
            assertThat(json.get("persisted").booleanValue()).isTrue();
            assertThat(json.get("replayed").isBoolean()).isTrue();
            assertThat(json.get("replayed").booleanValue()).isFalse();
        }

        @Test
        void syncPageUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            SyncPage page = new SyncPage(List.of(sessionWithStatistics()),
                    List.of(userMessage(), assistantMessage()), "c:42", true);

            JsonNode json = roundTrip(page, SyncPage.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("sessions", "messages", "nextCursor", "hasMore");
            assertThat(json.get("sessions").size()).isEqualTo(1);
            assertThat(json.get("messages").size()).isEqualTo(2);
            assertThat(json.get("nextCursor").asText()).isEqualTo("c:42");
            assertThat(json.get("hasMore").booleanValue()).isTrue();
        }

        @Test
        void lastSyncPageWithNullCursorRoundTrips() throws Exception {
            JsonNode json = roundTrip(new SyncPage(List.of(), List.of(), null, false), SyncPage.class);

            assertAbsentOrNull(json, "nextCursor");
            assertThat(json.get("hasMore").booleanValue()).isFalse();
        }

        @Test
        void sessionsPageUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            SessionsPage page = new SessionsPage(List.of(sessionWithStatistics(),
                    new Session(OTHER_SESSION_ID, "Older", CREATED, null, null, CREATED, null, 0L, 0L, null, null, null)),
                    "s:2", false);

            JsonNode json = roundTrip(page, SessionsPage.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("sessions", "nextCursor", "hasMore");
            assertThat(json.get("sessions").get(1).get("id").asText()).isEqualTo(OTHER_SESSION_ID);
            assertThat(json.get("nextCursor").asText()).isEqualTo("s:2");
            assertThat(json.get("hasMore").booleanValue()).isFalse();
        }

        @Test
        void credentialsUseTheSpecFieldNamesAndRoundTrip() throws Exception {
            JsonNode json = roundTrip(new Credentials("ada@example.com", "correct horse battery"), Credentials.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("email", "password");
            assertThat(json.get("email").asText()).isEqualTo("ada@example.com");
            assertThat(json.get("password").asText()).isEqualTo("correct horse battery");
        }

        @Test
        void refreshRequestUsesTheSpecFieldNameAndRoundTrips() throws Exception {
            JsonNode json = roundTrip(new RefreshRequest("rt-secret-123"), RefreshRequest.class);

            assertThat(fieldNames(json)).containsExactly("refreshToken");
            assertThat(json.get("refreshToken").asText()).isEqualTo("rt-secret-123");
        }

        @Test
        void authResponseUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            AuthResponse auth = new AuthResponse(new AuthResponse.User("u-1", "ada@example.com"),
                    "at-secret-456", "rt-secret-789", Instant.parse("2026-11-26T11:15:30.000Z"));

            JsonNode json = roundTrip(auth, AuthResponse.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("user", "accessToken", "refreshToken", "expiresAt");
            assertThat(fieldNames(json.get("user"))).containsExactlyInAnyOrder("id", "email");
            assertThat(json.get("user").get("id").asText()).isEqualTo("u-1");
            assertThat(json.get("user").get("email").asText()).isEqualTo("ada@example.com");
            assertThat(json.get("accessToken").asText()).isEqualTo("at-secret-456");
            assertThat(json.get("refreshToken").asText()).isEqualTo("rt-secret-789");
            assertThat(json.get("expiresAt").asText()).isEqualTo("2026-11-26T11:15:30.000Z");
        }

        @Test
        void renameRequestUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            JsonNode json = roundTrip(new RenameRequest("Renamed", SENT), RenameRequest.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("title", "titleUpdatedAt");
            assertThat(json.get("title").asText()).isEqualTo("Renamed");
            assertThat(json.get("titleUpdatedAt").asText()).isEqualTo("2026-11-26T10:15:30.123Z");
        }

        @Test
        void usageResponseUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            UsageResponse usage = new UsageResponse(List.of(
                    new UsageResponse.UsageDay(LocalDate.of(2026, 11, 25), 3, 2, 40, 90, 130,
                            Map.of("parley-local", 4L, "gpt-x", 1L), 1, 2500),
                    new UsageResponse.UsageDay(LocalDate.of(2026, 11, 26), 0, 0, 0, 0, 0, Map.of(), 1, 0)));

            JsonNode json = roundTrip(usage, UsageResponse.class);

            assertThat(fieldNames(json)).containsExactly("days");
            JsonNode day = json.get("days").get(0);
            assertThat(fieldNames(day)).containsExactlyInAnyOrder("date", "messagesSent", "messagesReceived",
                    "inputTokens", "outputTokens", "totalTokens", "modelsUsed", "sessionsCreated", "generationMs");
            assertThat(day.get("date").isTextual()).isTrue();
            assertThat(day.get("date").asText()).isEqualTo("2026-11-25");
            assertThat(day.get("messagesSent").asLong()).isEqualTo(3);
            assertThat(day.get("messagesReceived").asLong()).isEqualTo(2);
            assertThat(day.get("inputTokens").asLong()).isEqualTo(40);
            assertThat(day.get("outputTokens").asLong()).isEqualTo(90);
            assertThat(day.get("totalTokens").asLong()).isEqualTo(130);
            assertThat(day.get("modelsUsed").isObject()).isTrue();
            assertThat(day.get("modelsUsed").get("parley-local").asLong()).isEqualTo(4L);
            assertThat(day.get("modelsUsed").get("gpt-x").asLong()).isEqualTo(1L);
            assertThat(day.get("sessionsCreated").asLong()).isEqualTo(1);
            assertThat(day.get("generationMs").asLong()).isEqualTo(2500);
            assertThat(json.get("days").get(1).get("modelsUsed").size()).isZero();
        }

        @Test
        void modelsResponseUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            ModelsResponse models = new ModelsResponse(List.of(
                    new ModelsResponse.ModelInfo(ModelsResponse.LOCAL_MODEL_ID, "Parley local"),
                    new ModelsResponse.ModelInfo("gpt-x", "GPT X")), ModelsResponse.LOCAL_MODEL_ID);

            JsonNode json = roundTrip(models, ModelsResponse.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("models", "defaultModel");
            assertThat(fieldNames(json.get("models").get(0))).containsExactlyInAnyOrder("id", "name");
            assertThat(json.get("models").get(0).get("id").asText()).isEqualTo("parley-local");
            assertThat(json.get("models").get(0).get("name").asText()).isEqualTo("Parley local");
            assertThat(json.get("defaultModel").asText()).isEqualTo("parley-local");
        }

        @Test
        void healthResponseUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            JsonNode json = roundTrip(new HealthResponse("degraded", "unreachable"), HealthResponse.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("status", "database");
            assertThat(json.get("status").asText()).isEqualTo("degraded");
            assertThat(json.get("database").asText()).isEqualTo("unreachable");
        }

        @Test
        void errorBodyUsesTheSpecFieldNamesAndRoundTrips() throws Exception {
            ErrorBody body = new ErrorBody(
                    new ErrorBody.ErrorDetail(ErrorCode.UPSTREAM_TIMEOUT, "the model did not answer", true, null),
                    false);

            JsonNode json = roundTrip(body, ErrorBody.class);

            assertThat(fieldNames(json)).containsExactlyInAnyOrder("error", "persisted");
            assertThat(fieldNames(json.get("error")))
                    .containsExactlyInAnyOrder("code", "message", "retryable", "retryAfterSeconds");
            assertThat(json.get("error").get("code").asText()).isEqualTo("upstream_timeout");
            assertThat(json.get("error").get("retryAfterSeconds").isNull()).isTrue();
            assertThat(json.get("persisted").booleanValue()).isFalse();
        }
    }

    @Nested
    class Strictness {
        private String messageWith(String field, String rawValue) {
            return "{\"id\":\"" + USER_MESSAGE_ID + "\",\"sessionId\":\"" + SESSION_ID + "\",\"role\":\"user\","
                    + "\"content\":\"hi\",\"messageTimestamp\":\"2026-11-26T10:15:30.123Z\",\""
                    + field + "\":" + rawValue + "}";
        }

        @Test
        void wellFormedMessageIsAccepted() throws Exception {
            Message read = mapper.readValue(messageWith("inputTokens", "12"), Message.class);

            assertThat(read.inputTokens()).isEqualTo(12L);
        }

        @Test
        void stringForANumberIsRejected() {
            assertThatThrownBy(() -> mapper.readValue(messageWith("inputTokens", "\"12\""), Message.class))
                    .isInstanceOf(JsonProcessingException.class);
        }

        @ParameterizedTest
        @ValueSource(strings = {"12", "1.5", "true", "{}", "[\"hi\"]"})
        void nonStringForAStringIsRejected(String rawValue) {
            assertThatThrownBy(() -> mapper.readValue(messageWith("content", rawValue), Message.class))
                    .isInstanceOf(JsonProcessingException.class);
        }

        @ParameterizedTest
        @ValueSource(strings = {"1.5", "1.0", "1e3", "true"})
        void fractionExponentOrBooleanForAnIntegerIsRejected(String rawValue) {
            assertThatThrownBy(() -> mapper.readValue(messageWith("inputTokens", rawValue), Message.class))
                    .isInstanceOf(JsonProcessingException.class);
        }

        @Test
        void numberBeyondLongMaxIsRejected() {
            assertThatThrownBy(() -> mapper.readValue(messageWith("inputTokens", "9223372036854775808"), Message.class))
                    .isInstanceOf(JsonProcessingException.class);
            assertThatThrownBy(() -> mapper.readValue(
                    messageWith("elapsedMs", "123456789012345678901234567890"), Message.class))
                    .isInstanceOf(JsonProcessingException.class);
        }

        @Test
        void longMaxItselfIsAccepted() throws Exception {
            Message read = mapper.readValue(messageWith("inputTokens", "9223372036854775807"), Message.class);

            assertThat(read.inputTokens()).isEqualTo(Long.MAX_VALUE);
        }

        @Test
        void unknownRoleIsRejectedNamingTheRole() {
            String json = "{\"id\":\"" + USER_MESSAGE_ID + "\",\"sessionId\":\"" + SESSION_ID
                    + "\",\"role\":\"admin\",\"content\":\"hi\"}";

            assertThatThrownBy(() -> mapper.readValue(json, Message.class))
                    .isInstanceOf(JsonProcessingException.class)
                    .hasMessageContaining("admin");
        }

        @ParameterizedTest
        @ValueSource(strings = {"\"USER\"", "\"User\"", "0", "1"})
        void roleInAnotherSpellingOrAsANumberIsRejected(String rawRole) {
            String json = "{\"role\":" + rawRole + ",\"content\":\"hi\"}";

            assertThatThrownBy(() -> mapper.readValue(json, ChatRequest.ContextMessage.class))
                    .isInstanceOf(JsonProcessingException.class);
        }

        @ParameterizedTest
        @ValueSource(strings = {"\"true\"", "1", "null"})
        void nonBooleanForABooleanIsRejected(String rawValue) {
            String json = "{\"sessions\":[],\"nextCursor\":null,\"hasMore\":" + rawValue + "}";

            assertThatThrownBy(() -> mapper.readValue(json, SessionsPage.class))
                    .isInstanceOf(JsonProcessingException.class);
        }

        @ParameterizedTest
        @ValueSource(strings = {"{\"title\":\"a\"} {\"title\":\"b\"}", "{\"title\":\"a\"}}", "{\"title\":\"a\"},",
                "{\"title\":\"a\"} x", "{\"title\":\"a\"}[]"})
        void trailingTokensAfterTheObjectAreRejected(String json) {
            assertThatThrownBy(() -> mapper.readValue(json, RenameRequest.class))
                    .isInstanceOf(JsonProcessingException.class);
            assertThatThrownBy(() -> mapper.readValue(json.getBytes(StandardCharsets.UTF_8), RenameRequest.class))
                    .isInstanceOf(JsonProcessingException.class);
        }

        @Test
        void trailingWhitespaceIsAccepted() throws Exception {
            assertThat(mapper.readValue("{\"title\":\"a\"}\n \t", RenameRequest.class).title()).isEqualTo("a");
        }

        /** A message whose unknown field {@code x} nests arrays so that the document's depth is {@code depth}. */
        private String messageNestedTo(int depth) {
            int arrays = depth - 1; // the message object itself is one level
            return "{\"role\":\"user\",\"content\":\"hi\",\"x\":" + "[".repeat(arrays) + "]".repeat(arrays) + "}";
        }

        @Test
        void nestingDeeperThanTheLimitIsRejected() {
            String json = messageNestedTo(Json.MAX_NESTING_DEPTH + 1);

            assertThatThrownBy(() -> mapper.readValue(json, Message.class))
                    .isInstanceOf(JsonProcessingException.class)
                    .hasMessageContaining("depth");
            assertThatThrownBy(() -> mapper.readValue(json.getBytes(StandardCharsets.UTF_8), Message.class))
                    .isInstanceOf(JsonProcessingException.class)
                    .hasMessageContaining("depth");
            assertThatThrownBy(() -> mapper.readTree(json))
                    .isInstanceOf(JsonProcessingException.class)
                    .hasMessageContaining("depth");
        }

        @Test
        void veryDeepNestingIsRejectedWithoutAStackOverflow() {
            String json = "[".repeat(100_000) + "]".repeat(100_000);

            assertThatThrownBy(() -> mapper.readValue(json, PushRequest.class))
                    .isInstanceOf(JsonProcessingException.class);
        }

        @Test
        void nestingUpToTheLimitIsAccepted() throws Exception {
            Message read = mapper.readValue(messageNestedTo(Json.MAX_NESTING_DEPTH), Message.class);

            assertThat(read.content()).isEqualTo("hi");
        }

        @Test
        void unknownFieldsAreIgnored() throws Exception {
            String json = "{\"id\":\"" + USER_MESSAGE_ID + "\",\"sessionId\":\"" + SESSION_ID + "\","
                    + "\"role\":\"user\",\"content\":\"hi\",\"reactions\":[{\"emoji\":\"+1\",\"n\":3}],"
                    + "\"priority\":1.5,\"pinned\":true,\"meta\":{\"a\":{\"b\":null}},"
                    + "\"messageTimestamp\":\"2026-11-26T10:15:30.123Z\"}";

            Message read = mapper.readValue(json, Message.class);

            assertThat(read).isEqualTo(new Message(USER_MESSAGE_ID, SESSION_ID, Role.USER, "hi", null,
                    null, null, null, null, SENT, null, null, null));
        }

        @Test
        void unknownFieldsInNestedRecordsAreIgnored() throws Exception {
            String json = "{\"error\":{\"code\":\"conflict\",\"message\":\"taken\",\"retryable\":false,"
                    + "\"retryAfterSeconds\":null,\"docs\":\"https://example.com\"},\"persisted\":null,\"traceId\":\"t\"}";

            assertThat(mapper.readValue(json, ErrorBody.class)).isEqualTo(ErrorBody.of(ErrorCode.CONFLICT, "taken"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"{}", "{\"sessions\":null,\"messages\":null}", "{\"sessions\":null}",
                "{\"messages\":null}"})
        void nullOrMissingListsInAPushRequestBecomeEmptyLists(String json) throws Exception {
            PushRequest push = mapper.readValue(json, PushRequest.class);

            assertThat(push.sessions()).isNotNull().isEmpty();
            assertThat(push.messages()).isNotNull().isEmpty();
        }

        @Test
        void nullListsPassedToThePushRequestConstructorBecomeEmptyLists() {
            PushRequest push = new PushRequest(null, null);

            assertThat(push.sessions()).isEmpty();
            assertThat(push.messages()).isEmpty();
        }

        @ParameterizedTest
        @ValueSource(strings = {"", ",\"context\":null"})
        void nullOrMissingContextInAChatRequestBecomesAnEmptyList(String contextField) throws Exception {
            String json = "{\"sessionId\":\"" + SESSION_ID + "\",\"messageId\":\"" + USER_MESSAGE_ID
                    + "\",\"content\":\"hi\",\"model\":\"parley-local\","
                    + "\"messageTimestamp\":\"2026-11-26T10:15:30.123Z\"" + contextField + "}";

            ChatRequest request = mapper.readValue(json, ChatRequest.class);

            assertThat(request.context()).isNotNull().isEmpty();
            assertThat(request.sessionTitle()).isNull();
        }

        @Test
        void nullContextPassedToTheChatRequestConstructorBecomesAnEmptyList() {
            assertThat(new ChatRequest(SESSION_ID, USER_MESSAGE_ID, "hi", "m", SENT, null, null).context()).isEmpty();
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "   ", "{", "{\"title\":", "{\"title\":\"a\"", "[]", "null ]", "{'title':'a'}",
                "{title:\"a\"}", "{\"title\":\"a\",}"})
        void malformedJsonIsRejected(String json) {
            assertThatThrownBy(() -> {
                RenameRequest read = mapper.readValue(json, RenameRequest.class);
                // an empty or "null" document must not pass silently as a missing body
                assertThat(read).isNotNull();
            }).isInstanceOf(JsonProcessingException.class);
        }
    }

    @Nested
    class HostileStrings {

        static Stream<String> hostileStrings() {
            return Stream.of(
                    "She said \"hi\" and left",
                    "C:\\Users\\ada\\notes.txt and \\u0041 and \\\"",
                    "</script><script>alert('x')</script>",
                    "'; DROP TABLE users; --",
                    "Robert'); DELETE FROM chat_messages WHERE ('1'='1",
                    "emoji: \uD83D\uDE00 \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67 \uD83C\uDDFA\uD83C\uDDE6",
                    "RTL: \u200Fשלום\u200E \u202Egnp.exe\u202C \u2067isolate\u2069",
                    "controls: \u0000 \u0001 \u0007 \b \f \u000B \u001B[31m \u001F \u007F \u0085",
                    "line breaks: \r\n \n \r \u2028 \u2029",
                    "tabs:\tand trailing spaces   ",
                    "unicode: ü ß 中文 한국어 \uFEFF BOM and \uFFFD replacement",
                    "json-looking: {\"role\":\"admin\"} [1,2] null true",
                    "${jndi:ldap://example.com/a} %s %n {{7*7}}",
                    "");
        }

        @ParameterizedTest
        @MethodSource("hostileStrings")
        void messageContentRoundTripsVerbatim(String hostile) throws Exception {
            Message message = new Message(USER_MESSAGE_ID, SESSION_ID, Role.USER, hostile, "parley-local",
                    1L, null, 1L, null, SENT, null, hostile, null);

            String text = mapper.writeValueAsString(message);
            Message fromText = mapper.readValue(text, Message.class);
            Message fromBytes = mapper.readValue(mapper.writeValueAsBytes(message), Message.class);

            assertThat(fromText.content()).isEqualTo(hostile);
            assertThat(fromText.errorMessage()).isEqualTo(hostile);
            assertThat(fromBytes.content()).isEqualTo(hostile);
            assertThat(fromText).isEqualTo(message);
            assertThat(mapper.readTree(text).get("content").asText()).isEqualTo(hostile);
        }

        @ParameterizedTest
        @MethodSource("hostileStrings")
        void writtenJsonContainsNoRawControlCharacters(String hostile) throws Exception {
            String text = mapper.writeValueAsString(new RenameRequest(hostile, SENT));

            assertThat(text.chars().filter(c -> c < 0x20).count())
                    .as("raw control characters in %s", text)
                    .isZero();
        }

        @ParameterizedTest
        @MethodSource("hostileStrings")
        void titlesContextAndCredentialsRoundTripVerbatim(String hostile) throws Exception {
            ChatRequest request = new ChatRequest(SESSION_ID, USER_MESSAGE_ID, hostile, "parley-local", SENT, hostile,
                    List.of(new ChatRequest.ContextMessage(Role.ASSISTANT, hostile)));
            Credentials credentials = new Credentials(hostile, hostile);
            Session session = new Session(SESSION_ID, hostile, SENT, hostile, SENT, CREATED, null, 1L, 1L, hostile, hostile, SENT);

            assertThat(mapper.readValue(mapper.writeValueAsBytes(request), ChatRequest.class)).isEqualTo(request);
            assertThat(mapper.readValue(mapper.writeValueAsBytes(credentials), Credentials.class))
                    .isEqualTo(credentials);
            assertThat(mapper.readValue(mapper.writeValueAsBytes(session), Session.class)).isEqualTo(session);
        }

        @Test
        void escapedInputIsDecodedToTheSameCharacters() throws Exception {
            String json = "{\"title\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u200F\\uD83D\\uDE00\"}";

            assertThat(mapper.readValue(json, RenameRequest.class).title())
                    .isEqualTo("\"\\/\b\f\n\r\t\u0000\u200F\uD83D\uDE00");
        }

        @Test
        void maximumLengthContentRoundTrips() throws Exception {
            String content = "\uD83D\uDE00</script>'\"\\".repeat(Limits.MAX_CONTENT_CHARS / 14) + "x".repeat(
                    Limits.MAX_CONTENT_CHARS % 14);
            assertThat(content).hasSize(Limits.MAX_CONTENT_CHARS);
            Message message = new Message(USER_MESSAGE_ID, SESSION_ID, Role.USER, content, null, null, null, null,
                    null, SENT, null, null, null);

            assertThat(mapper.readValue(mapper.writeValueAsBytes(message), Message.class).content()).isEqualTo(content);
        }
    }

    @Nested
    class Secrets {
        private static final String PASSWORD = "hunter2-correct-horse";
        private static final String ACCESS_TOKEN = "at_9f8e7d6c5b4a39281706";
        private static final String REFRESH_TOKEN = "rt_0a1b2c3d4e5f60718293";

        @Test
        void credentialsToStringHidesThePassword() {
            String text = new Credentials("ada@example.com", PASSWORD).toString();

            assertThat(text).doesNotContain(PASSWORD).doesNotContain("hunter2");
            assertThat(text).contains("ada@example.com");
        }

        @Test
        void refreshRequestToStringHidesTheToken() {
            String text = new RefreshRequest(REFRESH_TOKEN).toString();

            assertThat(text).doesNotContain(REFRESH_TOKEN).doesNotContain("0a1b2c3d");
        }

        @Test
        void authResponseToStringHidesBothTokens() {
            String text = new AuthResponse(new AuthResponse.User("u-1", "ada@example.com"), ACCESS_TOKEN,
                    REFRESH_TOKEN, SENT).toString();

            assertThat(text).doesNotContain(ACCESS_TOKEN).doesNotContain(REFRESH_TOKEN)
                    .doesNotContain("9f8e7d6c").doesNotContain("0a1b2c3d");
            assertThat(text).contains("ada@example.com");
        }

        @Test
        void secretsInStringFormAreStillWrittenToTheWire() throws Exception {
            // toString redaction must not leak into serialization: the peer needs the real values.
            String text = mapper.writeValueAsString(new AuthResponse(new AuthResponse.User("u-1", "a@b.c"),
                    ACCESS_TOKEN, REFRESH_TOKEN, SENT));

            assertThat(text).contains(ACCESS_TOKEN).contains(REFRESH_TOKEN).doesNotContain("***");
        }
    }

    @Nested
    class WireLimits {

        @Test
        void limitsMatchSpecSection3() {
            assertThat(Limits.MAX_REQUEST_BYTES).isEqualTo(1_048_576);
            assertThat(Limits.MAX_CONTENT_CHARS).isEqualTo(100_000);
            assertThat(Limits.MAX_TITLE_CHARS).isEqualTo(255);
            assertThat(Limits.MAX_PUSH_ROWS).isEqualTo(500);
            assertThat(Limits.MAX_CONTEXT_MESSAGES).isEqualTo(100);
            assertThat(Limits.MAX_EMAIL_CHARS).isEqualTo(254);
            assertThat(Limits.MIN_PASSWORD_CHARS).isEqualTo(8);
            assertThat(Limits.MAX_PASSWORD_CHARS).isEqualTo(1024);
        }

        @Test
        void pageAndSkewLimitsMatchSpec() {
            assertThat(Limits.DEFAULT_PAGE_LIMIT).isEqualTo(100);
            assertThat(Limits.MAX_PAGE_LIMIT).isEqualTo(500);
            assertThat(Limits.MAX_PREVIEW_CHARS).isEqualTo(200);
            assertThat(Limits.MAX_CLOCK_SKEW_MILLIS).isEqualTo(5 * 60 * 1000L);
        }
    }
}
