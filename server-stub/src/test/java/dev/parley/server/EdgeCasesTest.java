package dev.parley.server;

import static dev.parley.server.testing.TestServer.session;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RefreshRequest;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.protocol.Session;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Races around the model call, extreme values, and the shape of failures. */
class EdgeCasesTest {
    @TempDir
    Path dir;

    TestServer server;
    String token;

    @BeforeEach
    void start() {
        server = TestServer.start(dir);
        token = server.signUp("ada@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void sessionDeletedWhileTheModelAnswersIsNotWrittenInto() throws Exception {
        String sessionId = TestIds.next();
        server.chat(token, sessionId, TestIds.next(), "first");
        server.model.closeGate();
        CompletableFuture<Response> late = CompletableFuture.supplyAsync(
                () -> server.chat(token, sessionId, TestIds.next(), "secret written during the delete"));
        server.model.awaitEntered();

        assertThat(server.api.delete("/api/chat/sessions/" + sessionId, token).status()).isEqualTo(204);
        server.model.openGate();
        Response response = late.get(20, TimeUnit.SECONDS);

        assertThat(response.status()).isEqualTo(409);
        assertThat(response.json().path("persisted").asBoolean(true)).isFalse();
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE content <> ''")).isZero();
        assertThat(server.queryLong("SELECT count(*) FROM chat_claims")).isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void sessionTakenByAnotherUserWhileTheModelAnswersIsNotWrittenInto() throws Exception {
        String bob = server.signUp("bob@example.com").accessToken();
        String sessionId = TestIds.next();
        server.model.closeGate();
        CompletableFuture<Response> bobs = CompletableFuture.supplyAsync(
                () -> server.chat(bob, sessionId, TestIds.next(), "bob's private text"));
        server.model.awaitEntered();

        server.push(token, List.of(session(sessionId, "Ada's", server.now())), List.of());
        server.model.openGate();
        Response response = bobs.get(20, TimeUnit.SECONDS);

        assertThat(response.status()).isEqualTo(404);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isZero();
        assertThat(server.queryString("SELECT coalesce(last_message_preview, '') FROM chat_sessions")).isEmpty();
    }

    @Test
    void unreadableRowIsRejectedAloneAndTheGoodRowsAreStored() throws Exception {
        String sessionId = TestIds.next();
        String good = TestIds.next();
        String robot = TestIds.next();
        String body = "{\"messages\":["
                + "{\"id\":\"" + good + "\",\"sessionId\":\"" + sessionId + "\",\"role\":\"user\",\"content\":\"ok\","
                + "\"messageTimestamp\":\"" + server.now() + "\"},"
                + "{\"id\":\"" + robot + "\",\"sessionId\":\"" + sessionId + "\",\"role\":\"robot\",\"content\":\"x\","
                + "\"messageTimestamp\":\"" + server.now() + "\"},"
                + "{\"id\":\"" + TestIds.next() + "\",\"sessionId\":\"" + sessionId + "\",\"role\":\"user\","
                + "\"content\":\"x\",\"inputTokens\":1.5,\"messageTimestamp\":\"" + server.now() + "\"},"
                + "42]}";

        PushResponse result = server.api.post("/api/chat/messages", body, token).as(PushResponse.class);

        assertThat(result.messages()).extracting(RowResult::result)
                .containsExactly(Outcome.INSERTED, Outcome.REJECTED, Outcome.REJECTED, Outcome.REJECTED);
        assertThat(result.messages().get(1).id()).isEqualTo(robot);
        assertThat(result.messages().get(1).code()).isEqualTo(RowResult.BAD_REQUEST);
        assertThat(result.messages().get(1).reason()).contains("role");
        assertThat(result.messages().get(3).reason()).contains("must be an object");
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
    }

    @Test
    void rowTheDatabaseRefusesIsRejectedAloneAndTheOthersCountOnce() throws Exception {
        // An operator's trigger stands for any refusal the database makes that validation cannot foresee.
        if (TestDatabases.postgres()) {
            server.execute("CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$ BEGIN RAISE EXCEPTION 'poison refused'; END $$");
            server.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON chat_messages FOR EACH ROW"
                    + " WHEN (NEW.content = 'poison') EXECUTE FUNCTION refuse_poison()");
        } else {
            server.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON chat_messages WHEN NEW.content = 'poison'"
                    + " BEGIN SELECT RAISE(ABORT, 'poison refused'); END");
        }
        String sessionId = TestIds.next();
        Instant at = server.now().minusSeconds(60);
        var before = TestServer.userMessage(sessionId, "before", 3, at);
        var poison = TestServer.userMessage(sessionId, "poison", 5, at.plusMillis(1));
        var after = TestServer.userMessage(sessionId, "after", 7, at.plusMillis(2));

        PushResponse result = server.push(token, List.of(session(sessionId, "Mixed", at)),
                List.of(before, poison, after));

        assertThat(result.sessions()).extracting(RowResult::result).containsExactly(Outcome.INSERTED);
        assertThat(result.messages()).extracting(RowResult::result)
                .containsExactly(Outcome.INSERTED, Outcome.REJECTED, Outcome.INSERTED);
        assertThat(result.messages().get(1).code()).isEqualTo(RowResult.CONFLICT);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(2);
        assertThat(server.queryLong("SELECT sum(input_tokens) FROM user_usage_daily")).isEqualTo(10);
        assertThat(server.queryLong("SELECT sum(sessions_created) FROM user_usage_daily")).isEqualTo(1);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void timestampsOutsideTheRepresentableRangeAreBadRequests() throws Exception {
        String ancient = "-999999999-01-01T00:00:00Z";
        String sessionId = TestIds.next();
        server.push(token, List.of(session(sessionId, "Kept", server.now())), List.of());
        String row = "{\"messages\":[{\"id\":\"" + TestIds.next() + "\",\"sessionId\":\"" + sessionId
                + "\",\"role\":\"user\",\"content\":\"x\",\"messageTimestamp\":\"" + ancient + "\"}]}";

        PushResponse pushed = server.api.post("/api/chat/messages", row, token).as(PushResponse.class);
        Response chat = server.api.post("/api/chat", "{\"sessionId\":\"" + sessionId + "\",\"messageId\":\""
                + TestIds.next() + "\",\"content\":\"x\",\"messageTimestamp\":\"" + ancient + "\"}", token);
        Response rename = server.api.patch("/api/chat/sessions/" + sessionId,
                "{\"title\":\"x\",\"titleUpdatedAt\":\"" + ancient + "\"}", token);
        Response usage = server.api.get("/api/usage/daily?to=-999999999-01-01", token);

        assertThat(pushed.messages().get(0).code()).isEqualTo(RowResult.BAD_REQUEST);
        assertThat(chat.status()).isEqualTo(400);
        assertThat(rename.status()).isEqualTo(400);
        assertThat(usage.status()).isEqualTo(400);
        assertThat(server.model.calls()).isZero();
        assertThat(server.queryString("SELECT title FROM chat_sessions")).isEqualTo("Kept");
    }

    @Test
    void titleTimeAheadOfTheServerClockIsRefusedSoItCannotWinForever() throws Exception {
        String sessionId = TestIds.next();
        Instant now = server.now();
        server.push(token, List.of(session(sessionId, "Now", now)), List.of());

        PushResponse ahead = server.push(token, List.of(Session.of(sessionId, "From the future",
                now.plusSeconds(3600), now, null)), List.of());
        Response renameAhead = server.api.patch("/api/chat/sessions/" + sessionId,
                "{\"title\":\"Also future\",\"titleUpdatedAt\":\"" + now.plusSeconds(3600) + "\"}", token);

        assertThat(ahead.sessions().get(0).code()).isEqualTo(RowResult.BAD_REQUEST);
        assertThat(ahead.sessions().get(0).reason()).contains("clock");
        assertThat(renameAhead.status()).isEqualTo(400);
        assertThat(server.queryString("SELECT title FROM chat_sessions")).isEqualTo("Now");
    }

    @Test
    void retriedMessageKeepsTheTimestampItWasStoredWith() throws Exception {
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        Instant first = server.now().minusSeconds(120);
        server.model.failNext(new ModelException(ErrorCode.UPSTREAM_ERROR, "down"));
        server.api.post("/api/chat", new ChatRequest(sessionId, messageId, "again", null, first, null, List.of()),
                token);

        ChatResponse retried = server.api.post("/api/chat", new ChatRequest(sessionId, messageId, "again", null,
                server.now(), null, List.of()), token).as(ChatResponse.class);

        assertThat(retried.userMessage().messageTimestamp()).isEqualTo(first);
        assertThat(server.queryLong("SELECT message_timestamp FROM chat_messages WHERE id = '" + messageId + "'"))
                .isEqualTo(first.toEpochMilli());
    }

    @Test
    void everyChatFailureSaysWhetherTheMessageWasStoredAndOtherErrorsDoNot() {
        Response badRequest = server.api.post("/api/chat", "{\"content\":\"no ids\"}", token);
        Response unauthorized = server.api.post("/api/chat", "{}", "not-a-token");
        Response notChat = server.api.get("/api/chat/sync?limit=0", token);

        assertThat(badRequest.json().path("persisted").isBoolean()).isTrue();
        assertThat(badRequest.json().path("persisted").asBoolean()).isFalse();
        assertThat(unauthorized.json().path("persisted").asBoolean(true)).isFalse();
        assertThat(notChat.json().has("persisted")).isFalse();
    }

    @Test
    void anonymousReplyCarriesItsTotalTokens() {
        ChatResponse chat = server.chat(null, TestIds.next(), TestIds.next(), "count me").as(ChatResponse.class);

        assertThat(chat.userMessage().totalTokens()).isEqualTo(chat.userMessage().inputTokens());
        assertThat(chat.assistantMessage().totalTokens()).isEqualTo(chat.assistantMessage().outputTokens());
    }

    @Test
    void refreshRevokesThePreviousAccessToken() {
        AuthResponse bob = server.signUp("bob@example.com");

        Response refreshed = server.api.post("/api/auth/refresh", new RefreshRequest(bob.refreshToken()), null);

        assertThat(refreshed.status()).isEqualTo(200);
        assertThat(server.api.get("/api/chat/sessions", bob.accessToken()).status()).isEqualTo(401);
        String fresh = refreshed.as(AuthResponse.class).accessToken();
        assertThat(server.api.get("/api/chat/sessions", fresh).status()).isEqualTo(200);
    }

    @Test
    void oversizedSignInIsRefusedWithoutGrowingTheLimiter() {
        String huge = "a".repeat(100_000) + "@example.com";

        Response response = server.api.post("/api/auth/signin",
                "{\"email\":\"" + huge + "\",\"password\":\"whatever-long\"}", null);

        assertThat(response.status()).isEqualTo(401);
    }
}
