package dev.parley.server;

import static dev.parley.server.testing.TestServer.session;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.Message;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RenameRequest;
import dev.parley.protocol.Role;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.protocol.Session;
import dev.parley.protocol.SessionsPage;
import dev.parley.protocol.SyncPage;
import dev.parley.protocol.UsageResponse;
import dev.parley.protocol.UsageResponse.UsageDay;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * User B, holding B's own valid token, can neither read nor write user A's rows through any endpoint, and cannot
 * tell A's session from one that does not exist (SPEC §4.2 last row, §5).
 */
class CrossUserTest {
    @TempDir
    Path dir;

    private TestServer server;
    private String tokenA;
    private String tokenB;
    /** A's session, holding one answered exchange. */
    private String sessionA;
    /** A's user message in {@link #sessionA}. */
    private String messageA;

    @BeforeEach
    void start() {
        server = TestServer.start(dir);
        tokenA = server.signUp("ada@example.com").accessToken();
        tokenB = server.signUp("bob@example.com").accessToken();
        sessionA = TestIds.next();
        messageA = TestIds.next();
        HttpApi.Response answered = server.chat(tokenA, sessionA, messageA, "Ada's private question");
        assertThat(answered.status()).as("A's exchange: %s", answered).isEqualTo(200);
        assertThat(answered.json().path("persisted").asBoolean()).isTrue();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    // ----------------------------------------------------------------- POST /api/chat

    @Test
    void chatIntoAnotherUsersSessionIsNotFoundAndCallsNoModel() throws Exception {
        String before = snapshotOfSessionA();
        int calls = server.model.calls();
        String intruding = TestIds.next();

        HttpApi.Response response = server.chat(tokenB, sessionA, intruding, "let me in");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.errorCode()).isEqualTo("not_found");
        assertThat(server.model.calls()).isEqualTo(calls);
        assertThat(snapshotOfSessionA()).isEqualTo(before);
        assertThat(server.queryLong("SELECT COUNT(*) FROM chat_messages WHERE id = '" + intruding + "'")).isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void chatReusingAnotherUsersMessageIdIsAConflict() throws Exception {
        String before = snapshotOfSessionA();
        int calls = server.model.calls();
        String sessionB = TestIds.next();

        HttpApi.Response response = server.chat(tokenB, sessionB, messageA, "Ada's private question");

        assertThat(response.status()).isEqualTo(409);
        assertThat(response.errorCode()).isEqualTo("conflict");
        assertThat(response.body()).doesNotContain("Ada's private question");
        assertThat(server.model.calls()).isEqualTo(calls);
        assertThat(snapshotOfSessionA()).isEqualTo(before);
        assertThat(server.queryLong("SELECT COUNT(*) FROM chat_sessions WHERE id = '" + sessionB + "'")).isZero();
        HttpApi.Response replayForA = server.chat(tokenA, sessionA, messageA, "Ada's private question");
        assertThat(replayForA.status()).as("B's refused attempt left no claim on A's id: %s", replayForA)
                .isEqualTo(200);
        assertThat(replayForA.json().path("replayed").asBoolean()).isTrue();
        assertThat(server.mismatches()).isEmpty();
    }

    // ----------------------------------------------------------------- POST /api/chat/messages

    @Test
    void pushOfAMessageIntoAnotherUsersSessionIsRejectedNotFound() throws Exception {
        String before = snapshotOfSessionA();
        Message intruding = userMessage(sessionA, "planted", 3, server.now());

        PushResponse result = server.push(tokenB, List.of(), List.of(intruding));

        assertThat(result.messages()).singleElement().satisfies(row -> {
            assertThat(row.id()).isEqualTo(intruding.id());
            assertThat(row.result()).isEqualTo(Outcome.REJECTED);
            assertThat(row.code()).isEqualTo(RowResult.NOT_FOUND);
        });
        assertThat(snapshotOfSessionA()).isEqualTo(before);
        assertThat(server.queryLong("SELECT COUNT(*) FROM chat_messages WHERE id = '" + intruding.id() + "'"))
                .isZero();
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void pushOfAMessageWithAnotherUsersMessageIdIsRejectedConflict() throws Exception {
        String before = snapshotOfSessionA();
        String sessionB = TestIds.next();
        Message hijack = new Message(messageA, sessionB, Role.USER, "overwritten", "parley-local", 1L, null, null,
                null, server.now(), null, null, null);

        PushResponse result = server.push(tokenB, List.of(session(sessionB, "Bob's chat", server.now())),
                List.of(hijack));

        assertThat(result.messages()).singleElement().satisfies(row -> {
            assertThat(row.id()).isEqualTo(messageA);
            assertThat(row.result()).isEqualTo(Outcome.REJECTED);
            assertThat(row.code()).isEqualTo(RowResult.CONFLICT);
        });
        assertThat(snapshotOfSessionA()).isEqualTo(before);
        assertThat(server.queryString("SELECT content FROM chat_messages WHERE id = '" + messageA + "'"))
                .isEqualTo("Ada's private question");
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void pushOfASessionRowWithAnotherUsersSessionIdIsRejectedNotFound() throws Exception {
        String before = snapshotOfSessionA();
        Instant later = server.now().plus(Duration.ofMinutes(1));
        Session renamed = session(sessionA, "Hijacked", later);
        Session deleted = Session.of(sessionA, "Hijacked", later, later, later);

        PushResponse result = server.push(tokenB, List.of(renamed, deleted), List.of());

        assertThat(result.sessions()).hasSize(2).allSatisfy(row -> {
            assertThat(row.id()).isEqualTo(sessionA);
            assertThat(row.result()).isEqualTo(Outcome.REJECTED);
            assertThat(row.code()).isEqualTo(RowResult.NOT_FOUND);
        });
        assertThat(snapshotOfSessionA()).isEqualTo(before);
        assertThat(server.mismatches()).isEmpty();
    }

    // ----------------------------------------------------------------- PATCH and DELETE /api/chat/sessions/{id}

    @Test
    void renameOfAnotherUsersSessionIsNotFoundAndChangesNothing() throws Exception {
        String before = snapshotOfSessionA();

        HttpApi.Response response = server.api.patch("/api/chat/sessions/" + sessionA,
                new RenameRequest("Hijacked", server.now().plus(Duration.ofMinutes(1))), tokenB);

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.errorCode()).isEqualTo("not_found");
        assertThat(snapshotOfSessionA()).isEqualTo(before);
        assertThat(server.queryString("SELECT title FROM chat_sessions WHERE id = '" + sessionA + "'"))
                .isNotEqualTo("Hijacked");
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void deleteOfAnotherUsersSessionIsNotFoundAndChangesNothing() throws Exception {
        String before = snapshotOfSessionA();

        HttpApi.Response response = server.api.delete("/api/chat/sessions/" + sessionA, tokenB);

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.errorCode()).isEqualTo("not_found");
        assertThat(snapshotOfSessionA()).isEqualTo(before);
        assertThat(server.queryString("SELECT deleted_at FROM chat_sessions WHERE id = '" + sessionA + "'")).isNull();
        assertThat(server.queryLong("SELECT COUNT(*) FROM chat_messages WHERE session_id = '" + sessionA + "'"
                + " AND NOT purged AND content <> ''")).isEqualTo(2);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void anotherUsersSessionAnswersExactlyLikeASessionNobodyHas() {
        String nobodys = TestIds.next();
        RenameRequest rename = new RenameRequest("Probe", server.now());

        HttpApi.Response patchA = server.api.patch("/api/chat/sessions/" + sessionA, rename, tokenB);
        HttpApi.Response patchNobody = server.api.patch("/api/chat/sessions/" + nobodys, rename, tokenB);
        HttpApi.Response deleteA = server.api.delete("/api/chat/sessions/" + sessionA, tokenB);
        HttpApi.Response deleteNobody = server.api.delete("/api/chat/sessions/" + nobodys, tokenB);

        assertThat(patchA.status()).isEqualTo(404);
        assertThat(patchA.status()).isEqualTo(patchNobody.status());
        assertThat(patchA.body()).isEqualTo(patchNobody.body());
        assertThat(deleteA.status()).isEqualTo(404);
        assertThat(deleteA.status()).isEqualTo(deleteNobody.status());
        assertThat(deleteA.body()).isEqualTo(deleteNobody.body());
        assertThat(patchA.body()).doesNotContain(sessionA);
    }

    @Test
    void anotherUsersDeletedSessionAlsoAnswersLikeASessionNobodyHas() throws Exception {
        assertThat(server.api.delete("/api/chat/sessions/" + sessionA, tokenA).status()).isEqualTo(204);
        String nobodys = TestIds.next();
        RenameRequest rename = new RenameRequest("Probe", server.now());

        HttpApi.Response patchA = server.api.patch("/api/chat/sessions/" + sessionA, rename, tokenB);
        HttpApi.Response patchNobody = server.api.patch("/api/chat/sessions/" + nobodys, rename, tokenB);
        HttpApi.Response chatA = server.chat(tokenB, sessionA, TestIds.next(), "probe");
        PushResponse pushA = server.push(tokenB, List.of(session(sessionA, "Probe", server.now())),
                List.of(userMessage(sessionA, "probe", 1, server.now())));

        assertThat(patchA.status()).isEqualTo(404);
        assertThat(patchA.body()).isEqualTo(patchNobody.body());
        assertThat(chatA.status()).isEqualTo(404);
        assertThat(chatA.errorCode()).isEqualTo("not_found");
        assertThat(pushA.sessions()).extracting(RowResult::code).containsExactly(RowResult.NOT_FOUND);
        assertThat(pushA.messages()).extracting(RowResult::code).containsExactly(RowResult.NOT_FOUND);
        assertThat(server.mismatches()).isEmpty();
    }

    // ----------------------------------------------------------------- reads

    @Test
    void syncAndSessionListOfBNeverIncludeAsRows() {
        String sessionB = TestIds.next();
        assertThat(server.chat(tokenB, sessionB, TestIds.next(), "Bob's question").status()).isEqualTo(200);

        SyncPage syncB = server.api.get("/api/chat/sync", tokenB).as(SyncPage.class);
        SessionsPage listB = server.api.get("/api/chat/sessions", tokenB).as(SessionsPage.class);
        SyncPage syncA = server.api.get("/api/chat/sync", tokenA).as(SyncPage.class);

        assertThat(syncB.sessions()).extracting(Session::id).containsExactly(sessionB);
        assertThat(syncB.messages()).hasSize(2).extracting(Message::sessionId).containsOnly(sessionB);
        assertThat(syncB.messages()).extracting(Message::id).doesNotContain(messageA);
        assertThat(syncB.hasMore()).isFalse();
        assertThat(listB.sessions()).extracting(Session::id).containsExactly(sessionB);
        assertThat(syncA.sessions()).extracting(Session::id).containsExactly(sessionA);
        assertThat(syncA.messages()).extracting(Message::sessionId).containsOnly(sessionA);
    }

    @Test
    void syncOfBFromAnyCursorNeverIncludesAsRows() {
        // A keeps writing after B's first page, so A's changes interleave with B's on the server.
        String sessionB = TestIds.next();
        server.chat(tokenB, sessionB, TestIds.next(), "one");
        SyncPage first = server.api.get("/api/chat/sync?limit=1", tokenB).as(SyncPage.class);
        server.chat(tokenA, sessionA, TestIds.next(), "Ada again");
        server.chat(tokenB, sessionB, TestIds.next(), "two");

        SyncPage rest = server.api.get("/api/chat/sync?limit=500&cursor=" + first.nextCursor(), tokenB)
                .as(SyncPage.class);

        assertThat(first.sessions().size() + first.messages().size()).isEqualTo(1);
        assertThat(rest.sessions()).extracting(Session::id).containsOnly(sessionB);
        assertThat(rest.messages()).isNotEmpty().extracting(Message::sessionId).containsOnly(sessionB);
    }

    @Test
    void usageOfBShowsOnlyBsFigures() {
        server.chat(tokenA, sessionA, TestIds.next(), "second from Ada");
        server.chat(tokenA, TestIds.next(), TestIds.next(), "third from Ada, new chat");
        assertThat(server.chat(tokenB, TestIds.next(), TestIds.next(), "only one from Bob").status())
                .isEqualTo(200);

        List<UsageDay> daysB = server.api.get("/api/usage/daily", tokenB).as(UsageResponse.class).days();
        List<UsageDay> daysA = server.api.get("/api/usage/daily", tokenA).as(UsageResponse.class).days();

        assertThat(daysB.stream().mapToLong(UsageDay::messagesSent).sum()).isEqualTo(1);
        assertThat(daysB.stream().mapToLong(UsageDay::messagesReceived).sum()).isEqualTo(1);
        assertThat(daysB.stream().mapToLong(UsageDay::sessionsCreated).sum()).isEqualTo(1);
        assertThat(daysA.stream().mapToLong(UsageDay::messagesSent).sum()).isEqualTo(3);
        assertThat(daysA.stream().mapToLong(UsageDay::sessionsCreated).sum()).isEqualTo(2);
    }

    // ----------------------------------------------------------------- helpers

    /** Everything stored about A's session and its messages, as one string to compare before and after. */
    private String snapshotOfSessionA() throws Exception {
        String session = server.queryString("SELECT title || '|' || coalesce(CAST(title_updated_at AS TEXT), '')"
                + " || '|' || coalesce(CAST(deleted_at AS TEXT), '') || '|' || updated_at || '|' || message_count"
                + " || '|' || total_tokens || '|' || coalesce(last_message_preview, '') || '|' || change_seq"
                + " FROM chat_sessions WHERE id = '" + sessionA + "'");
        String messages = server.queryString("SELECT string_agg(id || ':' || content || ':' || purged || ':'"
                + " || coalesce(error_message, '') || ':' || updated_at || ':' || change_seq, ';' ORDER BY id)"
                + " FROM chat_messages WHERE session_id = '" + sessionA + "'");
        String usage = server.queryString("SELECT string_agg(usage_date || ':' || messages_sent || ':'"
                + " || messages_received || ':' || total_tokens || ':' || sessions_created, ';' ORDER BY usage_date)"
                + " FROM user_usage_daily u JOIN users ON users.id = u.user_id WHERE users.email = 'ada@example.com'");
        assertThat(session).as("A's session exists").isNotNull();
        return session + "\n" + messages + "\n" + usage;
    }
}
