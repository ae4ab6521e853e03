package dev.parley.bench;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.Exchange;
import dev.parley.client.LocalSession;
import dev.parley.client.SyncState;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.protocol.AuthResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * {@code --history} messages.
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
            Latencies fsync = fsyncTimes(dataDir.resolve("fsync-probe"), options.quick ? 20 : 300);
            double p50 = Latencies.micros(times.median());
            double p95 = Latencies.micros(times.percentile(95));
            double p99 = Latencies.micros(times.percentile(99));
            report.note("each send timed alone; after its reply, %d ms before the next", pauseMs);
            report.columns("messages", "history", "p50 µs", "p95 µs", "p99 µs", "max µs", "fsync alone p50 µs",
                    "fsync alone p95 µs");
            report.row(times.count(), stored, p50, p95, p99, Latencies.micros(times.percentile(100)),
                    Latencies.micros(fsync.median()), Latencies.micros(fsync.percentile(95)));
            report.note("fsync alone: one 4 KiB write and fsync in the same directory, the floor of any durable"
                    + " commit on this disk");
            report.result("n", times.count()).result("p50_us", p50).result("p95_us", p95).result("p99_us", p99);
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }

    /** Times {@code n} rewrites of one 4 KiB block, each followed by fsync: what the disk charges for durability. */
    static Latencies fsyncTimes(Path file, int n) throws java.io.IOException {
        Latencies times = new Latencies();
        ByteBuffer block = ByteBuffer.allocate(4096);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int i = 0; i < n + 10; i++) {
                block.clear();
                block.putInt(0, i);
                long started = System.nanoTime();
                channel.write(block, 0);
                channel.force(true); // fsync, as SQLite calls it at every commit in WAL mode with synchronous=FULL
                if (i >= 10) {
                    times.add(System.nanoTime() - started);
                }
            }
        }
        java.nio.file.Files.deleteIfExists(file);
        return times;
    }
}
