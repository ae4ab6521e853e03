package dev.parley.bench;

import dev.parley.protocol.AuthResponse;
import dev.parley.server.ParleyServer;
import dev.parley.server.internal.model.LocalModelProvider;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * How many streamed replies (SPEC §5.3) one server process holds at once: {@code --streams} replies of the
 * {@code local} model, which hands over a word every {@code --token-ms} (so each stays open for several seconds),
 * from {@code --streams / 4} users signed up beforehand, four streams each (a user's limit of live generations).
 * The streams are opened through one OkHttp client, at most {@code --open-concurrency} being opened at a time (a
 * stream counts as open once its {@code start} event arrived), and all are held until they end.
 *
 * <p>Client and server share this JVM. Threads are counted with {@link ThreadMXBean}: the server's are every live
 * thread that existed neither before the server started (the JVM's own, the bench's samplers) nor belongs to the
 * client (its dispatcher threads, one per open stream, and OkHttp's task runners); they are sampled every 50 ms.
 * Heap is the whole JVM's, client included, right after a collection forced at the moment every stream is open.
 * Every stream must end with {@code done}, its deltas' text equal to the stored reply; the server must then count
 * two messages per stream.
 */
@Command(name = "stream-capacity", mixinStandardHelpOptions = true,
        description = "1,000 streamed replies held open at once on one server process; threads and heap at peak.")
final class StreamCapacity implements Callable<Integer> {
    /**
     * A question of short words that the model's reply quotes whole: about 85 pieces, so 34 s of streaming at
     * 400 ms a piece — longer than opening a thousand streams takes here, so that all of them are open at once.
     */
    private static final String QUESTION = "Stream %d: so, as we sit, do go on to say it all to me, one bit at a"
            + " time; we are to see how many of us one box can hold up at once, and if it can do so for a long, long"
            + " time yet, as it may.";

    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--streams", defaultValue = "1000",
            description = "Streams held at once (default ${DEFAULT-VALUE}; --quick 50).")
    int streams;

    @Option(names = "--token-ms", defaultValue = "400",
            description = "The model's delay between pieces (default ${DEFAULT-VALUE}; --quick at most 100).")
    int tokenMs;

    @Option(names = "--open-concurrency", defaultValue = "50",
            description = "Streams being opened at once, before their start event (default ${DEFAULT-VALUE}).")
    int openConcurrency;

    @Option(names = "--timeout-seconds", defaultValue = "600",
            description = "How long to wait for every stream to end (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "stream-capacity");
        int n = options.quick ? 50 : streams;
        int pieceMs = options.quick ? Math.min(tokenMs, 100) : tokenMs;
        int users = (n + 3) / 4;
        report.note("server %s; %,d streams of %,d users; local model: a word every %d ms; %d opened at a time",
                options.postgres() ? "PostgreSQL" : "SQLite", n, users, pieceMs, openConcurrency);
        FailedStreams failed = new FailedStreams();
        Peaks peaks = new Peaks();
        try (HeapWatch heap = new HeapWatch()) {
            // Everything alive now is the JVM's or the bench's own (the heap watch, this thread).
            AtomicReference<StreamClient> clientOf = new AtomicReference<>();
            ThreadCensus census = new ThreadCensus(info -> clientOf.get() != null
                    && clientOf.get().ownsThread(info.getThreadId(), info.getThreadName()));
            LocalModelProvider model = new LocalModelProvider(Duration.ZERO, Duration.ofMillis(pieceMs), 0.0,
                    new Random());
            try (BenchServer server = BenchServer.start(options, "capacity", model);
                 StreamClient client = new StreamClient(n)) {
                report.note("signing up %,d users…", users);
                List<AuthResponse> accounts = new ArrayList<>();
                for (int u = 0; u < users; u++) {
                    accounts.add(server.newAccount("capacity" + u));
                }
                clientOf.set(client);
                int idleThreads = census.count();
                double idleHeapMib = HeapWatch.liveHeapMib();

                AtomicInteger open = new AtomicInteger();
                Thread sampler = new Thread(() -> sample(server.server, census, open, peaks),
                        "bench-capacity-sampler");
                census.exclude(sampler.getId());
                sampler.setDaemon(true);
                sampler.start();

                Semaphore opening = new Semaphore(openConcurrency);
                List<StreamedReply> replies = new ArrayList<>(n);
                List<CompletableFuture<StreamedReply>> ends = new ArrayList<>(n);
                long openStarted = System.nanoTime();
                AtomicLong lastStart = new AtomicLong();
                AtomicLong firstEnd = new AtomicLong(Long.MAX_VALUE);
                for (int i = 0; i < n; i++) {
                    opening.acquire();
                    AuthResponse account = accounts.get(i / 4);
                    StreamedReply reply = client.post(server.url(), account, StreamClient.chat(Conversations.newId(),
                            Conversations.newId(), String.format(QUESTION, i)));
                    replies.add(reply);
                    reply.started().whenComplete((r, e) -> {
                        opening.release();
                        if (reply.start() != null) {
                            open.incrementAndGet();
                            lastStart.accumulateAndGet(reply.startNanos(), Math::max);
                        }
                    });
                    ends.add(reply.ended().whenComplete((r, e) -> {
                        firstEnd.accumulateAndGet(System.nanoTime(), Math::min);
                        if (reply.start() != null) {
                            open.decrementAndGet();
                        }
                    }));
                }
                CompletableFuture.allOf(replies.stream().map(StreamedReply::started)
                        .toArray(CompletableFuture[]::new)).get(timeoutSeconds, TimeUnit.SECONDS);
                double openSeconds = (System.nanoTime() - openStarted) / 1e9;
                // Peak load: every stream has started, and (as the report checks) none has ended yet.
                int openAtPeak = open.get();
                int liveAtPeak = server.server.liveGenerations();
                int threadsAtPeak = census.count();
                String threadKinds = census.describe();
                int clientThreads = client.threads();
                double heapAtPeakMib = HeapWatch.liveHeapMib();

                try {
                    CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new))
                            .get(timeoutSeconds, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    failed.add("streams still open after " + timeoutSeconds + " s");
                }
                sampler.interrupt();
                sampler.join();

                int completed = 0;
                long stored = 0;
                Latencies lengths = new Latencies();
                Latencies opens = new Latencies();
                for (StreamedReply reply : replies) {
                    if (!reply.ended().isDone()) {
                        continue; // counted above
                    }
                    if (reply.done() != null && reply.done().persisted()) {
                        stored++;
                    }
                    if (reply.problem() != null) {
                        failed.add(reply.problem());
                        continue;
                    }
                    completed++;
                    opens.add(reply.startNanos() - reply.sentNanos());
                    List<StreamedReply.Arrival> arrivals = reply.arrivals();
                    if (!arrivals.isEmpty()) {
                        lengths.add(arrivals.get(arrivals.size() - 1).nanos() - reply.startNanos());
                    }
                }
                long counted = 0;
                for (AuthResponse account : accounts) {
                    counted += server.countedMessages(account);
                }
                if (counted != 2 * stored) {
                    throw new IllegalStateException("the server counted " + counted + " messages for " + stored
                            + " stored replies");
                }
                double heldSeconds = Math.max(0, (firstEnd.get() - lastStart.get()) / 1e9);
                int held = Math.max(peaks.open.get(), openAtPeak);
                int serverThreads = Math.max(peaks.serverThreads.get(), threadsAtPeak);

                failed.report(report);
                if (firstEnd.get() > lastStart.get()) {
                    report.note("opening all %,d took %.1f s; all were open at once for %.1f s (from the last start to"
                            + " the first end)", n, openSeconds, heldSeconds);
                } else {
                    report.note("opening all %,d took %.1f s, and streams ended before the last one started: at most"
                            + " %,d were open at once (a longer --token-ms holds them all)", n, openSeconds, held);
                }
                report.note("server threads once all had started, by name and state: %s", threadKinds);
                report.note("heap: the whole JVM (server and client) right after a collection; the client's %,d"
                        + " dispatcher threads are client-side, one per open stream, and not counted as the server's",
                        clientThreads);
                report.columns("streams", "held at once", "live generations", "completed", "errors", "open ms p50",
                        "open ms p95", "stream s p50", "server threads idle → peak", "client threads",
                        "heap MiB idle → peak", "heap MiB max incl. garbage");
                report.row(n, held, Math.max(peaks.live.get(), liveAtPeak), completed, failed.count(),
                        opens.count() == 0 ? "-" : Latencies.millis(opens.median()),
                        opens.count() == 0 ? "-" : Latencies.millis(opens.percentile(95)),
                        lengths.count() == 0 ? "-" : Latencies.millis(lengths.median()) / 1000,
                        idleThreads + " → " + serverThreads, clientThreads,
                        Report.format(idleHeapMib) + " → " + Report.format(heapAtPeakMib), heap.peakUsedMib());
                report.result("streams", held).result("completed", completed).result("errors", failed.count())
                        .result("live_generations", Math.max(peaks.live.get(), liveAtPeak))
                        .result("threads", serverThreads).result("threads_idle", idleThreads)
                        .result("heap_mb", heapAtPeakMib);
                report.print();
                return 0;
            }
        } finally {
            options.cleanUp();
        }
    }

    /** The most seen at once during the run. */
    private static final class Peaks {
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger live = new AtomicInteger();
        final AtomicInteger serverThreads = new AtomicInteger();
    }

    private static void sample(ParleyServer server, ThreadCensus census, AtomicInteger open, Peaks peaks) {
        while (!Thread.currentThread().isInterrupted()) {
            peaks.open.accumulateAndGet(open.get(), Math::max);
            peaks.live.accumulateAndGet(server.liveGenerations(), Math::max);
            peaks.serverThreads.accumulateAndGet(census.count(), Math::max);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
