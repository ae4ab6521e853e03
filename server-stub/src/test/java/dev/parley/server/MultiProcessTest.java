package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.Role;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.RowResult.Outcome;
import dev.parley.protocol.Session;
import dev.parley.protocol.SyncPage;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.ServerProcess;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code parley server} processes (child JVMs) on one database, and clients that alternate between them: chats
 * whose model calls sometimes fail and are retried with the same message id on the other process, the same chat
 * request sent to both at once (a lost response retried elsewhere), offline rows pushed to one process and pushed
 * again to the other, a failed row pushed to one and its success to the other. Afterwards every row a client was
 * told is stored is stored exactly once, nothing else is, and {@code parley verify-analytics} exits 0.
 */
class MultiProcessTest {
    private static final int CLIENTS = 4;
    private static final int ROUNDS = 12;
    private static final int MAX_ATTEMPTS = 30;

    @TempDir
    Path dir;

    @Test
    void clientsAlternatingBetweenTwoProcessesLoseAndDuplicateNothing() throws Exception {
        // On PostgreSQL both processes start at once on an empty database: their migrations must not collide.
        // SQLite has no lock for that, so there the second starts once the first has migrated.
        boolean together = TestDatabases.postgres();
        String db = together ? TestDatabases.emptyDatabase(dir, "shared") : TestDatabases.urlFor(dir);
        String[] options = {"--port", "0", "--db", db, "--pool-size", "4", "--local-model-latency-ms", "25",
                "--local-model-fail-rate", "0.25"};
        try (ServerProcess first = ServerProcess.start(dir, "first", with(options, "--local-model-seed", "1"));
             ServerProcess second = startSecond(first, together, with(options, "--local-model-seed", "2"))) {
            List<HttpApi> processes = List.of(new HttpApi(first.awaitUrl()), new HttpApi(second.awaitUrl()));

            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<Client>> running = new ArrayList<>();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    Client client = new Client(i, processes);
                    running.add(pool.submit(() -> {
                        client.run();
                        return client;
                    }));
                }
                List<Client> clients = new ArrayList<>();
                for (Future<Client> client : running) {
                    clients.add(client.get(300, TimeUnit.SECONDS));
                }

                for (Client client : clients) {
                    client.assertServerHoldsExactlyWhatItWasTold(db, processes.get(1));
                }
            } finally {
                pool.shutdownNow();
            }

            ServerProcess.Finished verify = ServerProcess.run(dir, "verify", "verify-analytics", "--db", db);
            assertThat(verify.exitCode()).as(verify.output()).isZero();
            assertThat(verify.output()).contains("analytics exact: no mismatches");
            assertThat(first.stop()).as("first process stops on SIGTERM").isTrue();
            assertThat(second.stop()).as("second process stops on SIGTERM").isTrue();
        }
    }

    private ServerProcess startSecond(ServerProcess first, boolean together, String... args) throws Exception {
        if (!together) {
            first.awaitUrl();
        }
        return ServerProcess.start(dir, "second", args);
    }

    private static String[] with(String[] options, String... more) {
        List<String> all = new ArrayList<>(List.of(options));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** One user's device: what it was told is stored, to hold against the database afterwards. */
    private static final class Client {
        private final int number;
        private final List<HttpApi> processes;
        /** Every message id the server answered as stored, with whether it is a success. */
        private final Map<String, Boolean> stored = new HashMap<>();
        /** User message id → the id of its one reply. */
        private final Map<String, String> replies = new HashMap<>();
        private final Set<String> sessions = new HashSet<>();
        private String token;
        private String userId;

        Client(int number, List<HttpApi> processes) {
            this.number = number;
            this.processes = processes;
        }

        void run() throws Exception {
            Response signUp = processes.get(number % 2).post("/api/auth/signup",
                    new Credentials("client" + number + "@example.com", "password of client " + number), null);
            assertThat(signUp.status()).as("%s", signUp).isEqualTo(201);
            AuthResponse auth = signUp.as(AuthResponse.class);
            token = auth.accessToken();
            userId = auth.user().id();
            String session = TestIds.next();
            for (int round = 0; round < ROUNDS; round++) {
                HttpApi here = processes.get((number + round) % 2);
                HttpApi there = processes.get((number + round + 1) % 2);
                switch (round % 4) {
                    case 0 -> chatRetryingElsewhere(here, there, session, "question " + round);
                    case 1 -> chatSentToBothAtOnce(session, "asked twice " + round);
                    case 2 -> pushHereAndAgainThere(here, there);
                    default -> pushFailedHereAndSuccessThere(here, there, session);
                }
            }
        }

        /** A chat on one process; a failed reply or a busy id is retried with the same id on the other. */
        private void chatRetryingElsewhere(HttpApi here, HttpApi there, String session, String content) {
            ChatRequest request = chat(session, content);
            List<HttpApi> order = List.of(here, there);
            for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
                if (record(order.get(attempt % 2).post("/api/chat", request, token), request)) {
                    return;
                }
            }
            throw new AssertionError("no reply to " + content + " in " + MAX_ATTEMPTS + " attempts");
        }

        /** The same request to both processes at the same moment; every reply given must be the same one. */
        private void chatSentToBothAtOnce(String session, String content) {
            ChatRequest request = chat(session, content);
            List<CompletableFuture<Response>> both = processes.stream()
                    .map(p -> CompletableFuture.supplyAsync(() -> p.post("/api/chat", request, token)))
                    .toList();
            boolean answered = false;
            for (CompletableFuture<Response> response : both) {
                answered |= record(response.join(), request);
            }
            for (int attempt = 0; !answered && attempt < MAX_ATTEMPTS; attempt++) {
                answered = record(processes.get(attempt % 2).post("/api/chat", request, token), request);
            }
            assertThat(answered).as("a reply to " + content).isTrue();
        }

        /** Offline rows pushed to one process, then the same batch to the other: nothing new the second time. */
        private void pushHereAndAgainThere(HttpApi here, HttpApi there) {
            String session = TestIds.next();
            Instant at = now();
            Message question = TestServer.userMessage(session, "offline " + session, 5, at);
            Message reply = TestServer.assistantReply(question, "offline answer", 8, 30);
            Message lost = TestServer.failedUserMessage(session, "lost " + session, at, "timeout");
            PushRequest batch = new PushRequest(List.of(TestServer.session(session, "Offline", at)),
                    List.of(question, reply, lost));

            PushResponse once = push(here, batch);
            PushResponse twice = push(there, batch);

            assertThat(once.messages()).extracting(RowResult::result).containsOnly(Outcome.INSERTED);
            assertThat(twice.messages()).extracting(RowResult::result).containsOnly(Outcome.UNCHANGED);
            assertThat(twice.sessions()).extracting(RowResult::result).containsOnly(Outcome.UNCHANGED);
            sessions.add(session);
            stored.put(question.id(), true);
            stored.put(reply.id(), true);
            stored.put(lost.id(), false);
            replies.put(question.id(), reply.id());
        }

        /** A failed message pushed to one process; its retried success pushed to the other counts once. */
        private void pushFailedHereAndSuccessThere(HttpApi here, HttpApi there, String session) {
            Message failed = TestServer.failedUserMessage(session, "retried " + TestIds.next(), now(), "offline");
            assertThat(push(here, new PushRequest(List.of(), List.of(failed))).messages().get(0).result())
                    .isEqualTo(Outcome.INSERTED);
            Message succeeded = TestServer.succeeded(failed, 6);
            Message reply = TestServer.assistantReply(succeeded, "late answer", 4, 12);

            PushResponse result = push(there, new PushRequest(List.of(), List.of(succeeded, reply)));

            assertThat(result.messages()).extracting(RowResult::result)
                    .containsExactly(Outcome.UPDATED, Outcome.INSERTED);
            sessions.add(session);
            stored.put(failed.id(), true);
            stored.put(reply.id(), true);
            replies.put(failed.id(), reply.id());
        }

        /** Takes in a chat answer; true when the exchange is stored with its reply. */
        private boolean record(Response response, ChatRequest request) {
            if (response.status() == 200) {
                ChatResponse chat = response.as(ChatResponse.class);
                assertThat(chat.persisted()).as("%s", response).isTrue();
                String earlier = replies.putIfAbsent(request.messageId(), chat.assistantMessage().id());
                assertThat(earlier == null || earlier.equals(chat.assistantMessage().id()))
                        .as("one reply per message, whichever process answers: %s", response).isTrue();
                stored.put(request.messageId(), true);
                stored.put(chat.assistantMessage().id(), true);
                sessions.add(request.sessionId());
                return true;
            }
            String code = response.errorCode();
            assertThat(code).as("%s", response).isIn("upstream_error", "in_progress");
            if (code.equals("upstream_error")) {
                assertThat(response.json().path("persisted").asBoolean()).as("%s", response).isTrue();
                stored.putIfAbsent(request.messageId(), false);
                sessions.add(request.sessionId());
            } else {
                pause();
            }
            return false;
        }

        private PushResponse push(HttpApi process, PushRequest batch) {
            Response response = process.post("/api/chat/messages", batch, token);
            assertThat(response.status()).as("%s", response).isEqualTo(200);
            return response.as(PushResponse.class);
        }

        private ChatRequest chat(String session, String content) {
            return new ChatRequest(session, TestIds.next(), content, null, now(), null, List.of());
        }

        void assertServerHoldsExactlyWhatItWasTold(String db, HttpApi process) throws SQLException {
            Map<String, Boolean> inDatabase = new HashMap<>();
            Map<String, Integer> repliesInDatabase = new HashMap<>();
            try (Connection c = DriverManager.getConnection(db); PreparedStatement ps = c.prepareStatement(
                    "SELECT id, role, error_message, user_message_id FROM chat_messages WHERE user_id = ?")) {
                ps.setString(1, userId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        assertThat(inDatabase.put(rs.getString(1), rs.getString(3) == null)).isNull();
                        if (Role.fromWire(rs.getString(2)) == Role.ASSISTANT) {
                            repliesInDatabase.merge(rs.getString(4), 1, Integer::sum);
                        }
                    }
                }
            }
            assertThat(inDatabase).as("client %d: messages stored, and whether they succeeded", number)
                    .isEqualTo(stored);
            assertThat(repliesInDatabase).as("client %d: one reply per answered message", number)
                    .allSatisfy((question, count) -> assertThat(count).isEqualTo(1));
            assertThat(repliesInDatabase.keySet()).isEqualTo(replies.keySet());

            Set<String> synced = new HashSet<>();
            Set<String> syncedSessions = new HashSet<>();
            String cursor = "";
            for (boolean more = true; more; ) {
                SyncPage page = process.get("/api/chat/sync?limit=50&cursor=" + cursor, token).as(SyncPage.class);
                page.messages().forEach(m -> synced.add(m.id()));
                page.sessions().stream().map(Session::id).forEach(syncedSessions::add);
                cursor = page.nextCursor();
                more = page.hasMore();
            }
            assertThat(synced).as("client %d: a new device syncs every stored message", number)
                    .isEqualTo(stored.keySet());
            assertThat(syncedSessions).isEqualTo(sessions);

            long succeededQuestions = stored.entrySet().stream().filter(Map.Entry::getValue)
                    .filter(e -> replies.containsKey(e.getKey())).count();
            try (Connection c = DriverManager.getConnection(db); PreparedStatement ps = c.prepareStatement(
                    "SELECT sum(messages_sent), sum(messages_received) FROM user_usage_daily WHERE user_id = ?")) {
                ps.setString(1, userId);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).as("client %d: messages_sent", number).isEqualTo(succeededQuestions);
                    assertThat(rs.getLong(2)).as("client %d: messages_received", number)
                            .isEqualTo(replies.size());
                }
            }
        }

        private static Instant now() {
            return Instant.now().truncatedTo(ChronoUnit.MILLIS);
        }

        private static void pause() {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
