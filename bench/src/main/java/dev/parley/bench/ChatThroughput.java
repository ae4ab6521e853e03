package dev.parley.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code POST /api/chat} under load: {@code --clients} signed-in users, each on its own thread and keep-alive
 * connection, send messages back to back (a new message id each, in one conversation per user, no context) to a
 * server answering with the {@code local} model at no latency. Every exchange is stored, so this measures the
 * server's write path. After a warm-up, requests are counted for {@code --seconds}; a non-200 answer, a transport
 * failure or a reply not stored ({@code persisted:false}) is an error.
 */
@Command(name = "chat-throughput", mixinStandardHelpOptions = true,
        description = "POST /api/chat with the local model, 32 concurrent clients, 30 s.")
final class ChatThroughput implements Callable<Integer> {
    private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--clients", defaultValue = "32", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--seconds", defaultValue = "30", description = "Measured seconds (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--warmup-seconds", defaultValue = "60",
            description = "Unmeasured seconds first (default ${DEFAULT-VALUE}).")
    int warmupSeconds;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "chat-throughput");
        int measured = options.quick ? 2 : seconds;
        int warmup = options.quick ? 1 : warmupSeconds;
        int threads = options.quick ? Math.min(clients, 4) : clients;
        try (BenchServer server = BenchServer.start(options, "chat")) {
            List<AuthResponse> accounts = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                accounts.add(server.newAccount("chat" + i));
            }
            OkHttpClient http = new OkHttpClient.Builder()
                    .connectionPool(new ConnectionPool(threads * 2, 1, TimeUnit.MINUTES))
                    .dispatcher(new Dispatcher())
                    .callTimeout(30, TimeUnit.SECONDS)
                    .retryOnConnectionFailure(false)
                    .build();
            long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
            long measureEnd = warmupEnd + TimeUnit.SECONDS.toNanos(measured);
            AtomicLong errors = new AtomicLong();
            ConcurrentHashMap<String, String> firstErrors = new ConcurrentHashMap<>();
            List<Latencies> perThread = new ArrayList<>();
            long[] stored = new long[threads];
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Latencies latencies = new Latencies();
                perThread.add(latencies);
                int index = t;
                AuthResponse account = accounts.get(t);
                Thread worker = new Thread(() -> stored[index] = drive(server.json, http, server.url(), account,
                        warmupEnd, measureEnd, latencies, errors, firstErrors), "chat-client-" + t);
                workers.add(worker);
                worker.start();
            }
            long[] cpu = new long[2];
            Thread.sleep(Math.max(0, (warmupEnd - System.nanoTime()) / 1_000_000));
            cpu[0] = ProcessCpu.nanos();
            for (Thread worker : workers) {
                worker.join();
            }
            cpu[1] = ProcessCpu.nanos();
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
            Latencies all = new Latencies();
            perThread.forEach(all::addAll);
            // Every stored exchange counts once on the server: two messages per reply.
            long counted = 0;
            long storedTotal = 0;
            for (int t = 0; t < threads; t++) {
                counted += server.countedMessages(accounts.get(t));
                storedTotal += stored[t];
            }
            if (counted != 2 * storedTotal) {
                throw new IllegalStateException("the server counted " + counted + " messages for "
                        + storedTotal + " stored exchanges");
            }
            double rate = all.count() / (double) measured;
            double p50 = Latencies.millis(all.median());
            double p99 = Latencies.millis(all.percentile(99));
            firstErrors.forEach((what, example) -> report.note("error: %s", example));
            report.columns("clients", "seconds", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                    "errors", "CPU µs/req");
            report.row(threads, measured, all.count(), rate, p50, Latencies.millis(all.percentile(95)), p99,
                    Latencies.millis(all.percentile(100)), errors.get(),
                    Latencies.micros(cpu[1] - cpu[0]) / all.count());
            report.note("CPU: the whole process (load generator, server, database) during the measured seconds");
            report.result("req_per_s", rate).result("p50_ms", p50).result("p99_ms", p99)
                    .result("errors", errors.get());
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }

    /** One client's loop; returns the exchanges the server stored (warm-up included). */
    private static long drive(ObjectMapper json, OkHttpClient http, String baseUrl, AuthResponse account,
                              long warmupEnd, long measureEnd, Latencies latencies, AtomicLong errors,
                              ConcurrentHashMap<String, String> firstErrors) {
        String sessionId = Conversations.newId();
        long stored = 0;
        long n = 0;
        while (true) {
            long started = System.nanoTime();
            if (started >= measureEnd) {
                return stored;
            }
            boolean ok = false;
            String problem = null;
            try {
                ChatRequest chat = new ChatRequest(sessionId, Conversations.newId(), "Message " + n++
                        + ": what should we tackle first this week?", null,
                        Instant.now().truncatedTo(ChronoUnit.MILLIS), null, List.of());
                Request request = new Request.Builder().url(baseUrl + "/api/chat")
                        .header("Authorization", "Bearer " + account.accessToken())
                        .post(RequestBody.create(json.writeValueAsBytes(chat), JSON)).build();
                try (Response response = http.newCall(request).execute()) {
                    byte[] body = response.body().bytes();
                    if (response.code() != 200) {
                        problem = "HTTP " + response.code() + ": "
                                + new String(body, java.nio.charset.StandardCharsets.UTF_8);
                    } else if (!json.readValue(body, ChatResponse.class).persisted()) {
                        problem = "reply not stored (persisted:false)";
                    } else {
                        ok = true;
                        stored++;
                    }
                }
            } catch (Exception e) {
                problem = e.toString();
            }
            long elapsed = System.nanoTime() - started;
            if (started >= warmupEnd) {
                latencies.add(elapsed);
                if (!ok) {
                    errors.incrementAndGet();
                }
            }
            if (problem != null) {
                firstErrors.putIfAbsent(problem.length() > 60 ? problem.substring(0, 60) : problem, problem);
            }
        }
    }
}
