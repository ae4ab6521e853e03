package dev.parley.bench;

import dev.parley.protocol.Message;
import dev.parley.protocol.Session;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.MessageRepository;
import dev.parley.server.internal.store.SessionRepository;
import dev.parley.server.internal.store.UserRepository;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.flywaydb.core.Flyway;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The cost of the analytics triggers: one session of 10,000 messages inserted in one transaction through the
 * server's own {@link MessageRepository}, into a database migrated by the server's own migrations, in three
 * variants: Parley's delta triggers as shipped; the old system's per-row recompute of the session's aggregates
 * (every trigger on {@code chat_messages} removed first, then {@code bench/trigger-cost/<dialect>}); and no trigger
 * on {@code chat_messages} at all, for reference. Each variant gets a fresh database: a new SQLite file, or on
 * PostgreSQL a scratch schema of the given database, dropped afterwards — the given database itself is never
 * altered.
 */
@Command(name = "trigger-cost", mixinStandardHelpOptions = true,
        description = "Insert one 10,000-message session: delta triggers vs per-row recompute of session aggregates.")
final class TriggerCost implements Callable<Integer> {
    @Mixin
    BenchOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--messages", defaultValue = "10000", description = "Messages in the session (default ${DEFAULT-VALUE}).")
    int messages;

    private enum Variant { DELTA, RECOMPUTE, NONE }

    @Override
    public Integer call() throws Exception {
        Report report = new Report(spec.commandLine().getOut(), "trigger-cost");
        int n = options.quick ? 300 : messages;
        try {
            report.columns("variant", "messages", "insert ms", "µs per message", "session message_count");
            double[] ms = new double[Variant.values().length];
            for (Variant variant : Variant.values()) {
                long[] measured = measure(variant, n);
                ms[variant.ordinal()] = Latencies.millis(measured[0]);
                report.row(label(variant), n, ms[variant.ordinal()], Latencies.micros(measured[0]) / n,
                        variant == Variant.NONE ? "(not kept)" : Long.toString(measured[1]));
                if (variant != Variant.NONE && measured[1] != n) {
                    throw new IllegalStateException(variant + " counted " + measured[1] + " messages, not " + n);
                }
            }
            double delta = ms[Variant.DELTA.ordinal()];
            double recompute = ms[Variant.RECOMPUTE.ordinal()];
            report.result("delta_ms", delta).result("recompute_ms", recompute).result("ratio", recompute / delta);
            report.print();
            return 0;
        } finally {
            options.cleanUp();
        }
    }

    private static String label(Variant variant) {
        return switch (variant) {
            case DELTA -> "delta triggers (Parley)";
            case RECOMPUTE -> "recompute per row (old system)";
            case NONE -> "no triggers on chat_messages";
        };
    }

    /** Returns {nanos of the insert transaction, the session's message_count afterwards}. */
    private long[] measure(Variant variant, int n) throws SQLException {
        boolean postgres = options.postgres();
        String schema = "parley_bench_" + variant.name().toLowerCase(Locale.ROOT) + "_"
                + UUID.randomUUID().toString().substring(0, 8);
        String url;
        if (postgres) {
            execute(options.db, "CREATE SCHEMA " + schema);
            url = options.db + (options.db.contains("?") ? "&" : "?") + "currentSchema=" + schema;
        } else {
            url = "jdbc:sqlite:" + options.workDir().resolve("trigger-cost-" + schema + ".db");
        }
        try (Database db = Database.open(url, 2)) {
            if (variant != Variant.DELTA) {
                removeMessageTriggers(url, postgres);
            }
            if (variant == Variant.RECOMPUTE) {
                Flyway.configure().dataSource(url, null, null)
                        .locations("classpath:bench/trigger-cost/" + (postgres ? "postgresql" : "sqlite"))
                        .table("bench_schema_history").baselineOnMigrate(true).baselineVersion("0")
                        .load().migrate();
            }
            Instant now = Instant.now();
            String userId = Conversations.newId();
            Conversations conversations = new Conversations(Conversations.startingBefore(now, n));
            Session session = conversations.session("Ten thousand messages");
            List<Message> rows = new ArrayList<>(conversations.messages(session.id(), n));
            db.inTransaction(c -> {
                new UserRepository(db.dialect()).insert(c, new UserRepository.UserRow(userId, userId + "@bench.example.com",
                        "not-a-password-hash"), now);
                new SessionRepository().insert(c, userId, session, now);
                return null;
            });
            MessageRepository repository = new MessageRepository();
            long started = System.nanoTime();
            db.inTransaction(c -> {
                try (MessageRepository.Inserter inserter = repository.inserter(c)) {
                    for (Message m : rows) {
                        inserter.insert(userId, m, now);
                    }
                }
                return null;
            });
            long nanos = System.nanoTime() - started;
            long count = db.read(c -> new SessionRepository().find(c, session.id()).orElseThrow().session()
                    .messageCount());
            return new long[] {nanos, count};
        } finally {
            if (postgres) {
                execute(options.db, "DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    /** Takes every trigger off {@code chat_messages}: Parley's counting and its sync clock. */
    private static void removeMessageTriggers(String url, boolean postgres) throws SQLException {
        if (postgres) {
            execute(url, "ALTER TABLE chat_messages DISABLE TRIGGER USER");
            return;
        }
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            List<String> names = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                    + " AND tbl_name = 'chat_messages'")) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            for (String name : names) {
                st.execute("DROP TRIGGER \"" + name + "\"");
            }
        }
    }

    private static void execute(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
