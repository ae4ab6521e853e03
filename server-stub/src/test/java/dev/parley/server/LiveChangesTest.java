package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.Message;
import dev.parley.protocol.RegenerateRequest;
import dev.parley.protocol.RenameRequest;
import dev.parley.protocol.Session;
import dev.parley.server.testing.DatabaseDump;
import dev.parley.server.testing.EventStream;
import dev.parley.server.testing.EventStream.Event;
import dev.parley.server.testing.PacedModel;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /api/chat/events} (SPEC §5.5) with two server processes on one database: a change committed on one
 * is told on the other, a generation started on one can be followed from the other, a burst is coalesced, and the
 * stream itself writes nothing. Runs on both dialects.
 */
class LiveChangesTest {
    @TempDir
    Path dir;

    private final PacedModel model = new PacedModel();
    private TestServer a;
    private ParleyServer b;
    private String token;

    @BeforeEach
    void start() {
        a = TestServer.start(dir, config -> config.modelProvider(model).claimTtl(Duration.ofSeconds(2))
                .streamKeepAlive(Duration.ofMillis(400)));
        // Many event streams from one test machine: the per-address limit is the edge's business, not this test's.
        b = a.anotherProcess(config -> config.modelProvider(model).claimTtl(Duration.ofSeconds(2))
                .streamKeepAlive(Duration.ofMillis(400)).connectionsPerAddress(500));
        token = a.signUp("watcher@example.com").accessToken();
    }

    @AfterEach
    void stop() {
        if (b != null) {
            b.close();
        }
        a.close();
    }

    @Test
    void aStreamStartsWithTheUsersCursorAndTellsOfACommitOnTheOtherProcess() throws Exception {
        try (EventStream events = EventStream.get(b.url(), "/api/chat/events", token, null)) {
            assertThat(cursorOf(events.next("changed"))).isEqualTo(clock());

            Session session = TestServer.session(TestIds.next(), "From the other process", a.now());
            a.push(token, List.of(session), List.of());

            long told = cursorOf(events.next("changed"));
            assertThat(told).isEqualTo(clock());
            JsonNode page = a.api.get("/api/chat/sync?cursor=0", token).json();
            assertThat(page.path("nextCursor").asLong()).isEqualTo(told);
            assertThat(page.path("sessions").get(0).path("title").asText()).isEqualTo("From the other process");
        }
    }

    @Test
    void renamesAndDeletesMoveTheCursorToo() throws Exception {
        Session session = TestServer.session(TestIds.next(), "Before", a.now());
        a.push(token, List.of(session), List.of());
        try (EventStream events = EventStream.get(b.url(), "/api/chat/events", token, null)) {
            long first = cursorOf(events.next("changed"));

            assertThat(a.api.patch("/api/chat/sessions/" + session.id(),
                    new RenameRequest("After", a.now().plusSeconds(1)), token).status()).isEqualTo(200);
            long renamed = cursorOf(events.next("changed"));
            assertThat(renamed).isGreaterThan(first);

            assertThat(a.api.delete("/api/chat/sessions/" + session.id(), token).status()).isEqualTo(204);
            assertThat(cursorOf(events.next("changed"))).isGreaterThan(renamed).isEqualTo(clock());
        }
    }

    @Test
    void aGenerationStartedOnOneProcessIsToldAndFollowedOnTheOther() throws Exception {
        try (EventStream events = EventStream.get(b.url(), "/api/chat/events", token, null)) {
            events.next("changed");
            ChatRequest request = new ChatRequest(TestIds.next(), TestIds.next(), "Tell me a story", null,
                    Instant.now(), null, List.of());
            try (EventStream chat = EventStream.post(a.server.url(), "/api/chat", request, token)) {
                String replyId = chat.next("start").json().path("replyId").asText();
                PacedModel.Reply reply = model.awaitReply();
                reply.emit("Once upon ");

                JsonNode generating = events.next("generating").json();
                assertThat(generating.path("messageId").asText()).isEqualTo(request.messageId());
                assertThat(generating.path("replyId").asText()).isEqualTo(replyId);
                assertThat(generating.path("sessionId").asText()).isEqualTo(request.sessionId());

                try (EventStream followed = EventStream.get(b.url(), "/api/chat/" + request.messageId() + "/stream",
                        token, null)) {
                    followed.next("start");
                    StringBuilder text = new StringBuilder(followed.next("delta").json().path("text").asText());
                    reply.emit("a time.").finish();
                    for (Event event : followed.rest()) {
                        if (event.type().equals("delta")) {
                            text.append(event.json().path("text").asText());
                        }
                    }
                    assertThat(text.toString()).isEqualTo("Once upon a time.");
                }
            }
            awaitChanged(events, clock()); // the stored exchange moved the clock: told too
        }
        assertThat(a.mismatches()).isEmpty();
    }

    @Test
    void aRegenerateIsToldWithTheQuestionItAnswersAndAStreamOpenedMidReplyHearsOfIt() throws Exception {
        ChatRequest question = new ChatRequest(TestIds.next(), TestIds.next(), "Pick a colour", null, Instant.now(),
                null, List.of());
        Thread answering = new Thread(() -> {
            try {
                model.awaitReply().emit("Blue").finish();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        answering.start();
        assertThat(a.api.post("/api/chat", question, token).status()).isEqualTo(200);
        answering.join();

        String replyId = TestIds.next();
        RegenerateRequest again = new RegenerateRequest(question.sessionId(), question.messageId(), replyId, null,
                null, null, List.of());
        try (EventStream regenerating = EventStream.post(a.server.url(), "/api/chat/regenerate", again, token)) {
            regenerating.next("start");
            PacedModel.Reply reply = model.awaitReply();
            try (EventStream events = EventStream.get(b.url(), "/api/chat/events", token, null)) {
                List<String> types = new ArrayList<>();
                JsonNode generating = null;
                while (generating == null) {
                    Event event = events.next();
                    types.add(event.type());
                    if (event.type().equals("generating")) {
                        generating = event.json();
                    }
                }
                assertThat(types.get(0)).as("the first event on connect").isEqualTo("changed");
                assertThat(generating.path("messageId").asText()).isEqualTo(question.messageId());
                assertThat(generating.path("replyId").asText()).isEqualTo(replyId);
            }
            reply.emit("Green").finish();
            regenerating.rest();
        }
    }

    @Test
    void anotherUsersChangesAreNotTold() throws Exception {
        String other = a.signUp("someone-else@example.com").accessToken();
        try (EventStream events = EventStream.get(b.url(), "/api/chat/events", token, null)) {
            long first = cursorOf(events.next("changed"));
            a.push(other, List.of(TestServer.session(TestIds.next(), "Not yours", a.now())), List.of());
            a.push(token, List.of(TestServer.session(TestIds.next(), "Yours", a.now())), List.of());

            // The next event is this user's own push: the other user's came first and was not told.
            assertThat(cursorOf(events.next("changed"))).isEqualTo(first + 1);
        }
    }

    @Test
    void aStreamNeedsABearerTokenAndLeavesNoWatchBehindWhenItCloses() throws Exception {
        try (EventStream anonymous = EventStream.get(b.url(), "/api/chat/events", null, null)) {
            assertThat(anonymous.refusal().status()).isEqualTo(401);
            assertThat(anonymous.refusal().errorCode()).isEqualTo("unauthorized");
        }
        try (EventStream events = EventStream.get(b.url(), "/api/chat/events", token, null)) {
            events.next("changed");
            assertThat(b.liveChangeListeners()).isEqualTo(1);
        }
        awaitTrue(() -> b.liveChangeListeners() == 0);
    }

    @Test
    void aStreamEndsWhenItsAccessTokenExpires() throws Exception {
        try (EventStream events = EventStream.get(a.server.url(), "/api/chat/events", token, null)) {
            events.next("changed");

            a.clock.advance(Duration.ofHours(1).plusMinutes(1)); // past the access token's lifetime

            assertThat(events.awaitEnd(20)).as("ended at the next keep-alive").isTrue();
        }
        try (EventStream again = EventStream.get(a.server.url(), "/api/chat/events", token, null)) {
            assertThat(again.refusal().status()).as("the expired token opens no new stream").isEqualTo(401);
        }
    }

    @Test
    void aCommitStormIsCoalescedForAHundredStreamsAndTheStreamsWriteNothing() throws Exception {
        int users = 10;
        int streamsPerUser = 10;
        int pushesPerUser = 20;
        List<String> tokens = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            tokens.add(a.signUp("storm-" + u + "@example.com").accessToken());
        }
        Map<String, List<Map<String, Object>>> before = DatabaseDump.dump(a.dbUrl);
        List<EventStream> streams = new ArrayList<>();
        Map<EventStream, String> owner = new HashMap<>();
        try {
            for (String t : tokens) {
                for (int s = 0; s < streamsPerUser; s++) {
                    EventStream stream = EventStream.get(b.url(), "/api/chat/events", t, null);
                    streams.add(stream);
                    owner.put(stream, t);
                }
            }
            for (EventStream stream : streams) {
                stream.next("changed");
            }
            assertThat(b.liveChangeListeners()).isEqualTo(users * streamsPerUser);
            assertThat(DatabaseDump.dump(a.dbUrl)).as("opening streams writes nothing").isEqualTo(before);

            List<Thread> writers = new ArrayList<>();
            for (String t : tokens) {
                Thread writer = new Thread(() -> {
                    for (int p = 0; p < pushesPerUser; p++) {
                        Session session = TestServer.session(TestIds.next(), "Storm " + p, Instant.now());
                        Message question = TestServer.userMessage(session.id(), "Question " + p, 3, Instant.now());
                        a.push(t, List.of(session), List.of(question, TestServer.assistantReply(question, "Answer",
                                2, 5)));
                    }
                });
                writer.start();
                writers.add(writer);
            }
            for (Thread writer : writers) {
                writer.join();
            }
            Map<String, Long> finalClock = new HashMap<>();
            for (String t : tokens) {
                finalClock.put(t, a.api.get("/api/chat/sync?cursor=0&limit=500", t).json().path("nextCursor")
                        .asLong());
            }
            for (EventStream stream : streams) {
                long last = finalClock.get(owner.get(stream));
                int told = 1 + countChangedUntil(stream, last);
                // Never more often than once per commit plus the first event: a cursor is told once, however many
                // streams and wakes there are (LiveChangesCoalescingTest shows a burst told once).
                assertThat(told).isLessThanOrEqualTo(pushesPerUser + 1);
            }
        } finally {
            streams.forEach(EventStream::close);
        }
        awaitTrue(() -> b.liveChangeListeners() == 0);
        assertThat(a.mismatches()).isEmpty();
        assertThat(a.queryLong("SELECT coalesce(sum(messages_sent), 0) FROM user_usage_daily"))
                .isEqualTo((long) users * pushesPerUser);
        assertThat(a.queryLong("SELECT coalesce(sum(messages_received), 0) FROM user_usage_daily"))
                .isEqualTo((long) users * pushesPerUser);
    }

    // ----------------------------------------------------------------- helpers

    /** The events up to the {@code changed} that tells {@code cursor}; how many {@code changed} there were. */
    private static int countChangedUntil(EventStream stream, long cursor) throws InterruptedException {
        int changed = 0;
        while (true) {
            Event event = stream.next();
            if (event.type().equals("changed")) {
                changed++;
                long told = cursorOf(event);
                assertThat(told).isLessThanOrEqualTo(cursor);
                if (told == cursor) {
                    return changed;
                }
            }
        }
    }

    /** Reads events until a {@code changed} tells {@code cursor}; fails when none does within 20 s of the last. */
    private static void awaitChanged(EventStream stream, long cursor) throws InterruptedException {
        while (true) {
            Event event = stream.next();
            if (event.type().equals("changed") && cursorOf(event) == cursor) {
                return;
            }
        }
    }

    private long clock() throws Exception {
        return a.queryLong("SELECT change_seq FROM users WHERE email = 'watcher@example.com'");
    }

    private static long cursorOf(Event event) {
        return Long.parseLong(event.json().path("cursor").asText());
    }

    private static void awaitTrue(Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.sleep(20);
        }
    }
}
