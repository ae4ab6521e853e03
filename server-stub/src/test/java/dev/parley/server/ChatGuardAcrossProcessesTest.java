package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Credentials;
import dev.parley.server.testing.HttpApi;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.ServerProcess;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC §5.1's duplicate guard across real processes: one message id sent to two {@code parley server} processes
 * (child JVMs) on one database at once reaches the model once, and every other request, on either process, gets 409
 * {@code in_progress} while that one is answered. {@link ConcurrencyTest} runs two servers in one JVM, where a lock
 * in memory would pass as well; here only a guard in the database can. Runs on both dialects (on SQLite, two
 * processes on one file).
 *
 * <p>The processes' model is an OpenAI-compatible upstream served by this JVM: it counts the calls of both
 * processes and holds the first one until the test has seen every other request answered, so that the requests
 * overlap for certain, whatever the machine's speed. A fixed model latency ({@code --local-model-latency-ms}) could
 * neither count the calls nor guarantee the overlap.
 */
class ChatGuardAcrossProcessesTest {
    private static final String MODEL = "gated-model";
    private static final int REQUESTS_PER_PROCESS = 6;
    /** Bounds every wait, so that a broken guard fails the test instead of hanging it. */
    private static final long WAIT_SECONDS = 60;

    @TempDir
    Path dir;

    @Test
    void oneMessageIdSentToTwoProcessesAtOnceReachesTheModelOnce() throws Exception {
        GatedModel model = new GatedModel();
        ExecutorService pool = Executors.newFixedThreadPool(2 * REQUESTS_PER_PROCESS);
        try (MockWebServer upstream = new MockWebServer()) {
            upstream.setDispatcher(model);
            upstream.start();
            String db = TestDatabases.urlFor(dir);
            String[] options = {"--port", "0", "--db", db, "--pool-size", "4", "--model-provider", "openai",
                    "--model-base-url", upstream.url("/v1").toString(), "--models", MODEL};
            try (ServerProcess first = ServerProcess.start(dir, "first", options)) {
                // On SQLite the first one migrates the file before the second opens it.
                String firstUrl = first.awaitUrl();
                try (ServerProcess second = ServerProcess.start(dir, "second", options)) {
                    List<HttpApi> processes = List.of(new HttpApi(firstUrl), new HttpApi(second.awaitUrl()));
                    Response signUp = processes.get(0).post("/api/auth/signup",
                            new Credentials("ada@example.com", "password of ada"), null);
                    assertThat(signUp.status()).as("%s", signUp).isEqualTo(201);
                    String token = signUp.as(AuthResponse.class).accessToken();
                    ChatRequest request = new ChatRequest(TestIds.next(), TestIds.next(), "everyone at once", null,
                            Instant.now().truncatedTo(ChronoUnit.MILLIS), null, List.of());

                    BlockingQueue<Answer> answers = new LinkedBlockingQueue<>();
                    CountDownLatch go = new CountDownLatch(1);
                    for (int i = 0; i < 2 * REQUESTS_PER_PROCESS; i++) {
                        int process = i % 2;
                        pool.submit(() -> {
                            go.await();
                            answers.add(new Answer(process, processes.get(process).post("/api/chat", request, token)));
                            return null;
                        });
                    }
                    go.countDown();
                    model.awaitFirstCall();
                    // The request that claimed the id is held in the model: every other one must be answered now.
                    List<Answer> refused = new ArrayList<>();
                    for (int i = 1; i < 2 * REQUESTS_PER_PROCESS; i++) {
                        Answer answer = answers.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                        assertThat(answer).as("answers while the model holds the first call: %s", refused)
                                .isNotNull();
                        refused.add(answer);
                    }
                    assertThat(model.calls()).as("model calls while the first is held").isEqualTo(1);
                    model.release();
                    Answer holder = answers.poll(WAIT_SECONDS, TimeUnit.SECONDS);

                    assertThat(holder).as("the answer of the request that reached the model").isNotNull();
                    assertThat(holder.response().status()).as("%s", holder.response()).isEqualTo(200);
                    ChatResponse answered = holder.response().as(ChatResponse.class);
                    assertThat(answered.persisted()).isTrue();
                    assertThat(answered.replayed()).isFalse();
                    assertThat(refused).allSatisfy(a -> {
                        assertThat(a.response().status()).as("%s", a.response()).isEqualTo(409);
                        assertThat(a.response().errorCode()).isEqualTo("in_progress");
                        assertThat(a.response().json().path("error").path("retryable").asBoolean()).isTrue();
                    });
                    int otherProcess = 1 - holder.process();
                    assertThat(refused).filteredOn(a -> a.process() == otherProcess)
                            .as("requests on the process that did not call the model").hasSize(REQUESTS_PER_PROCESS);
                    assertThat(model.calls()).as("model calls").isEqualTo(1);

                    for (HttpApi process : processes) {
                        ChatResponse again = process.post("/api/chat", request, token).as(ChatResponse.class);
                        assertThat(again.replayed()).isTrue();
                        assertThat(again.assistantMessage().id()).isEqualTo(answered.assistantMessage().id());
                    }
                    assertThat(model.calls()).as("model calls after both replayed").isEqualTo(1);
                    assertThat(messagesStored(db)).isEqualTo(2);
                    assertThat(AnalyticsVerifier.verify(db)).isEmpty();
                }
            } finally {
                model.release(); // never leave a process's call hanging in the upstream when an assertion failed
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static long messagesStored(String db) throws Exception {
        try (Connection c = DriverManager.getConnection(db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM chat_messages")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A chat answer and the process (0 or 1) that gave it. */
    private record Answer(int process, Response response) {
    }

    /**
     * An OpenAI-compatible {@code /chat/completions} that counts its calls and holds the first one until
     * {@link #release()}; later calls are answered at once, so that a second call shows up as a second answer
     * rather than as a wait. Thread-safe.
     */
    private static final class GatedModel extends Dispatcher {
        private static final String COMPLETION = """
                {"id":"gen-gated","object":"chat.completion","model":"gated-model",
                 "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Once."}}],
                 "usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}
                """;

        private final AtomicInteger calls = new AtomicInteger();
        private final CountDownLatch firstCall = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        @Override
        public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            if (!request.getUrl().encodedPath().endsWith("/chat/completions")) {
                return new MockResponse.Builder().code(404).build();
            }
            if (calls.incrementAndGet() == 1) {
                firstCall.countDown();
                if (!released.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    return new MockResponse.Builder().code(503).build();
                }
            }
            return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
                    .body(COMPLETION).build();
        }

        int calls() {
            return calls.get();
        }

        void awaitFirstCall() throws InterruptedException {
            assertThat(firstCall.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("a model call arrived").isTrue();
        }

        void release() {
            released.countDown();
        }
    }
}
