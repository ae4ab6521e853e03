package dev.parley.bench;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.Session;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * How many live change streams (SPEC §5.5, {@code GET /api/chat/events}) one server process holds while nothing
 * happens, and what they cost it: {@code --connections} streams of {@code --users} accounts, opened through the
 * JDK's asynchronous HTTP client (a couple of threads for all of them, so the client adds no thread per stream),
 * held for {@code --hold-seconds}, then one change per account, which every stream must hear (timed from just
 * before its account's push was sent). A stream counts as
 * open once its first {@code changed} event arrived. Threads are the server's: every live thread that existed
 * neither before the server started nor belongs to the HTTP client. Heap is the whole JVM's right after a forced
 * collection, idle and with every stream open.
 */
@Command(name = "idle-connections", mixinStandardHelpOptions = true,
        description = "5,000 idle live change streams on one server process; its threads and heap.")
final class IdleConnections implements Callable<Integer> {
    private static final String CLIENT_THREAD = "bench-idle-client-";

    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--connections", defaultValue = "5000",
            description = "Streams held at once (default ${DEFAULT-VALUE}; --quick 200).")
    int connections;

    @Option(names = "--users", defaultValue = "50", description = "Accounts the streams belong to (default"
            + " ${DEFAULT-VALUE}; --quick 5).")
    int users;

    @Option(names = "--hold-seconds", defaultValue = "20", description = "How long every stream is held idle"
            + " (default ${DEFAULT-VALUE}, past a keep-alive; --quick 2).")
    int holdSeconds;

    @Option(names = "--open-concurrency", defaultValue = "200",
            description = "Streams being opened at once (default ${DEFAULT-VALUE}).")
    int openConcurrency;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "idle-connections");
        int n = options.quick ? 200 : connections;
        int accounts = Math.max(1, options.quick ? 5 : users);
        int hold = options.quick ? 2 : holdSeconds;
        report.note("server %s; %,d live change streams of %,d accounts, held %d s; %d opened at a time",
                options.postgres() ? "PostgreSQL" : "SQLite", n, accounts, hold, openConcurrency);
        ThreadCensus census = new ThreadCensus(info -> info.getThreadName().startsWith(CLIENT_THREAD)
                || info.getThreadName().startsWith("HttpClient-"));
        AtomicInteger clientThreads = new AtomicInteger();
        ExecutorService clientPool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, CLIENT_THREAD + clientThreads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try (BenchServer server = BenchServer.start(options, "idle",
                config -> config.connectionsPerAddress(n + 100).idleTimeout(Duration.ofSeconds(60)))) {
            List<AuthResponse> owners = new ArrayList<>();
            for (int u = 0; u < accounts; u++) {
                owners.add(server.newAccount("idle" + u));
            }
            int idleThreads = census.count();
            double idleHeap = HeapWatch.liveHeapMib();

            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(clientPool)
                    .connectTimeout(Duration.ofSeconds(30)).build();
            List<Watcher> watchers = new ArrayList<>(n);
            Semaphore opening = new Semaphore(openConcurrency);
            CountDownLatch allOpen = new CountDownLatch(n);
            long openStarted = System.nanoTime();
            for (int i = 0; i < n; i++) {
                opening.acquire();
                Watcher watcher = new Watcher(i % accounts, () -> {
                    opening.release();
                    allOpen.countDown();
                });
                watchers.add(watcher);
                HttpRequest request = HttpRequest.newBuilder(URI.create(server.url() + "/api/chat/events"))
                        .header("Authorization", "Bearer " + owners.get(watcher.owner).accessToken()).GET().build();
                http.sendAsync(request, HttpResponse.BodyHandlers.fromLineSubscriber(watcher))
                        .whenComplete((response, failure) -> watcher.ended(response == null ? -1
                                : response.statusCode(), failure));
            }
            boolean opened = allOpen.await(300, TimeUnit.SECONDS);
            double openSeconds = (System.nanoTime() - openStarted) / 1e9;
            int openNow = (int) watchers.stream().filter(w -> w.changes.get() > 0).count();
            int peakThreads = census.count();
            String threadKinds = census.describe();
            double peakHeap = HeapWatch.liveHeapMib();
            int listeners = server.server.liveChangeListeners();

            Thread.sleep(TimeUnit.SECONDS.toMillis(hold));
            int closedWhileIdle = (int) watchers.stream().filter(w -> w.ended).count();

            long[] pushedAt = new long[accounts];
            for (int u = 0; u < accounts; u++) {
                Instant now = Instant.now();
                pushedAt[u] = System.nanoTime();
                server.push(new PushRequest(List.of(Session.of(Conversations.newId(), "Wake up", now, now, null)),
                        List.of()), owners.get(u));
            }
            long heardBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < heardBy && watchers.stream().anyMatch(w -> w.changes.get() < 2 && !w.ended)) {
                Thread.sleep(20);
            }
            Latencies heard = new Latencies();
            int deaf = 0;
            for (Watcher w : watchers) {
                if (w.secondChangeAt > 0) {
                    heard.add(w.secondChangeAt - pushedAt[w.owner]);
                } else {
                    deaf++;
                }
            }
            watchers.forEach(Watcher::cancel);

            int failedToOpen = n - openNow;
            int errors = failedToOpen + closedWhileIdle + deaf;
            if (!opened) {
                report.note("not every stream opened within 300 s");
            }
            report.note("opening all took %.1f s; the server followed %,d streams; %,d client threads for all of them",
                    openSeconds, listeners, clientThreads.get());
            report.note("server threads with every stream open, by name and state: %s", threadKinds);
            report.columns("streams", "open", "closed while idle", "missed the change", "server threads idle → open",
                    "heap MiB idle → open", "KiB per stream", "change heard ms p50", "ms p95");
            double perStream = openNow == 0 ? 0 : (peakHeap - idleHeap) * 1024 / openNow;
            report.row(n, openNow, closedWhileIdle, deaf, idleThreads + " → " + peakThreads,
                    Report.format(idleHeap) + " → " + Report.format(peakHeap), Report.format(perStream),
                    heard.count() == 0 ? "-" : Latencies.millis(heard.median()),
                    heard.count() == 0 ? "-" : Latencies.millis(heard.percentile(95)));
            report.result("connections", openNow).result("errors", errors).result("threads", peakThreads)
                    .result("threads_idle", idleThreads).result("heap_mb", peakHeap)
                    .result("kib_per_connection", perStream);
            report.print();
            return errors == 0 ? 0 : 1;
        } finally {
            clientPool.shutdownNow();
            options.cleanUp();
        }
    }

    /** One stream's lines, read on the HTTP client's threads. */
    private static final class Watcher implements Flow.Subscriber<String> {
        final int owner;
        final AtomicInteger changes = new AtomicInteger();
        private final Runnable firstChange;
        private volatile Flow.Subscription subscription;
        volatile long secondChangeAt;
        volatile boolean ended;
        private volatile boolean counted;

        Watcher(int owner, Runnable firstChange) {
            this.owner = owner;
            this.firstChange = firstChange;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(String line) {
            if (line.equals("event: changed")) {
                int seen = changes.incrementAndGet();
                if (seen == 1) {
                    countOnce();
                } else if (seen == 2) {
                    secondChangeAt = System.nanoTime();
                }
            }
        }

        @Override
        public void onError(Throwable failure) {
            ended = true;
            countOnce();
        }

        @Override
        public void onComplete() {
            ended = true;
            countOnce();
        }

        void ended(int status, Throwable failure) {
            if (status != 200 || failure != null) {
                ended = true;
                countOnce();
            }
        }

        private synchronized void countOnce() {
            if (!counted) {
                counted = true;
                firstChange.run();
            }
        }

        void cancel() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }
    }
}
