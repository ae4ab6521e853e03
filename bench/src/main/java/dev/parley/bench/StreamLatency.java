package dev.parley.bench;

import dev.parley.protocol.AuthResponse;
import dev.parley.server.internal.model.LocalModelProvider;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What streaming adds to a reply's latency (SPEC §5.3), over the real server and okhttp-sse on loopback, with the
 * {@code local} model streaming word by word ({@code --first-piece-ms} before its first piece, {@code --token-ms}
 * between pieces), wrapped in a {@link TimedModel} that records when each piece came out of the model.
 *
 * <ul>
 *   <li><b>First delta</b>: one signed-in user streams {@code --requests} replies one after another (after
 *       {@code --warmup} unmeasured ones). Per request, the time from handing the request to OkHttp to the first
 *       {@code delta} arriving, minus the model's own time from being asked to its first piece: what the server
 *       and the client library add (authentication, the claim's transaction, handing the piece to the stream's
 *       writer, SSE framing and parsing).</li>
 *   <li><b>Re-attach on another process</b>: two {@code ParleyServer}s over one database. A reply is started on A;
 *       once its {@code start} event has arrived, a second client attaches to it on B with
 *       {@code GET /api/chat/{id}/stream}. For every piece the model made after B's {@code start} event reached the
 *       client (so while it was attached), the time from the piece coming out of the model on A to the delta
 *       holding it arriving at B's client.</li>
 * </ul>
 *
 * Client and servers share this JVM, so both ends read one clock. Any stream that fails, ends without {@code done},
 * or whose deltas differ from the stored reply is an error.
 */
@Command(name = "stream-latency", mixinStandardHelpOptions = true,
        description = "Streamed replies: first-delta overhead over the model's own time, and re-attach latency on a"
                + " second server process.")
final class StreamLatency implements Callable<Integer> {
    private static final long TIMEOUT_SECONDS = 120;

    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--requests", defaultValue = "200",
            description = "Measured streamed requests (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--warmup", defaultValue = "50",
            description = "Unmeasured requests first (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--reattach", defaultValue = "40",
            description = "Replies started on A and followed on B (default ${DEFAULT-VALUE}).")
    int reattach;

    @Option(names = "--first-piece-ms", defaultValue = "20",
            description = "The model's delay before its first piece (default ${DEFAULT-VALUE}).")
    int firstPieceMs;

    @Option(names = "--token-ms", defaultValue = "20",
            description = "The model's delay between pieces (default ${DEFAULT-VALUE}).")
    int tokenMs;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "stream-latency");
        int measured = options.quick ? 5 : requests;
        int unmeasured = options.quick ? 2 : warmup;
        int followed = options.quick ? 3 : reattach;
        report.note("server %s; local model streaming word by word: first piece after %d ms, then one every %d ms",
                options.postgres() ? "PostgreSQL" : "SQLite", firstPieceMs, tokenMs);
        TimedModel modelA = new TimedModel(localModel());
        TimedModel modelB = new TimedModel(localModel());
        FailedStreams problems = new FailedStreams();
        try (BenchServer a = BenchServer.start(options, "stream", modelA);
             BenchServer b = a.another(options, modelB);
             StreamClient client = new StreamClient(16)) {
            AuthResponse account = a.newAccount("stream");
            String sessionId = Conversations.newId();

            Latencies toFirstDelta = new Latencies();
            Latencies modelFirst = new Latencies();
            Latencies overhead = new Latencies();
            Latencies beforeModel = new Latencies();
            Latencies afterPiece = new Latencies();
            for (int i = 0; i < unmeasured + measured; i++) {
                String question = "Stream " + i + " (" + Conversations.newId() + "): what should we tackle first?";
                StreamedReply reply = client.post(a.url(), account, StreamClient.chat(sessionId,
                        Conversations.newId(), question));
                boolean ok = await(reply, problems);
                TimedModel.Reply timing = modelA.take(question);
                if (!ok) {
                    continue;
                }
                if (timing == null || timing.firstPieceNanos() < 0 || reply.arrivals().isEmpty()) {
                    problems.add("the model never streamed '" + question + "'");
                    continue;
                }
                if (i >= unmeasured) {
                    long seen = reply.arrivals().get(0).nanos() - reply.sentNanos();
                    toFirstDelta.add(seen);
                    modelFirst.add(timing.firstPieceNanos());
                    overhead.add(seen - timing.firstPieceNanos());
                    // The overhead in two parts: before the model is asked, and from its first piece to the client.
                    beforeModel.add(timing.askedNanos - reply.sentNanos());
                    afterPiece.add(reply.arrivals().get(0).nanos() - timing.pieces().get(0).nanos());
                }
            }

            Latencies attachFirstDelta = new Latencies();
            Latencies live = new Latencies();
            for (int i = 0; i < followed; i++) {
                String question = "Follow " + i + " (" + Conversations.newId() + "): what should we tackle first?";
                String messageId = Conversations.newId();
                StreamedReply onA = client.post(a.url(), account, StreamClient.chat(sessionId, messageId, question));
                try {
                    onA.started().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    problems.add("no start event within " + TIMEOUT_SECONDS + " s");
                    continue;
                }
                if (onA.start() == null) {
                    await(onA, problems);
                    continue;
                }
                StreamedReply onB = client.attach(b.url(), account, messageId, 0);
                boolean followedOk = await(onB, problems);
                boolean ok = await(onA, problems) && followedOk;
                TimedModel.Reply timing = modelA.take(question);
                if (!ok || timing == null || onB.arrivals().isEmpty()) {
                    if (ok) {
                        problems.add("no delta reached B for '" + question + "'");
                    }
                    continue;
                }
                List<StreamedReply.Arrival> arrivals = onB.arrivals();
                attachFirstDelta.add(arrivals.get(0).nanos() - onB.sentNanos());
                int next = 0;
                for (TimedModel.Piece piece : timing.pieces()) {
                    if (piece.nanos() < onB.startNanos()) {
                        continue; // made before B's client was attached: it came with the catch-up, not live
                    }
                    while (arrivals.get(next).end() < piece.end()) {
                        next++;
                    }
                    live.add(arrivals.get(next).nanos() - piece.nanos());
                }
            }
            if (modelB.asked() > 0) {
                throw new IllegalStateException("server B generated " + modelB.asked() + " replies itself: the"
                        + " re-attach did not cross processes");
            }

            problems.report(report);
            report.columns("measured", "samples", "p50 ms", "p95 ms", "p99 ms", "max ms");
            row(report, "A: request sent → first delta at the client", toFirstDelta);
            row(report, "A: model asked → its first piece", modelFirst);
            row(report, "A: first-delta overhead (the difference)", overhead);
            row(report, "A:   of which request sent → model asked", beforeModel);
            row(report, "A:   of which first piece → at the client", afterPiece);
            row(report, "B: re-attach sent → first delta (catch-up)", attachFirstDelta);
            row(report, "B: piece made on A → delta at B's client", live);
            report.note("overhead per request: its own client time minus its own model time; %d requests after %d"
                    + " warm-up, one at a time", overhead.count(), unmeasured);
            report.note("re-attach: %d replies started on A and followed on B (a second ParleyServer on the same"
                    + " database; B's own model was never asked); %d pieces made once B's start event had arrived",
                    followed, live.count());
            report.result("first_delta_overhead_p50_ms", Latencies.millis(overhead.median()))
                    .result("first_delta_overhead_p95_ms", Latencies.millis(overhead.percentile(95)))
                    .result("reattach_delta_p50_ms", Latencies.millis(live.median()))
                    .result("reattach_delta_p95_ms", Latencies.millis(live.percentile(95)))
                    .result("errors", problems.count());
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }

    private LocalModelProvider localModel() {
        return new LocalModelProvider(Duration.ofMillis(firstPieceMs), Duration.ofMillis(tokenMs), 0.0, new Random());
    }

    private static void row(Report report, String what, Latencies samples) {
        if (samples.count() == 0) {
            report.row(what, 0, "-", "-", "-", "-");
            return;
        }
        report.row(what, samples.count(), Latencies.millis(samples.median()), Latencies.millis(samples.percentile(95)),
                Latencies.millis(samples.percentile(99)), Latencies.millis(samples.percentile(100)));
    }

    /** Waits for the stream's end; false (and the problem noted) when it failed or did not end in time. */
    private static boolean await(StreamedReply reply, FailedStreams problems) throws Exception {
        try {
            reply.ended().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            problems.add("a stream did not end within " + TIMEOUT_SECONDS + " s");
            return false;
        }
        if (reply.problem() != null) {
            problems.add(reply.problem());
            return false;
        }
        return true;
    }
}
