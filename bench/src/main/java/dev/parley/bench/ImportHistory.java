package dev.parley.bench;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.ImportListener;
import dev.parley.client.ImportSummary;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A ChatGPT data export of 100,000 messages imported by {@link ChatClient#importHistory} into an empty, signed-out
 * store. The export ({@link ChatGptExport}: about 5,000 conversations of about 20 messages, with regenerated replies,
 * edited questions, images and tool calls) is written in this JVM; the import runs in a child JVM capped at
 * {@value #HEAP} of heap, so a completed run proves it fits. The whole {@code importHistory} call is timed (its check
 * read and its write read), then the same file is imported again, which must add nothing.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "A 100,000-message ChatGPT export imported into a signed-out store, within -Xmx256m;"
                + " then imported again (adds nothing).")
final class ImportHistory implements Callable<Integer> {
    static final String HEAP = "256m";
    static final double GOAL_MSGS_PER_S = 20_000;
    private static final long SEED = 20_240_601L;

    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--messages", defaultValue = "100000",
            description = "Messages in the export (default ${DEFAULT-VALUE}; --quick: 10,000).")
    long messages;

    @Option(names = "--per-conversation", defaultValue = "20",
            description = "Messages per conversation, about (default ${DEFAULT-VALUE}).")
    int perConversation;

    @Option(names = "--export", hidden = true, description = "The export to import (set by the parent JVM).")
    Path export;

    @Option(names = "--expect", hidden = true, split = ",",
            description = "What the export holds: conversations, messages, nodes skipped, notes (set by the parent).")
    long[] expect;

    @Option(names = "--in-this-jvm", hidden = true, description = "Run here instead of in a capped child JVM.")
    boolean inThisJvm;

    @Override
    public Integer call() throws Exception {
        return inThisJvm ? measure() : generateAndRunInChild();
    }

    /** Writes the export here, then imports it in a child JVM with {@code -Xmx256m}, relaying its output. */
    private int generateAndRunInChild() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try {
            long target = options.quick ? 10_000 : messages;
            Path dir = options.workDir();
            Path file = dir.resolve("conversations.json");
            out.printf("# writing a ChatGPT export of %,d messages (about %d per conversation) to %s…%n", target,
                    perConversation, file);
            out.flush();
            long started = System.nanoTime();
            ChatGptExport.Written written = new ChatGptExport(SEED).write(file, target, perConversation);
            out.printf("# written in %.2f s: %,d conversations, %,d messages, %,d nodes, %.1f MiB%n",
                    (System.nanoTime() - started) / 1e9, written.conversations(), written.messages(),
                    written.nodes(), written.bytes() / (1024.0 * 1024.0));
            List<String> command = new ArrayList<>(List.of(
                    Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx" + HEAP, "-D" + Main.LOG_LEVEL + "=" + System.getProperty(Main.LOG_LEVEL, "warn"),
                    "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "import", "--in-this-jvm", "--work-dir", dir.toString(),
                    "--export", file.toString(),
                    "--expect", written.conversations() + "," + written.messages() + "," + written.nodesSkipped()
                            + "," + written.notes()));
            if (options.quick) {
                command.add("--quick");
            }
            out.println("# importing in a child JVM with -Xmx" + HEAP);
            out.flush();
            return ChildJvm.relay(command, out);
        } finally {
            options.cleanUp();
        }
    }

    /** Times the import and the re-import of the export in this JVM (the capped child). */
    private int measure() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "import");
        int conversations = (int) expect[0];
        long expectedMessages = expect[1];
        long fileBytes = Files.size(export);
        double fileMib = fileBytes / (1024.0 * 1024.0);
        Path dataDir = options.workDir().resolve("import-client");
        // Signed out, so nothing goes anywhere: the URL is never dialled.
        ClientConfig config = ClientConfig.builder(dataDir, "http://127.0.0.1:9").liveSync(false).build();
        try (ChatClient client = ChatClient.open(config)) {
            report.note("importing %s (%.1f MiB, %,d conversations, %,d messages) into an empty signed-out store",
                    export.getFileName(), fileMib, conversations, expectedMessages);
            Run first = run(client);
            ImportSummary s = first.summary;
            check(s.messagesAdded() == expectedMessages, "messages added", s.messagesAdded(), expectedMessages, s);
            check(s.messagesAlreadyHere() == 0, "messages already here", s.messagesAlreadyHere(), 0, s);
            check(s.conversationsInFile() == conversations, "conversations in the file", s.conversationsInFile(),
                    conversations, s);
            check(s.conversationsAdded() == conversations, "conversations added", s.conversationsAdded(),
                    conversations, s);
            check(s.nodesSkipped() == expect[2], "nodes skipped", s.nodesSkipped(), expect[2], s);
            check(s.notes() == expect[3], "notes", s.notes(), expect[3], s);
            check(!s.cancelled() && s.conversationsSkipped() == 0, "conversations skipped",
                    s.conversationsSkipped(), 0, s);
            report.note("first import: %s", s);

            Run again = run(client);
            ImportSummary a = again.summary;
            check(a.messagesAdded() == 0, "messages added again", a.messagesAdded(), 0, a);
            check(a.messagesAlreadyHere() == expectedMessages, "messages already here again",
                    a.messagesAlreadyHere(), expectedMessages, a);
            report.note("second import: %s", a);

            double rate = expectedMessages / first.seconds();
            double convRate = conversations / first.seconds();
            report.columns("import", "messages added", "already here", "conversations", "file MiB", "total s",
                    "check s", "write s", "convs/s", "msgs/s", "CPU µs/msg", "heap peak MiB", "after-GC peak MiB",
                    "-Xmx MiB");
            for (Run r : List.of(first, again)) {
                report.row(r == first ? "first" : "again", r.summary.messagesAdded(),
                        r.summary.messagesAlreadyHere(), r.summary.conversationsInFile(), fileMib, r.seconds(),
                        r.checkSeconds(), r.writeSeconds(), conversations / r.seconds(),
                        expectedMessages / r.seconds(), Latencies.micros(r.cpuNanos) / expectedMessages,
                        r.heapMib, r.liveMib, HeapWatch.maxHeapMib());
            }
            report.note("total: the whole importHistory call; check: its first read of the file (parse and convert,"
                    + " no tokenizer, nothing written); write: the second read (parse, convert, count tokens) and the"
                    + " store's transactions. msgs/s: messages in the file over the total; CPU: the whole process");
            long storeBytes = storeSize(dataDir);
            report.note("store after import: %.1f MiB (database and WAL)", storeBytes / (1024.0 * 1024.0));
            boolean met = rate >= GOAL_MSGS_PER_S && first.heapMib <= HeapWatch.maxHeapMib();
            report.goal(String.format(java.util.Locale.ROOT, "≥ %,.0f msgs/s within -Xmx%s", GOAL_MSGS_PER_S,
                    HEAP), met, String.format(java.util.Locale.ROOT, "%,.0f msgs/s, heap peak %.0f MiB of %.0f",
                    rate, first.heapMib, HeapWatch.maxHeapMib()));
            report.result("messages", s.messagesAdded()).result("conversations", s.conversationsAdded())
                    .result("file_mb", fileMib).result("seconds", first.seconds()).result("msgs_per_s", rate)
                    .result("convs_per_s", convRate).result("heap_mb", first.heapMib)
                    .result("xmx_mb", HeapWatch.maxHeapMib()).result("reimport_added", a.messagesAdded())
                    .result("reimport_s", again.seconds()).result("goal_met", met ? 1 : 0);
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }

    /** One timed {@code importHistory} call. */
    private record Run(ImportSummary summary, long nanos, long checkNanos, long cpuNanos, double heapMib,
                       double liveMib) {
        double seconds() {
            return nanos / 1e9;
        }

        double checkSeconds() {
            return checkNanos / 1e9;
        }

        double writeSeconds() {
            return (nanos - checkNanos) / 1e9;
        }
    }

    private Run run(ChatClient client) {
        long[] writeStarted = {0};
        ImportListener listener = new ImportListener() {
            @Override
            public void importing(int done, int total) {
                if (writeStarted[0] == 0) {
                    writeStarted[0] = System.nanoTime();
                }
            }
        };
        try (HeapWatch heap = new HeapWatch()) {
            long cpu = ProcessCpu.nanos();
            long started = System.nanoTime();
            ImportSummary summary = client.importHistory(export, listener);
            long elapsed = System.nanoTime() - started;
            cpu = ProcessCpu.nanos() - cpu;
            long check = (writeStarted[0] == 0 ? started + elapsed : writeStarted[0]) - started;
            return new Run(summary, elapsed, check, cpu, heap.peakUsedMib(), heap.peakLiveMib());
        }
    }

    private static void check(boolean holds, String what, long found, long expected, ImportSummary summary) {
        if (!holds) {
            throw new IllegalStateException(what + ": " + found + ", expected " + expected + " (" + summary + ")");
        }
    }

    private static long storeSize(Path dataDir) {
        try (var files = Files.list(dataDir)) {
            return files.filter(f -> f.getFileName().toString().contains(".db")).mapToLong(f -> f.toFile().length())
                    .sum();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
