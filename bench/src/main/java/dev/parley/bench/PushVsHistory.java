package dev.parley.bench;

import dev.parley.client.SyncState;
import dev.parley.client.internal.SyncEngine.PushReport;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
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
 * A local store holding H synced messages plus 10 unsent ones: how long one push cycle of the real sync engine
 * takes as H grows, against the old system's way of re-pushing every stored row through the same endpoint. The
 * H synced rows are written into the client's store through its own schema and delivered by the engine before the
 * clock starts, so the server holds them too and a re-push finds them all {@code unchanged}. A second device with
 * an empty store pushes in alternation with the measured one: the ratio compares cycles run side by side, so a
 * busy machine slows both alike.
 */
@Command(name = "push-vs-history", mixinStandardHelpOptions = true,
        description = "Push cost with H synced messages in the store (H = 0, 10k, 100k, 1M) vs re-pushing all.")
final class PushVsHistory implements Callable<Integer> {
    static final int UNSENT = 10;
    private static final int PER_SESSION = 100;
    private static final int WARMUP_CYCLES = 3;
    private static final int FIRST_WARMUP_CYCLES = 40;

    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--cycles", defaultValue = "25", description = "Timed push cycles per H (default ${DEFAULT-VALUE}).")
    int cycles;

    @Option(names = "--sizes", split = ",", description = "History sizes H to measure (default 0,10000,100000,1000000;"
            + " with --quick 0,200,2000).")
    List<Integer> sizes;

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "push-vs-history");
        List<Integer> levels = sizes != null ? sizes : options.quick ? List.of(0, 200, 2_000)
                : List.of(0, 10_000, 100_000, 1_000_000);
        int timedCycles = options.quick ? 3 : cycles;
        int hmax = levels.get(levels.size() - 1);
        report.note("server %s; client store seeded through client-db's schema, then delivered by the sync engine",
                options.postgres() ? "PostgreSQL" : "SQLite");
        try (BenchServer server = BenchServer.start(options, "push")) {
            long made = (long) hmax + ((long) levels.size() * 2 * (timedCycles + WARMUP_CYCLES)
                    + 2L * FIRST_WARMUP_CYCLES) * UNSENT;
            Conversations conversations = new Conversations(Conversations.startingBefore(Instant.now(), made));
            report.columns("H (synced msgs)", "in store", "push ms p50", "push ms p95", "empty store: push ms p50",
                    "rows sent/cycle", "re-push all: rows", "re-push all: ms");
            double h0Ms = 0;
            double hmaxMs = 0;
            long rowsSentPerCycle = -1;
            long baselineRows = 0;
            double baselineMs = 0;
            // The control is a second device whose store stays (nearly) empty; its cycles alternate with the measured
            // store's, so both see the same machine, and the ratio compares like with like.
            try (Device device = Device.open(server, options.workDir().resolve("push-client"), conversations);
                 Device control = Device.open(server, options.workDir().resolve("push-control"), conversations)) {
                for (int i = 0; i < FIRST_WARMUP_CYCLES; i++) {
                    device.cycle(conversations); // compiles the push path before anything is timed
                    control.cycle(conversations);
                }
                long seeded = 0;
                for (int level : levels) {
                    long missing = level - seeded;
                    if (missing > 0) {
                        report.note("seeding %,d synced messages…", missing);
                        device.seed(conversations, missing);
                        seeded = level;
                    }
                    for (int i = 0; i < WARMUP_CYCLES; i++) {
                        device.cycle(conversations);
                        control.cycle(conversations);
                    }
                    int inStore = device.client.store.count(device.owner, SyncState.SYNCED);
                    Latencies times = new Latencies();
                    Latencies controlTimes = new Latencies();
                    for (int i = 0; i < timedCycles; i++) {
                        long[] cycle = device.cycle(conversations);
                        times.add(cycle[0]);
                        if (rowsSentPerCycle == -1 || cycle[1] != UNSENT) {
                            rowsSentPerCycle = cycle[1]; // any cycle that sent other than the unsent rows shows
                        }
                        long[] controlCycle = control.cycle(conversations);
                        controlTimes.add(controlCycle[0]);
                        if (controlCycle[1] != UNSENT) {
                            rowsSentPerCycle = controlCycle[1];
                        }
                    }
                    long[] baseline = rePushEverything(server, device.account, device.dataDir);
                    double p50 = Latencies.millis(times.median());
                    double controlP50 = Latencies.millis(controlTimes.median());
                    report.row(level, inStore, p50, Latencies.millis(times.percentile(95)), controlP50,
                            rowsSentPerCycle, baseline[0], Latencies.millis(baseline[1]));
                    if (level == hmax) {
                        h0Ms = controlP50;
                        hmaxMs = p50;
                        baselineRows = baseline[0];
                        baselineMs = Latencies.millis(baseline[1]);
                    }
                }
                report.note("empty store: a second device with no history (%,d rows synced by its own cycles), its"
                        + " push cycles alternating with the measured ones; h0_ms is its p50 beside H = %,d",
                        control.client.store.count(control.owner, SyncState.SYNCED), hmax);
            }
            report.result("unsent", UNSENT).result("rows_sent", rowsSentPerCycle).result("h0_ms", h0Ms)
                    .result("hmax", hmax).result("hmax_ms", hmaxMs).result("ratio", hmaxMs / h0Ms)
                    .result("baseline_rows", baselineRows).result("baseline_ms", baselineMs);
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }

    /** One signed-in device: its store, its sync engine, and the conversation its unsent messages go to. */
    private record Device(BenchServer server, AuthResponse account, String owner, Path dataDir, ClientSide client,
                          Session today) implements AutoCloseable {

        static Device open(BenchServer server, Path dataDir, Conversations conversations) throws Exception {
            AuthResponse account = server.newAccount("push");
            ClientSide client = new ClientSide(dataDir, server.url(), account);
            Session today = conversations.session("Today");
            client.store.write(account.user().id(), SyncState.PENDING, List.of(today), List.of());
            client.deliverAll();
            return new Device(server, account, account.user().id(), dataDir, client, today);
        }

        /** Adds {@code count} messages to the store as unsent rows and delivers them, untimed: they end synced. */
        void seed(Conversations conversations, long count) throws Exception {
            int sessions = (int) ((count + PER_SESSION - 1) / PER_SESSION);
            for (int s = 0; s < sessions; s++) {
                int n = (int) Math.min(PER_SESSION, count - (long) s * PER_SESSION);
                Session session = conversations.session("History " + s);
                client.store.write(owner, SyncState.PENDING, List.of(session), conversations.messages(session.id(), n));
                if (s % 500 == 499) {
                    client.deliverAll(); // keeps the pending set small while seeding
                }
            }
            client.deliverAll();
        }

        long[] cycle(Conversations conversations) throws Exception {
            return PushVsHistory.cycle(server, client, owner, conversations, today);
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /**
     * Writes {@value #UNSENT} unsent messages and times one push cycle; returns {nanos, rows sent}. The rows sent
     * are counted by the server, as the rows its direct-write endpoint received, not taken from the client.
     */
    private static long[] cycle(BenchServer server, ClientSide client, String owner, Conversations conversations,
                                Session today) throws Exception {
        client.store.write(owner, SyncState.PENDING, List.of(), conversations.messages(today.id(), UNSENT));
        long receivedBefore = server.pushRowsReceived();
        long started = System.nanoTime();
        PushReport pushed = client.engine.pushNow().get();
        long elapsed = System.nanoTime() - started;
        if (!pushed.completed() || pushed.rejected() > 0) {
            throw new IllegalStateException("push cycle did not complete: " + pushed);
        }
        return new long[] {elapsed, server.pushRowsReceived() - receivedBefore};
    }

    /**
     * The old system's sync: every stored session and message is sent again, in batches of the push limit, through
     * {@code POST /api/chat/messages}. Returns {rows, nanos}.
     */
    static long[] rePushEverything(BenchServer server, AuthResponse account, Path dataDir) throws Exception {
        long rows = 0;
        long started = System.nanoTime();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + ClientStore.file(dataDir));
             Statement st = c.createStatement()) {
            List<Session> sessions = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT id, title, title_updated_at, created_at FROM sessions")) {
                while (rs.next()) {
                    sessions.add(Session.of(rs.getString(1), rs.getString(2), instant(rs, 3), instant(rs, 4), null));
                    if (sessions.size() == Limits.MAX_PUSH_ROWS) {
                        server.push(new PushRequest(sessions, List.of()), account);
                        rows += sessions.size();
                        sessions.clear();
                    }
                }
            }
            if (!sessions.isEmpty()) {
                server.push(new PushRequest(sessions, List.of()), account);
                rows += sessions.size();
            }
            List<Message> messages = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT id, session_id, role, content, model, input_tokens,"
                    + " output_tokens, user_message_id, message_timestamp, elapsed_ms, error_message, completion_id"
                    + " FROM messages ORDER BY rowid")) {
                while (rs.next()) {
                    long input = rs.getLong(6);
                    long output = rs.getLong(7);
                    messages.add(new Message(rs.getString(1), rs.getString(2), Role.fromWire(rs.getString(3)),
                            rs.getString(4), rs.getString(5), input, output, input + output, rs.getString(8),
                            instant(rs, 9), rs.getObject(10) == null ? null : rs.getLong(10), rs.getString(11),
                            rs.getString(12)));
                    if (messages.size() == Limits.MAX_PUSH_ROWS) {
                        server.push(new PushRequest(List.of(), messages), account);
                        rows += messages.size();
                        messages.clear();
                    }
                }
            }
            if (!messages.isEmpty()) {
                server.push(new PushRequest(List.of(), messages), account);
                rows += messages.size();
            }
        }
        return new long[] {rows, System.nanoTime() - started};
    }

    private static Instant instant(ResultSet rs, int column) throws java.sql.SQLException {
        long millis = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(millis);
    }
}
