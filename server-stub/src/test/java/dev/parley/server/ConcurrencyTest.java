package dev.parley.server;

import static dev.parley.server.testing.TestServer.assistantReply;
import static dev.parley.server.testing.TestServer.session;
import static dev.parley.server.testing.TestServer.userMessage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.Session;
import dev.parley.protocol.SyncPage;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.internal.chat.ChatService;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many writers at once, on two server instances sharing one database (as several processes share one PostgreSQL):
 * the chat guard holds, sync paging never skips a committed row however the writers' commits interleave, and
 * concurrent writes of one user and day lose no count and never answer 500. Runs on both dialects.
 */
class ConcurrencyTest {
    private static final int TIMEOUT_SECONDS = 120;

    @TempDir
    Path dir;

    private TestServer server;
    private ParleyServer second;
    private List<HttpApi> apis;
    private String token;
    private String userId;
    private ExecutorService pool;

    @BeforeEach
    void start() {
        server = TestServer.start(dir);
        second = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(server.dbUrl)
                .modelProvider(server.model).clock(server.clock).build());
        apis = List.of(server.api, new HttpApi(second.url()));
        var auth = server.signUp("ada@example.com");
        token = auth.accessToken();
        userId = auth.user().id();
        pool = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stop() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("test threads ended").isTrue();
        second.close();
        server.close();
    }

    /**
     * Both servers share this JVM, so a lock in memory would pass this as well; ChatGuardAcrossProcessesTest holds
     * the guard to the same test across two processes.
     */
    @Test
    void oneMessageIdSentToBothServersAtOnceCallsTheModelOnce() throws Exception {
        String sessionId = TestIds.next();
        String messageId = TestIds.next();
        ChatRequest request = new ChatRequest(sessionId, messageId, "everyone at once", null, server.now(), null,
                List.of());
        server.model.closeGate();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Response>> responses = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            HttpApi api = apis.get(i % 2);
            responses.add(pool.submit(() -> {
                go.await();
                return api.post("/api/chat", request, token);
            }));
        }

        go.countDown();
        server.model.awaitEntered();
        // The one request that claimed the id is held in the model; every other one must be answered meanwhile.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (responses.stream().filter(Future::isDone).count() < responses.size() - 1
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        List<Future<Response>> waiting = responses.stream().filter(f -> !f.isDone()).toList();
        server.model.openGate();
        assertThat(waiting).as("requests still waiting while the model answers one").hasSize(1);
        Response holder = waiting.get(0).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        List<Response> answered = new ArrayList<>();
        for (Future<Response> response : responses) {
            if (response != waiting.get(0)) {
                answered.add(response.get());
            }
        }

        assertThat(holder.status()).as("%s", holder).isEqualTo(200);
        assertThat(answered).hasSize(11).allSatisfy(r -> {
            assertThat(r.status()).as("%s", r).isEqualTo(409);
            assertThat(r.errorCode()).isEqualTo("in_progress");
        });
        assertThat(server.model.calls()).isEqualTo(1);
        String reply = holder.as(ChatResponse.class).assistantMessage().id();
        for (HttpApi api : apis) {
            ChatResponse again = api.post("/api/chat", request, token).as(ChatResponse.class);
            assertThat(again.replayed()).isTrue();
            assertThat(again.assistantMessage().id()).isEqualTo(reply);
        }
        assertThat(server.model.calls()).isEqualTo(1);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(server.mismatches()).isEmpty();
    }

    /**
     * Writers of one user on both servers, plus an operator's slow transactions that hold a row uncommitted for a
     * while, against a reader that pages with a small limit the whole time. The slow rows go to a session and a
     * usage day of their own, so that they share no row with the others' writes: nothing but the change clock's
     * lock orders their commits. A cursor that moved past a position whose transaction committed later would never
     * come back for that row; the reader must see every one.
     */
    @Test
    void syncNeverSkipsARowWhileWritersCommitOutOfOrder() throws Exception {
        String sharedSession = TestIds.next();
        String slowSession = TestIds.next();
        Instant yesterday = server.now().minusSeconds(86_400);
        server.push(token, List.of(session(sharedSession, "Shared", server.now()),
                session(slowSession, "Slow", yesterday)), List.of());
        Set<String> committed = ConcurrentHashMap.newKeySet();
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            HttpApi api = apis.get(w % 2);
            writers.add(pool.submit(() -> {
                for (int batch = 0; batch < 15; batch++) {
                    boolean newSession = batch % 4 == 0;
                    String sessionId = newSession ? TestIds.next() : sharedSession;
                    List<Session> sessions = newSession ? List.of(session(sessionId, "New", server.now())) : List.of();
                    Message question = userMessage(sessionId, "question " + batch, 3, server.now());
                    PushResponse result = push(api, sessions, List.of(question, assistantReply(question, "answer", 5, 9)));
                    for (RowResult row : result.messages()) {
                        assertThat(row.result()).as("%s", row).isEqualTo(RowResult.Outcome.INSERTED);
                        committed.add(row.id());
                    }
                    result.sessions().forEach(row -> committed.add(row.id()));
                }
                return null;
            }));
        }
        writers.add(pool.submit(() -> {
            for (int i = 0; i < 6; i++) {
                committed.add(insertSlowly(slowSession, yesterday, 150));
            }
            return null;
        }));
        Future<Set<String>> reader = pool.submit(() -> {
            Set<String> seen = new HashSet<>();
            String cursor = "";
            for (int page = 0; ; page++) {
                // Done only after a page, read once every writer had finished, says there is nothing more.
                boolean writersDone = !writing.get();
                SyncPage sync = apis.get(page % 2).get("/api/chat/sync?limit=5&cursor=" + cursor, token)
                        .as(SyncPage.class);
                sync.messages().forEach(m -> seen.add(m.id()));
                sync.sessions().forEach(s -> seen.add(s.id()));
                cursor = sync.nextCursor();
                if (!sync.hasMore()) {
                    if (writersDone) {
                        return seen;
                    }
                    Thread.sleep(5);
                }
            }
        });

        for (Future<?> writer : writers) {
            writer.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        writing.set(false);
        Set<String> seen = reader.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);

        assertThat(committed).as("messages and new sessions written").hasSize(3 * 15 * 2 + 6 + 3 * 4);
        assertThat(seen).as("rows the paging reader saw").containsAll(committed);
        assertThat(server.mismatches()).isEmpty();
    }

    @Test
    void concurrentWritesOfOneUserAndDayLoseNoCountAndNeverFail() throws Exception {
        int writers = 6;
        int rounds = 10;
        List<Future<Integer>> results = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            HttpApi api = apis.get(w % 2);
            int writer = w;
            results.add(pool.submit(() -> {
                int chats = 0;
                for (int round = 0; round < rounds; round++) {
                    String sessionId = TestIds.next();
                    Message question = userMessage(sessionId, "pushed " + writer + "/" + round, 7, server.now());
                    PushResponse pushed = push(api, List.of(session(sessionId, "S", server.now())),
                            List.of(question, assistantReply(question, "reply", 11, 20)));
                    assertThat(pushed.messages()).allMatch(RowResult::accepted);
                    if (writer >= ChatService.MAX_LIVE_PER_USER) {
                        continue; // SPEC 5.3: one user has at most 4 replies being written at once; these only push
                    }
                    Response chat = api.post("/api/chat", new ChatRequest(sessionId, TestIds.next(),
                            "chat " + writer + "/" + round, null, server.now(), null, List.of()), token);
                    assertThat(chat.status()).as("%s", chat).isEqualTo(200);
                    assertThat(chat.as(ChatResponse.class).persisted()).isTrue();
                    chats++;
                }
                return chats;
            }));
        }
        int chats = 0;
        for (Future<Integer> result : results) {
            chats += result.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }

        long pushedPairs = (long) writers * rounds;
        assertThat(chats).isEqualTo(ChatService.MAX_LIVE_PER_USER * rounds);
        assertThat(server.queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(pushedPairs + chats);
        assertThat(server.queryLong("SELECT sum(messages_received) FROM user_usage_daily"))
                .isEqualTo(pushedPairs + chats);
        assertThat(server.queryLong("SELECT sum(sessions_created) FROM user_usage_daily")).isEqualTo(pushedPairs);
        assertThat(server.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2 * (pushedPairs + chats));
        assertThat(server.mismatches()).isEmpty();
    }

    private PushResponse push(HttpApi api, List<Session> sessions, List<Message> messages) {
        Response response = api.post("/api/chat/messages", new PushRequest(sessions, messages), token);
        assertThat(response.status()).as("%s", response).isEqualTo(200);
        return response.as(PushResponse.class);
    }

    /**
     * An operator's transaction that writes a message row and holds it uncommitted for {@code holdMillis}; returns
     * its id once committed.
     */
    private String insertSlowly(String sessionId, Instant at, long holdMillis) throws Exception {
        String id = TestIds.next();
        long now = at.toEpochMilli();
        Properties waitForLocks = new Properties();
        waitForLocks.setProperty("busy_timeout", "10000"); // SQLite: wait for the server's writers, as they wait
        try (Connection c = DriverManager.getConnection(server.dbUrl, waitForLocks)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_messages (id, session_id, user_id, role,"
                    + " content, model, input_tokens, output_tokens, total_tokens, message_timestamp, created_at,"
                    + " updated_at) VALUES (?, ?, ?, 'user', 'typed by an operator', 'parley-local', 2, 0, 2, ?, ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, sessionId);
                ps.setString(3, userId);
                ps.setLong(4, now);
                ps.setLong(5, now);
                ps.setLong(6, now);
                ps.executeUpdate();
            }
            Thread.sleep(holdMillis + ThreadLocalRandom.current().nextLong(50));
            c.commit();
        }
        return id;
    }
}
