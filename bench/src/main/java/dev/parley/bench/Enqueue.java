package dev.parley.bench;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.Exchange;
import dev.parley.client.LocalSession;
import dev.parley.client.SyncState;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.client.internal.Settings;
import dev.parley.protocol.AuthResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The direct write: {@link ChatClient#send} stores the user message and its outbox entry in one local transaction
 * (WAL, {@code synchronous=FULL}: every commit is on disk) and returns before the network is touched. Each call is
 * timed alone; its exchange with the server is awaited, untimed, and then {@code --pause-ms}, before the next, so
 * that one message's reply does not land in the next one's measurement. The store holds a signed-in history of
 * {@code --history} messages. After the sends, with the client closed, {@link #floorTimes} times as many of the
 * cheapest durable commits in the same directory (the {@code fsync_*} fields): send / floor says how many of the
 * disk's cheapest commits one send costs.
 */
@Command(name = "enqueue", mixinStandardHelpOptions = true,
        description = "Latency of writing a user message and its outbox entry locally (durable).")
final class Enqueue implements Callable<Integer> {
    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--messages", defaultValue = "2000", description = "Messages timed (default ${DEFAULT-VALUE}).")
    int messages;

    @Option(names = "--pause-ms", defaultValue = "20", description = "Pause after each reply before the next"
            + " message, as a person types (default ${DEFAULT-VALUE}); 0 sends back to back.")
    int pauseMs;

    @Option(names = "--history", defaultValue = "100000",
            description = "Synced messages already in the store (default ${DEFAULT-VALUE}).")
    int history;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "enqueue");
        int n = options.quick ? 50 : messages;
        int stored = options.quick ? 500 : history;
        int warmup = Math.min(200, n);
        try (BenchServer server = BenchServer.start(options, "enqueue")) {
            AuthResponse account = server.newAccount("enqueue");
            Path dataDir = options.workDir().resolve("enqueue-client");
            report.note("seeding %,d synced messages into the client store…", stored);
            try (LocalDatabase db = LocalDatabase.open(ClientStore.file(dataDir))) {
                new ClientStore(db).seed(new Conversations(Conversations.startingBefore(Instant.now(), stored)),
                        account.user().id(), SyncState.SYNCED, Math.max(1, stored / 100), Math.min(100, stored));
            }
            new dev.parley.client.internal.TokenStore(dataDir, server.json).save(account);
            Latencies times = new Latencies();
            try (ChatClient client = ChatClient.open(ClientConfig.builder(dataDir, server.url()).build())) {
                LocalSession session = client.newSession("Enqueue");
                for (int i = 0; i < warmup + n; i++) {
                    String text = "Message " + i + ": could you summarise the open items of the plan for me?";
                    long started = System.nanoTime();
                    Exchange exchange = client.send(session.id(), text, null);
                    long elapsed = System.nanoTime() - started;
                    if (i >= warmup) {
                        times.add(elapsed);
                    }
                    Exchange.Outcome outcome = exchange.outcome().get(30, TimeUnit.SECONDS);
                    if (outcome.reply() == null) {
                        throw new IllegalStateException("message " + i + " got no reply: " + outcome.userMessage());
                    }
                    // The reply sets off work of its own (status counts, a push check); a person reads the reply
                    // before writing again, so the next write does not queue behind that work.
                    Thread.sleep(pauseMs);
                }
            }
            Latencies floor = floorTimes(dataDir.resolve("fsync-floor.db"), warmup, n, pauseMs);
            double p50 = Latencies.micros(times.median());
            double p95 = Latencies.micros(times.percentile(95));
            double p99 = Latencies.micros(times.percentile(99));
            double floorP50 = Latencies.micros(floor.median());
            double floorP95 = Latencies.micros(floor.percentile(95));
            report.note("each send timed alone; after its reply, %d ms before the next", pauseMs);
            report.columns("messages", "history", "p50 µs", "p95 µs", "p99 µs", "max µs", "fsync floor p50 µs",
                    "fsync floor p95 µs");
            report.row(times.count(), stored, p50, p95, p99, Latencies.micros(times.percentile(100)), floorP50,
                    floorP95);
            report.note("fsync floor: %,d one-row UPDATE commits on a separate empty store in the same directory,"
                    + " same pragmas, %d ms apart; send / floor: p50 %.2f, p95 %.2f", floor.count(), pauseMs,
                    p50 / floorP50, p95 / floorP95);
            report.result("n", times.count()).result("p50_us", p50).result("p95_us", p95).result("p99_us", p99)
                    .result("fsync_p50_us", floorP50).result("fsync_p95_us", floorP95);
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }

    /**
     * Times {@code n} commits (after {@code warmup} untimed ones) of the least a durable SQLite write can be: one
     * transaction updating one row ({@link Settings#nextOutboxSeq}) of a store opened by {@link LocalDatabase#open}
     * at {@code file}, so with the client's own pragmas (WAL, {@code synchronous=FULL}) and transaction path, and
     * {@code pauseMs} apart, at the pace of the sends.
     *
     * <p>Why not a bare write and {@code fsync}: overwriting one block of a file in place and flushing it is
     * cheaper than any commit here, so a ratio over it would charge SQLite's own costs to the client. A WAL commit
     * also writes frame headers, grows the log on its first pass (the flush then carries the file's new length too),
     * and every thousand pages checkpoints into the database file with syncs of its own. A one-row commit pays each
     * of those at the smallest size: it is the least {@code send} could cost on this disk, and what a send costs
     * above it is the client's own statements.
     *
     * <p>The probe store is a separate file, closed and deleted afterwards; it never touches the client's store.
     */
    static Latencies floorTimes(Path file, int warmup, int n, int pauseMs)
            throws java.io.IOException, InterruptedException {
        Latencies times = new Latencies();
        Settings settings = new Settings();
        try (LocalDatabase db = LocalDatabase.open(file)) {
            for (int i = 0; i < warmup + n; i++) {
                long started = System.nanoTime();
                db.inTransaction(settings::nextOutboxSeq);
                long elapsed = System.nanoTime() - started;
                if (i >= warmup) {
                    times.add(elapsed);
                }
                Thread.sleep(pauseMs);
            }
        }
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            java.nio.file.Files.deleteIfExists(Path.of(file + suffix));
        }
        return times;
    }
}
