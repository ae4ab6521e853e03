package dev.parley.server;

import static dev.parley.server.testing.TestServer.session;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.Message;
import dev.parley.protocol.RenameRequest;
import dev.parley.protocol.Session;
import dev.parley.protocol.SessionsPage;
import dev.parley.protocol.SyncPage;
import dev.parley.protocol.UsageResponse;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sync pages, the sidebar list, rename, delete and the usage endpoint. */
class SyncAndSessionsTest {
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

    /**
     * Rows are written in an order that is neither their ids' nor their timestamps' (the newest session first, each
     * batch newest message first), so that only the change order gives them back in the order they were written.
     * Each message is written once; a session last changes when the last message of its batch updates its
     * statistics.
     */
    @Test
    void syncPagesDeliverEveryRowOnceInChangeOrder() {
        Instant base = server.now().minusSeconds(600);
        List<String> sessionIds = new ArrayList<>();
        List<List<Message>> batches = new ArrayList<>();
        for (int s = 0; s < 5; s++) {
            String sessionId = TestIds.next();
            List<Message> batch = new ArrayList<>();
            for (int m = 0; m < 7; m++) {
                batch.add(userMessage(sessionId, "s" + s + "m" + m, 1, base.plusSeconds(10L * s + m)));
            }
            Collections.reverse(batch);
            sessionIds.add(sessionId);
            batches.add(batch);
        }
        List<String> written = new ArrayList<>();
        List<String> sessionsByLastChange = new ArrayList<>();
        for (int s = sessionIds.size() - 1; s >= 0; s--) {
            String sessionId = sessionIds.get(s);
            server.push(token, List.of(session(sessionId, "Session " + s, base.plusSeconds(10L * s))), batches.get(s));
            batches.get(s).forEach(m -> written.add(m.id()));
            sessionsByLastChange.add(sessionId);
        }

        List<String> seenMessages = new ArrayList<>();
        List<String> seenSessions = new ArrayList<>();
        String cursor = "";
        int pages = 0;
        boolean hasMore = true;
        while (hasMore) {
            SyncPage page = server.api.get("/api/chat/sync?limit=6&cursor=" + cursor, token).as(SyncPage.class);
            assertThat(page.sessions().size() + page.messages().size()).isLessThanOrEqualTo(6);
            page.messages().forEach(m -> seenMessages.add(m.id()));
            page.sessions().forEach(s -> seenSessions.add(s.id()));
            assertThat(Long.parseLong(page.nextCursor())).isGreaterThanOrEqualTo(cursor.isEmpty() ? 0 : Long.parseLong(cursor));
            cursor = page.nextCursor();
            hasMore = page.hasMore();
            pages++;
        }

        assertThat(seenMessages).as("messages, each once, in the order they were written").isEqualTo(written);
        assertThat(seenSessions).as("sessions, each once, in the order they last changed")
                .isEqualTo(sessionsByLastChange);
        assertThat(pages).isGreaterThan(5);
        SyncPage empty = server.api.get("/api/chat/sync?cursor=" + cursor, token).as(SyncPage.class);
        assertThat(empty.messages()).isEmpty();
        assertThat(empty.hasMore()).isFalse();
        assertThat(empty.nextCursor()).isEqualTo(cursor);
    }

    @Test
    void syncFromACursorReturnsOnlyLaterChanges() {
        String sessionId = TestIds.next();
        server.push(token, List.of(session(sessionId, "Old", server.now())),
                List.of(userMessage(sessionId, "old", 1, server.now())));
        String cursor = server.api.get("/api/chat/sync", token).as(SyncPage.class).nextCursor();

        Message later = userMessage(sessionId, "new", 1, server.now());
        server.push(token, List.of(), List.of(later));
        SyncPage page = server.api.get("/api/chat/sync?cursor=" + cursor, token).as(SyncPage.class);

        assertThat(page.messages()).extracting(Message::id).containsExactly(later.id());
        assertThat(page.sessions()).extracting(Session::id).containsExactly(sessionId); // its statistics changed
    }

    @Test
    void sessionsListIsNewestActivityFirstAndPages() {
        Instant base = server.now().minusSeconds(3600);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String sessionId = TestIds.next();
            ids.add(sessionId);
            server.push(token, List.of(session(sessionId, "Chat " + i, base.plusSeconds(i))), List.of());
        }
        // Activity in the oldest session makes it the newest.
        server.push(token, List.of(), List.of(userMessage(ids.get(0), "bump", 1, base.plusSeconds(100))));

        SessionsPage first = server.api.get("/api/chat/sessions?limit=3", token).as(SessionsPage.class);
        SessionsPage second = server.api.get("/api/chat/sessions?limit=3&cursor=" + first.nextCursor(), token)
                .as(SessionsPage.class);

        assertThat(first.hasMore()).isTrue();
        assertThat(second.hasMore()).isFalse();
        List<String> order = new ArrayList<>(first.sessions().stream().map(Session::id).toList());
        order.addAll(second.sessions().stream().map(Session::id).toList());
        assertThat(order).containsExactly(ids.get(0), ids.get(4), ids.get(3), ids.get(2), ids.get(1));
        assertThat(first.sessions().get(0).lastMessagePreview()).isEqualTo("bump");
    }

    @Test
    void renameResolvesLastWriterWins() {
        String sessionId = TestIds.next();
        Instant t0 = server.now().minusSeconds(100);
        server.push(token, List.of(session(sessionId, "Original", t0)), List.of());

        Response newer = server.api.patch("/api/chat/sessions/" + sessionId,
                new RenameRequest("Newer", t0.plusSeconds(50)), token);
        Response older = server.api.patch("/api/chat/sessions/" + sessionId,
                new RenameRequest("Older", t0.plusSeconds(10)), token);

        assertThat(newer.as(Session.class).title()).isEqualTo("Newer");
        assertThat(older.status()).isEqualTo(200);
        assertThat(older.as(Session.class).title()).isEqualTo("Newer");
        assertThat(older.as(Session.class).titleUpdatedAt()).isEqualTo(t0.plusSeconds(50));
    }

    @Test
    void deleteTombstonesPurgesContentKeepsUsageAndIsIdempotent() throws Exception {
        String sessionId = TestIds.next();
        server.chat(token, sessionId, TestIds.next(), "secret plans");
        long sentBefore = server.queryLong("SELECT messages_sent FROM user_usage_daily");

        Response first = server.api.delete("/api/chat/sessions/" + sessionId, token);
        Response second = server.api.delete("/api/chat/sessions/" + sessionId, token);

        assertThat(first.status()).isEqualTo(204);
        assertThat(second.status()).isEqualTo(204);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages WHERE content <> '' OR NOT purged")).isZero();
        assertThat(server.queryLong("SELECT count(*) FROM chat_sessions WHERE deleted_at IS NOT NULL")).isEqualTo(1);
        assertThat(server.queryLong("SELECT messages_sent FROM user_usage_daily")).isEqualTo(sentBefore);
        assertThat(server.queryLong("SELECT message_count FROM chat_sessions")).isEqualTo(2);
        assertThat(server.api.get("/api/chat/sessions", token).as(SessionsPage.class).sessions()).isEmpty();
        SyncPage sync = server.api.get("/api/chat/sync", token).as(SyncPage.class);
        assertThat(sync.sessions()).singleElement().satisfies(s -> assertThat(s.deletedAt()).isNotNull());
        assertThat(sync.messages()).allSatisfy(m -> assertThat(m.content()).isEmpty());
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void deleteOfAnUnknownSessionIsNotFound() {
        Response response = server.api.delete("/api/chat/sessions/" + TestIds.next(), token);

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.errorCode()).isEqualTo("not_found");
    }

    /**
     * The default range is today and the 29 days before it: a row a millisecond inside its first day is in it, a
     * row a millisecond before is not. The server's clock is moved to noon first, so that "today" cannot turn over
     * between the test's reading of it and the server's.
     */
    @Test
    void usageCoversInclusiveDateRangesAndDefaultsToThirtyDays() {
        Instant now = server.clock.instant();
        Instant noon = now.atZone(ZoneOffset.UTC).toLocalDate().atTime(12, 0).toInstant(ZoneOffset.UTC);
        server.clock.advance(Duration.between(now, noon.isAfter(now) ? noon : noon.plus(Duration.ofDays(1))));
        String account = server.signUp("grace@example.com").accessToken(); // the first one may have expired meanwhile
        LocalDate today = LocalDate.now(server.clock);
        Instant firstDefaultDay = today.minusDays(29).atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant justInside = firstDefaultDay.plusMillis(1);
        Instant justOutside = firstDefaultDay.minusMillis(1);
        String sessionId = TestIds.next();
        server.push(account, List.of(session(sessionId, "Month old chat", justOutside)), List.of(
                userMessage(sessionId, "just outside", 5, justOutside),
                userMessage(sessionId, "just inside", 3, justInside),
                userMessage(sessionId, "today", 7, server.now())));

        UsageResponse recent = server.api.get("/api/usage/daily", account).as(UsageResponse.class);
        UsageResponse exact = server.api.get("/api/usage/daily?from=" + today.minusDays(30) + "&to="
                + today.minusDays(30), account).as(UsageResponse.class);

        assertThat(recent.days()).extracting(UsageResponse.UsageDay::date).containsExactly(today.minusDays(29), today);
        assertThat(recent.days()).extracting(UsageResponse.UsageDay::inputTokens).containsExactly(3L, 7L);
        assertThat(recent.days().get(0).messagesSent()).isEqualTo(1);
        assertThat(recent.days().get(0).modelsUsed()).containsEntry("parley-local", 1L);
        assertThat(exact.days()).singleElement().satisfies(day -> {
            assertThat(day.date()).isEqualTo(today.minusDays(30));
            assertThat(day.inputTokens()).isEqualTo(5);
            assertThat(day.sessionsCreated()).isEqualTo(1);
        });
    }
}
