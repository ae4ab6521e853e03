package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short form of {@code ./parley chaos}: two minutes of faults with a fixed seed (-Dparley.chaos.seconds=N
 * changes the length), then the end checks. It must have done real work (messages written, every kind of fault
 * injected; replies streamed, streams dropped and re-attached, replies stopped, a server restarted while a stream
 * was read, cutting generations it held) and found nothing lost, doubled, miscounted, stuck or diverged.
 */
class ChaosRunTest {
    private static final long SEED = 20261126L;

    @TempDir
    Path dir;

    @Test
    void twoMinutesOfFaultsLoseNothingDuplicateNothingAndLeaveAnalyticsExact() throws Exception {
        long seconds = Long.getLong("parley.chaos.seconds", 120);
        ChaosReport report = new ChaosRun(new ChaosRun.Config(Duration.ofSeconds(seconds), SEED, null, dir),
                System.out::println).run();
        ChaosCommand.print(report);

        assertThat(report.messages()).as("messages written").isGreaterThan(100);
        assertThat(report.faultTotal()).as("faults injected").isGreaterThan(50);
        assertThat(report.faults()).as("every kind of fault").containsKeys(FaultLog.RESET, FaultLog.CUT_BEFORE_REQUEST,
                FaultLog.LOST_ACK, FaultLog.DELAY, FaultLog.OFFLINE, FaultLog.SERVER_RESTART, FaultLog.CRASH,
                FaultLog.MODEL_FAILURE);
        assertThat(report.crashesMidPush()).as("kills of the child-process device while it was pushing").isPositive();
        ChaosReport.Streams streams = report.streams();
        assertThat(streams.streams()).as("messages sent as streams").isGreaterThan(20);
        assertThat(streams.dropped()).as("streams that ended before their outcome").isPositive()
                .isLessThan(streams.streams());
        assertThat(streams.reattached()).as("re-attached streams").isPositive();
        assertThat(streams.stopped()).as("replies stopped").isPositive();
        assertThat(report.restartsMidStream()).as("server restarts while a stream of theirs was read").isPositive();
        assertThat(report.generationsCut()).as("generations a restart cut").isPositive();
        assertThat(streams.resent()).as("interrupted or failed streamed messages sent again").isPositive();
        assertThat(report.regenerated()).as("replies regenerated").isPositive();
        assertThat(report.edited()).as("questions edited").isPositive();
        // Live sync under the faults: the streams were cut and opened again, and every device holds one at the end.
        assertThat(report.liveConnects()).as("live change streams opened").isGreaterThan(report.devices());
        assertThat(report.notLive()).as("signed-in devices not live after the faults").isZero();
        assertThat(report.details()).as("violations").isEmpty();
        assertThat(report.lost()).as("lost").isZero();
        assertThat(report.duplicated()).as("duplicated").isZero();
        assertThat(report.analyticsMismatches()).as("analytics mismatches").isZero();
        assertThat(report.stuck()).as("stuck").isZero();
        assertThat(report.diverged()).as("diverged").isZero();
        assertThat(report.unexpectedErrors()).as("unexpected client errors").isZero();
        assertThat(report.resultLine()).startsWith("RESULT chaos devices=5 messages=")
                .contains(" lost=0 duplicated=0 analytics_mismatches=0 stuck=0 streams=" + streams.streams() + " ")
                .endsWith(" dropped=" + streams.dropped() + " reattached=" + streams.reattached() + " stopped="
                        + streams.stopped() + " interrupted=" + streams.interrupted() + " regenerated="
                        + report.regenerated() + " edited=" + report.edited() + " live_connects="
                        + report.liveConnects() + " not_live=0");
    }
}
