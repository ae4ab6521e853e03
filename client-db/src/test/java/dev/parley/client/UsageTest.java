package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.RecordingModel;
import dev.parley.protocol.Json;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.UsageResponse.UsageDay;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Daily usage (SPEC §5 {@code GET /api/usage/daily}, §4.1): the server's figures when signed in and online, the same
 * figures counted on this device when signed out or offline — a failed message counting nothing, and a message that
 * failed and was tried again counting once. Server and client run on a clock from the last noon (UTC), so that
 * what a test writes falls on one date.
 */
class UsageTest {
    private static final String EMAIL = "ada@example.com";
    private static final String PASSWORD = "correct horse battery";

    @TempDir
    Path dir;

    final RecordingModel model = new RecordingModel();
    final Clock clock = Backend.fromLastNoon();
    LocalDate today;
    Backend backend;
    ChatClient device;

    @BeforeEach
    void start() throws Exception {
        today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        backend = new Backend(dir, b -> b.modelProvider(model).clock(clock));
        device = ChatClient.open(backend.config("device", backend.proxy, clock));
    }

    @AfterEach
    void stop() throws Exception {
        device.close();
        backend.close();
    }

    @Test
    void signedInUsageIsWhatTheServerStoredForTheAccount() throws Exception {
        device.signUp(EMAIL, PASSWORD);
        chatWithAFailureAndARetry();

        UsageReport report = device.usage(today.minusDays(7), today);

        assertThat(report.source()).isEqualTo(UsageReport.Source.SERVER);
        assertThat(report.days()).isEqualTo(serverDays(device.account().orElseThrow().userId()));
        UsageDay day = report.days().get(0);
        assertThat(report.days()).hasSize(1);
        assertThat(day.date()).isEqualTo(today);
        assertThat(day.messagesSent()).as("the retried message once, the failed try not at all").isEqualTo(3);
        assertThat(day.messagesReceived()).isEqualTo(3);
        assertThat(day.modelsUsed())
                .isEqualTo(Map.of(ModelsResponse.LOCAL_MODEL_ID, 4L, RecordingModel.OTHER_MODEL, 2L));
        assertThat(day.sessionsCreated()).isEqualTo(2);
        assertThat(day.generationMs()).isEqualTo(3 * RecordingModel.ELAPSED_MS);
    }

    @Test
    void withTheServerUnreachableUsageIsCountedOnThisDeviceAndAgreesWithTheServer() throws Exception {
        device.signUp(EMAIL, PASSWORD);
        chatWithAFailureAndARetry();
        Backend.await(java.time.Duration.ofSeconds(20), "the outbox to drain", () -> device.syncStatus().unsent() == 0);
        List<UsageDay> stored = serverDays(device.account().orElseThrow().userId());
        backend.proxy.mode(Mode.DOWN);

        UsageReport offline = device.usage(today.minusDays(7), today);
        device.signOut();
        UsageReport signedOut = device.usage(today.minusDays(7), today);

        assertThat(offline.source()).isEqualTo(UsageReport.Source.THIS_DEVICE);
        assertThat(offline.days()).isEqualTo(stored).isNotEmpty();
        assertThat(signedOut.source()).isEqualTo(UsageReport.Source.THIS_DEVICE);
        assertThat(signedOut.days()).as("the account's conversations are hidden once it signed out").isEmpty();
    }

    @Test
    void signedOutUsageCountsThisDevicesAnsweredMessagesOnceEach() throws Exception {
        LocalSession session = device.newSession("Trip");
        Exchange.Outcome one = send(session, "Three things to pack for Lisbon?");
        model.failNext(1);
        Exchange.Outcome failed = send(session, "And for Porto?");
        model.failNext(1);
        Exchange.Outcome firstTry = send(session, "And for Faro?");
        Exchange.Outcome retried = device.retry(firstTry.userMessage().id()).outcome().get(20, TimeUnit.SECONDS);
        assertThat(failed.userMessage().failed()).isTrue();
        assertThat(firstTry.userMessage().failed()).isTrue();
        assertThat(retried.reply()).isNotNull();

        UsageReport report = device.usage(today, today);

        long input = one.userMessage().message().inputTokens() + retried.userMessage().message().inputTokens();
        long output = one.reply().message().outputTokens() + retried.reply().message().outputTokens();
        assertThat(input).isPositive();
        assertThat(report.source()).isEqualTo(UsageReport.Source.THIS_DEVICE);
        assertThat(report.days()).containsExactly(new UsageDay(today, 2, 2, input, output, input + output,
                Map.of(ModelsResponse.LOCAL_MODEL_ID, 4L), 1,
                one.reply().message().elapsedMs() + retried.reply().message().elapsedMs()));
        assertThat(device.usage(today.minusDays(30), today.minusDays(1)).days()).isEmpty();
    }

    @Test
    void aPeriodEndingBeforeItStartsIsRefused() {
        assertThatThrownBy(() -> device.usage(today, today.minusDays(1)))
                .isInstanceOfSatisfying(ClientException.class, e -> assertThat(e.code()).isEqualTo("bad_request"));
    }

    /**
     * Two conversations: one answered message; one that fails at the model and is answered when tried again; one
     * answered by the other model.
     */
    private void chatWithAFailureAndARetry() throws Exception {
        LocalSession trip = device.newSession("Trip");
        send(trip, "Three things to pack for Lisbon?");
        model.failNext(1);
        Exchange.Outcome failed = send(trip, "And for Porto?");
        assertThat(failed.userMessage().failed()).isTrue();
        assertThat(device.retry(failed.userMessage().id()).outcome().get(20, TimeUnit.SECONDS).reply()).isNotNull();
        LocalSession bread = device.newSession("Sourdough");
        device.send(bread.id(), "How long should it proof?", RecordingModel.OTHER_MODEL).outcome()
                .get(20, TimeUnit.SECONDS);
    }

    private Exchange.Outcome send(LocalSession session, String text) throws Exception {
        return device.send(session.id(), text, null).outcome().get(20, TimeUnit.SECONDS);
    }

    /** The account's rows of {@code user_usage_daily}, as stored by the server's triggers. */
    private List<UsageDay> serverDays(String userId) throws Exception {
        List<UsageDay> days = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(backend.dbUrl);
             PreparedStatement ps = c.prepareStatement("SELECT usage_date, messages_sent, messages_received,"
                     + " input_tokens, output_tokens, total_tokens, models_used, sessions_created, generation_ms"
                     + " FROM user_usage_daily WHERE user_id = ? ORDER BY usage_date")) {
            ps.setString(1, userId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    days.add(new UsageDay(LocalDate.parse(rs.getString(1)), rs.getLong(2), rs.getLong(3),
                            rs.getLong(4), rs.getLong(5), rs.getLong(6), Json.newMapper().readValue(rs.getString(7),
                            new TypeReference<TreeMap<String, Long>>() { }), rs.getLong(8), rs.getLong(9)));
                }
            }
        }
        return days;
    }
}
