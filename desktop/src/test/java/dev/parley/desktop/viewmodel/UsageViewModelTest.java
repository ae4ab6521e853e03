package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.Exchange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.UsageReport;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.protocol.UsageResponse.UsageDay;
import dev.parley.server.AnalyticsVerifier;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelProviders;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The usage panel without a window: a real client against a real server on SQLite, its figures checked against
 * SPEC §4.1 recomputed from the server's own {@code chat_messages}, or from this device's rows when signed out.
 */
class UsageViewModelTest {
    private static final String EMAIL = "ada@example.com";
    private static final String OTHER_MODEL = "parley-local-large";

    @TempDir
    Path dir;

    String jdbcUrl;
    FailsWhenTold model;
    ParleyServer server;
    ChatClient client;
    final QueuedUi ui = new QueuedUi();

    @BeforeEach
    void start() {
        jdbcUrl = "jdbc:sqlite:" + dir.resolve("s.db");
        model = new FailsWhenTold();
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(jdbcUrl).modelProvider(model).build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url()).build());
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
        model.close();
    }

    @Test
    void signedInFiguresAreTheServersExactOnesAndARetriedMessageCountsOnce() throws Exception {
        client.signUp(EMAIL, "correct horse battery");
        LocalSession first = client.newSession("First");
        sendOk(first, "Hello there", null);
        sendOk(first, "Tell me about usage", OTHER_MODEL);
        model.failNext();
        LocalMessage failed = outcome(client.send(first.id(), "This one fails once", null)).userMessage();
        assertThat(failed.failed()).isTrue();
        Exchange.Outcome retried = outcome(client.retry(failed.id()));
        assertThat(retried.reply()).isNotNull();
        assertThat(retried.userMessage().id()).isEqualTo(failed.id());
        LocalSession second = client.newSession("Second");
        sendOk(second, "A second conversation", OTHER_MODEL);

        UsageViewModel vm = new UsageViewModel(client, ui, Clock.systemUTC());
        vm.load();

        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        assertThat(vm.errorProperty().get()).isEmpty();
        assertThat(vm.loadingProperty().get()).isFalse();
        assertThat(vm.sourceProperty().get()).isEqualTo(UsageReport.Source.SERVER);
        assertThat(vm.sourceTextProperty().get())
                .isEqualTo("Exact: every message counted once — the server's own figures for " + EMAIL);
        assertThat(vm.emptyProperty().get()).isFalse();
        assertThat(vm.days()).hasSize(30);
        assertThat(vm.days().get(0).date()).isEqualTo(today.minusDays(29));
        assertThat(vm.days().get(29).date()).isEqualTo(today);

        Recomputed expected = recomputeOnServer(today.minusDays(29), today);
        assertThat(vm.totalsProperty().get()).isEqualTo(expected.totals());
        assertThat(vm.totalsProperty().get().messagesSent()).isEqualTo(4); // the retried message once
        assertThat(vm.totalsProperty().get().messagesReceived()).isEqualTo(4);
        assertThat(vm.totalsProperty().get().sessionsCreated()).isEqualTo(2);
        assertThat(vm.totalsProperty().get().totalTokens()).isPositive();
        assertThat(shownDays(vm)).isEqualTo(expected.days());
        assertThat(shownModels(vm)).isEqualTo(expected.models())
                .containsEntry(OTHER_MODEL, 4L).containsEntry(FailsWhenTold.DEFAULT_MODEL, 4L);
        assertThat(vm.models()).extracting(UsageModelShare::share).containsExactly(0.5, 0.5);
        assertThat(AnalyticsVerifier.verify(jdbcUrl)).isEmpty();
    }

    @Test
    void signedOutFiguresComeFromThisDevicesOwnRows() throws Exception {
        LocalSession session = client.newSession("Signed out");
        sendOk(session, "Nobody is signed in", null);
        model.failNext();
        LocalMessage failed = outcome(client.send(session.id(), "Fails, then works", OTHER_MODEL)).userMessage();
        assertThat(failed.failed()).isTrue();
        assertThat(outcome(client.retry(failed.id())).reply()).isNotNull();

        UsageViewModel vm = new UsageViewModel(client, ui, Clock.systemUTC());
        vm.load();

        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        assertThat(vm.errorProperty().get()).isEmpty();
        assertThat(vm.sourceProperty().get()).isEqualTo(UsageReport.Source.THIS_DEVICE);
        assertThat(vm.sourceTextProperty().get())
                .isEqualTo("On this device only: sign in to see your account's exact usage");
        Recomputed expected = recomputeFromRows(client.messages(session.id()), today.minusDays(29), today);
        assertThat(expected.totals().messagesSent()).isEqualTo(2);
        assertThat(vm.totalsProperty().get()).usingRecursiveComparison().ignoringFields("sessionsCreated")
                .isEqualTo(expected.totals());
        assertThat(vm.totalsProperty().get().sessionsCreated()).isEqualTo(1);
        assertThat(shownDays(vm)).isEqualTo(expected.days());
        assertThat(shownModels(vm)).isEqualTo(expected.models());
        assertThat(countOnServer("SELECT count(*) FROM chat_messages")).isZero(); // nothing of it is on the server
    }

    @Test
    void signedInButUnreachableSaysSoAndShowsThisDevicesFigures() throws Exception {
        client.signUp(EMAIL, "correct horse battery");
        LocalSession session = client.newSession("Before the outage");
        sendOk(session, "Still here?", null);
        sendOk(session, "And again", null);
        server.close();

        UsageViewModel vm = new UsageViewModel(client, ui, Clock.systemUTC());
        vm.load();

        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        assertThat(vm.errorProperty().get()).isEmpty();
        assertThat(vm.sourceProperty().get()).isEqualTo(UsageReport.Source.THIS_DEVICE);
        assertThat(vm.sourceTextProperty().get()).isEqualTo("The server could not be reached; figures from this device");
        Recomputed expected = recomputeFromRows(client.messages(session.id()), today.minusDays(29), today);
        assertThat(vm.totalsProperty().get().messagesSent()).isEqualTo(2);
        assertThat(vm.totalsProperty().get()).usingRecursiveComparison().ignoringFields("sessionsCreated")
                .isEqualTo(expected.totals());
        assertThat(vm.totalsProperty().get().sessionsCreated()).isEqualTo(1);
        assertThat(shownDays(vm)).isEqualTo(expected.days());
    }

    @Test
    void theWindowIsTheLastThirtyUtcDaysOfTheInjectedClock() throws Exception {
        client.signUp(EMAIL, "correct horse battery");
        LocalSession session = client.newSession("Old news");
        LocalMessage sent = sendOk(session, "Counted on its own day", null);
        LocalDate day = sent.message().messageTimestamp().atOffset(ZoneOffset.UTC).toLocalDate();

        UsageViewModel stillIn = new UsageViewModel(client, ui, endOf(day.plusDays(29)));
        stillIn.load();
        UsageViewModel justOut = new UsageViewModel(client, ui, endOf(day.plusDays(30)));
        justOut.load();

        assertThat(stillIn.days().get(0).date()).isEqualTo(day);
        assertThat(stillIn.days().get(0).messagesSent()).isEqualTo(1);
        assertThat(stillIn.days().get(0).messagesReceived()).isEqualTo(1);
        assertThat(stillIn.emptyProperty().get()).isFalse();
        assertThat(justOut.days()).hasSize(30).allSatisfy(d -> assertThat(d.messagesSent()).isZero());
        assertThat(justOut.totalsProperty().get().messages()).isZero();
        assertThat(justOut.emptyProperty().get()).isTrue();
        assertThat(justOut.sourceProperty().get()).isEqualTo(UsageReport.Source.SERVER);
    }

    @Test
    void anAccountWithoutMessagesShowsTheEmptyState() {
        client.signUp(EMAIL, "correct horse battery");

        UsageViewModel vm = new UsageViewModel(client, ui, Clock.systemUTC());
        vm.load();

        assertThat(vm.errorProperty().get()).isEmpty();
        assertThat(vm.emptyProperty().get()).isTrue();
        assertThat(UsageViewModel.EMPTY_TEXT).isEqualTo("No messages in the last 30 days");
        assertThat(vm.days()).hasSize(30);
        assertThat(vm.models()).isEmpty();
        assertThat(vm.totalsProperty().get()).isEqualTo(UsageTotals.NONE);
    }

    @Test
    void aFailedLoadIsAnInlineErrorInPlainWords() {
        ChatClient gone = ChatClient.open(ClientConfig.builder(dir.resolve("gone"), server.url()).build());
        gone.close(); // its local store is gone from under the panel, and it is signed out: nothing else to ask

        UsageViewModel vm = new UsageViewModel(gone, ui, Clock.systemUTC());
        vm.load();

        assertThat(vm.loadingProperty().get()).isFalse();
        assertThat(vm.errorProperty().get()).startsWith("Usage could not be loaded")
                .doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("SQL");
        assertThat(vm.sourceTextProperty().get()).isEmpty();
        assertThat(vm.days()).isEmpty();
        assertThat(vm.emptyProperty().get()).isFalse();
    }

    @Test
    void loadingHoldsWhileTheReadRunsAndOnlyTheNewestLoadIsShown() {
        client.signUp(EMAIL, "correct horse battery");
        LocalSession session = client.newSession("One");
        sendOk(session, "Just one", null);
        HeldUi held = new HeldUi();
        UsageViewModel vm = new UsageViewModel(client, held, Clock.systemUTC());

        vm.load();
        vm.load();

        assertThat(vm.loadingProperty().get()).isTrue();
        assertThat(vm.days()).isEmpty();
        held.runNewest();
        assertThat(vm.loadingProperty().get()).isFalse();
        assertThat(vm.totalsProperty().get().messagesSent()).isEqualTo(1);
        sendOk(session, "A second one", null);
        held.runNewest(); // the older load ends last, having read more, and is not shown
        assertThat(vm.totalsProperty().get().messagesSent()).isEqualTo(1);
        vm.load();
        held.runNewest();
        assertThat(vm.totalsProperty().get().messagesSent()).isEqualTo(2);
    }

    @Test
    void badRowsAreLeftOutOrCleanedAndTheSeriesHasNoGaps() {
        LocalDate to = LocalDate.of(2026, 11, 26);
        LocalDate from = to.minusDays(29);
        Map<String, Long> weird = new HashMap<>();
        weird.put(null, 2L);
        weird.put("parley-local", -3L);
        weird.put("gpt", null);
        List<UsageDay> rows = new ArrayList<>();
        rows.add(null);
        rows.add(new UsageDay(null, 5, 5, 5, 5, 10, Map.of("x", 10L), 0, 5));
        rows.add(new UsageDay(from.minusDays(1), 7, 7, 7, 7, 14, Map.of("x", 14L), 1, 7));
        rows.add(new UsageDay(to.plusDays(1), 7, 7, 7, 7, 14, Map.of("x", 14L), 1, 7));
        rows.add(new UsageDay(to, 1, 1, 10, 20, 30, Map.of("parley-local", 2L), 1, 400));
        rows.add(new UsageDay(to, 1, -4, 5, 0, 5, weird, -1, -9));
        rows.add(new UsageDay(from.plusDays(3), 0, 0, 0, 0, 0, null, 1, 0));

        UsageSummary summary = UsageSummary.of(rows, from, to);

        assertThat(summary.days()).hasSize(30);
        assertThat(summary.days()).extracting(UsageDay::date)
                .containsExactlyElementsOf(from.datesUntil(to.plusDays(1)).toList());
        UsageDay last = summary.days().get(29);
        assertThat(last.messagesSent()).isEqualTo(2);
        assertThat(last.messagesReceived()).isEqualTo(1);
        assertThat(last.modelsUsed()).containsOnly(Map.entry("parley-local", 2L),
                Map.entry(UsageSummary.UNNAMED_MODEL, 2L));
        assertThat(summary.totals()).isEqualTo(new UsageTotals(2, 1, 15, 20, 35, 400, 2));
        assertThat(summary.models()).extracting(UsageModelShare::model)
                .containsExactly(UsageSummary.UNNAMED_MODEL, "parley-local");
        assertThat(summary.empty()).isFalse();
        assertThat(UsageSummary.of(null, from, to).empty()).isTrue();
        assertThat(UsageSummary.of(List.of(), from, to).days()).hasSize(30);
    }

    @Test
    void totalsReadAsPlainFigures() {
        UsageTotals totals = new UsageTotals(1_204, 1_203, 51_234, 98_001, 149_235, 187_400, 12);

        assertThat(totals.figures()).extracting(UsageTotals.Figure::value)
                .containsExactly("1,204", "1,203", "51,234", "98,001", "149,235", "3 min 7 s", "12");
        assertThat(UsageTotals.duration(850)).isEqualTo("850 ms");
        assertThat(UsageTotals.duration(4_230)).isEqualTo("4.2 s");
        assertThat(UsageTotals.duration(7_620_000)).isEqualTo("2 h 7 min");
        assertThat(new UsageModelShare("m", 1, 0.001).shareText()).isEqualTo("< 1 %");
        assertThat(new UsageModelShare("m", 3, 0.375).shareText()).isEqualTo("38 %");
    }

    // ------------------------------------------------------------------------------------------ helpers

    private LocalMessage sendOk(LocalSession session, String text, String modelId) {
        Exchange.Outcome outcome = outcome(client.send(session.id(), text, modelId));
        assertThat(outcome.reply()).as("the reply to '%s'", text).isNotNull();
        return outcome.userMessage();
    }

    private static Exchange.Outcome outcome(Exchange exchange) {
        try {
            return exchange.outcome().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("no outcome", e);
        }
    }

    private static Clock endOf(LocalDate day) {
        return Clock.fixed(day.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC).minusMillis(1), ZoneOffset.UTC);
    }

    /** The per-day figures shown, for the days with any message. */
    private static Map<LocalDate, List<Long>> shownDays(UsageViewModel vm) {
        Map<LocalDate, List<Long>> days = new LinkedHashMap<>();
        for (UsageDay d : vm.days()) {
            if (d.messagesSent() + d.messagesReceived() > 0) {
                days.put(d.date(), List.of(d.messagesSent(), d.messagesReceived(), d.inputTokens(), d.outputTokens(),
                        d.totalTokens(), d.generationMs()));
            }
        }
        return days;
    }

    private static Map<String, Long> shownModels(UsageViewModel vm) {
        Map<String, Long> models = new HashMap<>();
        vm.models().forEach(m -> models.put(m.model(), m.messages()));
        return models;
    }

    /** What SPEC §4.1 says the figures are, worked out independently of the panel and of the triggers. */
    private record Recomputed(UsageTotals totals, Map<LocalDate, List<Long>> days, Map<String, Long> models) {
    }

    private Recomputed recomputeOnServer(LocalDate from, LocalDate to) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl)) {
            String notImported = hasColumn(c, "chat_messages", "origin") ? " AND m.origin <> 'import'" : "";
            String counted = " FROM chat_messages m JOIN users u ON u.id = m.user_id"
                    + " WHERE u.email = ? AND m.error_message IS NULL AND m.role <> 'system'" + notImported
                    + " AND date(m.message_timestamp / 1000, 'unixepoch') BETWEEN ? AND ?";
            Map<LocalDate, List<Long>> days = new LinkedHashMap<>();
            long[] sums = new long[6];
            try (PreparedStatement q = c.prepareStatement(
                    "SELECT date(m.message_timestamp / 1000, 'unixepoch') AS day, sum(m.role = 'user'),"
                            + " sum(m.role = 'assistant'), sum(m.input_tokens), sum(m.output_tokens),"
                            + " sum(m.input_tokens + m.output_tokens),"
                            + " sum(CASE WHEN m.role = 'assistant' THEN coalesce(m.elapsed_ms, 0) ELSE 0 END)"
                            + counted + " GROUP BY day ORDER BY day")) {
                bind(q, from, to);
                try (ResultSet r = q.executeQuery()) {
                    while (r.next()) {
                        List<Long> figures = new ArrayList<>();
                        for (int i = 0; i < 6; i++) {
                            figures.add(r.getLong(i + 2));
                            sums[i] += r.getLong(i + 2);
                        }
                        days.put(LocalDate.parse(r.getString(1)), figures);
                    }
                }
            }
            Map<String, Long> models = new HashMap<>();
            try (PreparedStatement q = c.prepareStatement("SELECT m.model, count(*)" + counted
                    + " AND m.model IS NOT NULL GROUP BY m.model")) {
                bind(q, from, to);
                try (ResultSet r = q.executeQuery()) {
                    while (r.next()) {
                        models.put(r.getString(1), r.getLong(2));
                    }
                }
            }
            long sessions;
            try (PreparedStatement q = c.prepareStatement("SELECT count(*) FROM chat_sessions s"
                    + " JOIN users u ON u.id = s.user_id WHERE u.email = ?"
                    + " AND date(s.created_at / 1000, 'unixepoch') BETWEEN ? AND ?")) {
                bind(q, from, to);
                try (ResultSet r = q.executeQuery()) {
                    r.next();
                    sessions = r.getLong(1);
                }
            }
            return new Recomputed(new UsageTotals(sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sessions),
                    days, models);
        }
    }

    private static void bind(PreparedStatement q, LocalDate from, LocalDate to) throws SQLException {
        q.setString(1, EMAIL);
        q.setString(2, from.toString());
        q.setString(3, to.toString());
    }

    private static boolean hasColumn(Connection c, String table, String column) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?")) {
            q.setString(1, table);
            q.setString(2, column);
            try (ResultSet r = q.executeQuery()) {
                return r.next() && r.getLong(1) > 0;
            }
        }
    }

    private long countOnServer(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl); ResultSet r = c.createStatement().executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    /** SPEC §4.1 applied to rows the test holds: successful, non-system messages, on the UTC day of their time. */
    private static Recomputed recomputeFromRows(List<LocalMessage> rows, LocalDate from, LocalDate to) {
        Map<LocalDate, long[]> byDay = new TreeMap<>();
        Map<String, Long> models = new HashMap<>();
        for (LocalMessage row : rows) {
            Message m = row.message();
            LocalDate day = m.messageTimestamp().atOffset(ZoneOffset.UTC).toLocalDate();
            if (m.errorMessage() != null || m.role() == Role.SYSTEM || row.unfinished()
                    || day.isBefore(from) || day.isAfter(to)) {
                continue;
            }
            long[] f = byDay.computeIfAbsent(day, d -> new long[6]);
            boolean user = m.role() == Role.USER;
            long input = user ? nz(m.inputTokens()) : 0;
            long output = user ? 0 : nz(m.outputTokens());
            f[0] += user ? 1 : 0;
            f[1] += user ? 0 : 1;
            f[2] += input;
            f[3] += output;
            f[4] += input + output;
            f[5] += user ? 0 : nz(m.elapsedMs());
            if (m.model() != null) {
                models.merge(m.model(), 1L, Long::sum);
            }
        }
        Map<LocalDate, List<Long>> days = new LinkedHashMap<>();
        long[] sums = new long[6];
        byDay.forEach((day, f) -> {
            List<Long> figures = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                figures.add(f[i]);
                sums[i] += f[i];
            }
            days.put(day, figures);
        });
        return new Recomputed(new UsageTotals(sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], 0), days,
                models);
    }

    private static long nz(Long n) {
        return n == null ? 0 : n;
    }

    /**
     * The built-in local model under two names, which fails the next call when told to, as a flaky upstream would
     * ({@code upstream_error}, retryable).
     */
    static final class FailsWhenTold implements ModelProvider {
        static final String DEFAULT_MODEL = "parley-local";
        private final ModelProvider local = ModelProviders.builtIn(Duration.ZERO);
        private final AtomicBoolean failNext = new AtomicBoolean();

        void failNext() {
            failNext.set(true);
        }

        @Override
        public List<ModelInfo> models() {
            return List.of(new ModelInfo(DEFAULT_MODEL, "Local"), new ModelInfo(OTHER_MODEL, "Local, larger"));
        }

        @Override
        public String defaultModel() {
            return DEFAULT_MODEL;
        }

        @Override
        public Completion complete(CompletionRequest request) throws ModelException {
            if (failNext.getAndSet(false)) {
                throw new ModelException(ErrorCode.UPSTREAM_ERROR, "the model is having a bad moment");
            }
            return local.complete(request);
        }

        @Override
        public void close() {
            local.close();
        }
    }

    /** Holds each piece of work until the test runs it, so a load can be seen in flight. */
    private static final class HeldUi implements UiExecutor {
        private final List<Runnable> held = new ArrayList<>();

        @Override
        public <T> void run(Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError) {
            held.add(() -> {
                T result;
                try {
                    result = work.call();
                } catch (Exception e) {
                    onError.accept(e);
                    return;
                }
                onSuccess.accept(result);
            });
        }

        @Override
        public void onUi(Runnable action) {
            action.run();
        }

        /** Runs the piece of work handed over last. */
        void runNewest() {
            held.remove(held.size() - 1).run();
        }
    }
}
