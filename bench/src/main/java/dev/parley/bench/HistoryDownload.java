package dev.parley.bench;

import dev.parley.client.SyncState;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.Session;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A new device: the account's history (100,000 messages in 1,000 sessions, put on the server beforehand through
 * {@code POST /api/chat/messages}) is pulled by the sync engine into an empty client store, page by page through
 * {@code GET /api/chat/sync}, and merged by id.
 */
@Command(name = "history-download", mixinStandardHelpOptions = true,
        description = "100,000 messages pulled into an empty client store.")
final class HistoryDownload implements Callable<Integer> {
    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--sessions", defaultValue = "1000", description = "Sessions (default ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--per-session", defaultValue = "100", description = "Messages per session (default ${DEFAULT-VALUE}).")
    int perSession;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "history-download");
        int sessionCount = options.quick ? 20 : sessions;
        int per = options.quick ? 10 : perSession;
        int messages = sessionCount * per;
        try (BenchServer server = BenchServer.start(options, "download")) {
            AuthResponse account = server.newAccount("download");
            report.note("putting %,d messages in %,d sessions on the server…", messages, sessionCount);
            Conversations conversations = new Conversations(Conversations.startingBefore(Instant.now(), messages));
            long seedStarted = System.nanoTime();
            long seedCpu = ProcessCpu.nanos();
            List<Message> batchMessages = new ArrayList<>();
            for (int s = 0; s < sessionCount; s++) {
                Session session = conversations.session("Plan review " + s);
                server.push(new PushRequest(List.of(session), List.of()), account);
                for (Message m : conversations.messages(session.id(), per)) {
                    batchMessages.add(m);
                    if (batchMessages.size() == Limits.MAX_PUSH_ROWS) {
                        server.push(new PushRequest(List.of(), batchMessages), account);
                        batchMessages.clear();
                    }
                }
            }
            if (!batchMessages.isEmpty()) {
                server.push(new PushRequest(List.of(), batchMessages), account);
            }
            report.note("(the server stored them at %,.0f msgs/s through POST /api/chat/messages, %,.0f µs CPU each)",
                    messages / ((System.nanoTime() - seedStarted) / 1e9),
                    Latencies.micros(ProcessCpu.nanos() - seedCpu) / messages);
            long pulled;
            long nanos;
            long cpuNanos;
            int stored;
            try (ClientSide client = new ClientSide(options.workDir().resolve("download-client"), server.url(),
                    account)) {
                long cpuStarted = ProcessCpu.nanos();
                long started = System.nanoTime();
                pulled = client.engine.pullNow().get();
                nanos = System.nanoTime() - started;
                cpuNanos = ProcessCpu.nanos() - cpuStarted;
                stored = client.store.count(account.user().id(), SyncState.SYNCED);
            }
            if (stored != messages) {
                throw new IllegalStateException("the client store holds " + stored + " messages, not " + messages);
            }
            double seconds = nanos / 1e9;
            double rate = stored / seconds;
            report.columns("messages", "sessions", "rows pulled", "seconds", "msgs/s", "CPU µs/msg");
            report.row(stored, sessionCount, pulled, seconds, rate, Latencies.micros(cpuNanos) / stored);
            report.note("CPU: the whole process (client and server) during the pull");
            report.result("messages", stored).result("msgs_per_s", rate);
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }
}
