package dev.parley.bench;

import dev.parley.client.ChatClient;
import dev.parley.client.ChatListener;
import dev.parley.client.ClientConfig;
import dev.parley.client.SyncState;
import dev.parley.client.SyncStatus;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.client.internal.TokenStore;
import dev.parley.protocol.AuthResponse;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Sign-in with a big signed-out backlog: 100,000 messages in 1,000 sessions, written while signed out, are adopted
 * and pushed by {@link ChatClient#signUp} (which then downloads the account's history, as every sign-in does). The
 * whole run — client and server — happens in a child JVM capped at {@value #HEAP} of heap, so a completed run proves
 * the upload fits in it; the report gives the heap actually used.
 */
@Command(name = "signin-upload", mixinStandardHelpOptions = true,
        description = "100,000 signed-out messages in 1,000 sessions pushed at sign-in, within -Xmx128m.")
final class SigninUpload implements Callable<Integer> {
    static final String HEAP = "128m";

    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--sessions", defaultValue = "1000", description = "Sessions (default ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--per-session", defaultValue = "100", description = "Messages per session (default ${DEFAULT-VALUE}).")
    int perSession;

    @Option(names = "--in-this-jvm", hidden = true, description = "Run here instead of in a capped child JVM.")
    boolean inThisJvm;

    @Override
    public Integer call() throws Exception {
        return inThisJvm ? measure() : runInChild();
    }

    /** Runs this scenario again in a child JVM with {@code -Xmx128m}, relaying its output. */
    private int runInChild() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<String> command = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + HEAP, "-D" + Main.LOG_LEVEL + "=" + System.getProperty(Main.LOG_LEVEL, "warn"),
                "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "signin-upload", "--in-this-jvm",
                "--sessions", Integer.toString(sessions), "--per-session", Integer.toString(perSession)));
        if (options.db != null) {
            command.addAll(List.of("--db", options.db));
        }
        if (options.workDir != null) {
            command.addAll(List.of("--work-dir", options.workDir.toString()));
        }
        if (options.quick) {
            command.add("--quick");
        }
        if (options.keep) {
            command.add("--keep");
        }
        out.println("# running in a child JVM with -Xmx" + HEAP);
        out.flush();
        return ChildJvm.relay(command, out);
    }

    private int measure() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "signin-upload");
        int sessionCount = options.quick ? 20 : sessions;
        int per = options.quick ? 10 : perSession;
        int messages = sessionCount * per;
        try (HeapWatch heap = new HeapWatch(); BenchServer server = BenchServer.start(options, "signin")) {
            Path dataDir = options.workDir().resolve("signin-client");
            report.note("writing %,d signed-out messages in %,d sessions into the client store…", messages,
                    sessionCount);
            try (LocalDatabase db = LocalDatabase.open(ClientStore.file(dataDir))) {
                new ClientStore(db).seed(new Conversations(Conversations.startingBefore(Instant.now(), messages)),
                        null, SyncState.LOCAL, sessionCount, per);
            }
            AtomicLong uploaded = new AtomicLong();
            long signInNanos;
            long uploadNanos;
            long cpuNanos;
            try (ChatClient client = ChatClient.open(ClientConfig.builder(dataDir, server.url()).build())) {
                int waiting = client.syncStatus().unsent();
                if (waiting != messages + sessionCount) {
                    throw new IllegalStateException("expected " + (messages + sessionCount) + " rows waiting, found "
                            + waiting);
                }
                long cpuStarted = ProcessCpu.nanos();
                long started = System.nanoTime();
                client.addListener(new ChatListener() {
                    @Override
                    public void syncStatusChanged(SyncStatus status) {
                        if (status.state() == SyncStatus.State.SYNCING && status.total() > 0
                                && status.done() == status.total()) {
                            uploaded.compareAndSet(0, System.nanoTime());
                        }
                    }
                });
                client.signUp("signin-" + UUID.randomUUID().toString().substring(0, 8) + "@bench.example.com",
                        BenchServer.PASSWORD);
                signInNanos = System.nanoTime() - started;
                cpuNanos = ProcessCpu.nanos() - cpuStarted;
                if (client.syncStatus().unsent() != 0) {
                    throw new IllegalStateException("rows left unsent after sign-in: " + client.syncStatus());
                }
                uploadNanos = (uploaded.get() == 0 ? System.nanoTime() : uploaded.get()) - started;
            }
            AuthResponse account = new TokenStore(dataDir, server.json).load().orElseThrow();
            long counted = server.countedMessages(account);
            if (counted != messages) {
                throw new IllegalStateException("the server counted " + counted + " messages, not " + messages);
            }
            double uploadSeconds = uploadNanos / 1e9;
            double rate = messages / uploadSeconds;
            report.columns("messages", "sessions", "upload s", "msgs/s (upload)", "sign-in total s",
                    "CPU µs/msg (sign-in)", "heap peak MiB", "after-GC peak MiB", "-Xmx MiB");
            report.row(messages, sessionCount, uploadSeconds, rate, signInNanos / 1e9,
                    Latencies.micros(cpuNanos) / messages, heap.peakUsedMib(), heap.peakLiveMib(),
                    HeapWatch.maxHeapMib());
            report.note("upload: sign-up until the progress shows every row pushed; sign-in total adds the"
                    + " download of the account's history (the same rows, merged back); CPU: the whole process (client"
                    + " and server) over the whole sign-in");
            report.result("messages", counted).result("msgs_per_s", rate).result("heap_mb", heap.peakUsedMib())
                    .result("xmx_mb", HeapWatch.maxHeapMib());
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }
}
