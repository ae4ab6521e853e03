package dev.parley.bench;

import dev.parley.client.ChatClient;
import dev.parley.client.ChatListener;
import dev.parley.client.ClientConfig;
import dev.parley.client.LiveState;
import dev.parley.client.LocalChange;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.Session;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Live sync's latency (SPEC §5.5, §6): a conversation committed through server process 1 ({@code POST
 * /api/chat/messages}) until it is in device B's local store, B being a real {@link ChatClient} signed in through
 * process 2, which shares only the database with process 1. B does nothing: its live change stream hears the
 * change, and its pull brings the row. One commit at a time, {@code --gap-ms} apart (at random up to that), so
 * every sample is one change on its own. The time runs from just before the push is sent (the commit is inside
 * the push), so it is an upper bound, and up to B's listener hearing the merged row. Every row must arrive, and
 * the server must count each conversation once.
 */
@Command(name = "live-latency", mixinStandardHelpOptions = true,
        description = "Commit on one server process until the row is in another device's store via a second process.")
final class LiveLatency implements Callable<Integer> {
    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--samples", defaultValue = "200", description = "Commits measured (default ${DEFAULT-VALUE};"
            + " --quick 20).")
    int samples;

    @Option(names = "--gap-ms", defaultValue = "150", description = "The most time between one arrival and the"
            + " next commit, drawn at random (default ${DEFAULT-VALUE}).")
    int gapMs;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "live-latency");
        int n = options.quick ? 20 : samples;
        report.note("server %s; two processes on one database; device B signed in through process 2; %,d commits"
                + " through process 1", options.postgres() ? "PostgreSQL" : "SQLite", n);
        try (BenchServer first = BenchServer.start(options, "live");
             BenchServer second = first.another(options, null)) {
            AuthResponse account = first.newAccount("live");
            AtomicReference<Awaited> awaited = new AtomicReference<>();
            try (ChatClient deviceB = ChatClient.open(ClientConfig.builder(options.workDir().resolve("device-b"),
                    second.url()).build())) {
                deviceB.addListener(new ChatListener() {
                    @Override
                    public void changed(LocalChange change) {
                        Awaited now = awaited.get();
                        if (now != null && deviceB.session(now.sessionId()).isPresent()) {
                            now.arrived().complete(System.nanoTime());
                        }
                    }
                });
                deviceB.signIn(account.user().email(), BenchServer.PASSWORD);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (deviceB.liveState() != LiveState.LIVE) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("device B's live change stream did not open within 30 s");
                    }
                    Thread.sleep(10);
                }

                Random random = new Random(20261202);
                Latencies fromSent = new Latencies();
                Latencies fromAnswered = new Latencies();
                Latencies pushes = new Latencies();
                int missing = 0;
                for (int i = 0; i < n; i++) {
                    Thread.sleep(random.nextInt(Math.max(1, gapMs)));
                    String id = Conversations.newId();
                    Awaited next = new Awaited(id, new CompletableFuture<>());
                    awaited.set(next);
                    Instant now = Instant.now();
                    long sent = System.nanoTime();
                    first.push(new PushRequest(List.of(Session.of(id, "Live " + i, now, now, null)), List.of()),
                            account);
                    long answered = System.nanoTime();
                    pushes.add(answered - sent);
                    if (deviceB.session(id).isPresent()) {
                        next.arrived().complete(answered); // merged before the push's answer was read
                    }
                    try {
                        long arrived = next.arrived().get(10, TimeUnit.SECONDS);
                        fromSent.add(arrived - sent);
                        fromAnswered.add(Math.max(0, arrived - answered));
                    } catch (TimeoutException e) {
                        missing++;
                    }
                }
                long counted = first.usage(account).days().stream().mapToLong(d -> d.sessionsCreated()).sum();
                if (counted != n) {
                    throw new IllegalStateException("the server counted " + counted + " conversations for " + n);
                }
                report.note("the push itself (process 1's answer): p50 %.1f ms; B's pulls stay read-only: the"
                        + " server counted exactly %,d conversations", Latencies.millis(pushes.median()), counted);
                report.columns("commits", "arrived", "missing", "ms p50", "ms p95", "ms max",
                        "after the answer: ms p50", "ms p95");
                report.row(n, fromSent.count(), missing, Latencies.millis(fromSent.median()),
                        Latencies.millis(fromSent.percentile(95)), Latencies.millis(fromSent.percentile(100)),
                        Latencies.millis(fromAnswered.median()), Latencies.millis(fromAnswered.percentile(95)));
                report.result("samples", n).result("missing", missing)
                        .result("p50_ms", Latencies.millis(fromSent.median()))
                        .result("p95_ms", Latencies.millis(fromSent.percentile(95)));
                report.print();
                return missing == 0 ? 0 : 1;
            }
        } finally {
            options.cleanUp();
        }
    }

    private record Awaited(String sessionId, CompletableFuture<Long> arrived) {
    }
}
