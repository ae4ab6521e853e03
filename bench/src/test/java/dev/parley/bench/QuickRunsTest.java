package dev.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every scenario runs end to end at its {@code --quick} size and ends with a RESULT line carrying exactly its keys,
 * with the invariants that hold at any size. Speed is never checked here: that is what the full runs are for.
 */
class QuickRunsTest {
    @TempDir
    Path dir;

    @Test
    void pushSendsOnlyTheUnsentRowsWhateverTheHistory() {
        Map<String, Double> r = run("push-vs-history", "unsent", "rows_sent", "h0_ms", "hmax", "hmax_ms", "ratio",
                "baseline_rows", "baseline_ms");
        assertThat(r.get("unsent")).isEqualTo(10.0);
        assertThat(r.get("rows_sent")).isEqualTo(r.get("unsent"));
        assertThat(r.get("hmax")).isEqualTo(2_000.0);
        // The old way re-sends the whole store: the history, every unsent row measured, and the sessions.
        assertThat(r.get("baseline_rows")).isGreaterThan(r.get("hmax") + r.get("unsent"));
        assertThat(r.get("h0_ms")).isPositive();
        assertThat(r.get("hmax_ms")).isPositive();
    }

    @Test
    void enqueueTimesEveryMessageBesideTheFsyncFloor() {
        Map<String, Double> r = run("enqueue", "n", "p50_us", "p95_us", "p99_us", "fsync_p50_us", "fsync_p95_us");
        assertThat(r.get("n")).isEqualTo(50.0);
        assertThat(r.get("p50_us")).isPositive().isLessThanOrEqualTo(r.get("p95_us"));
        assertThat(r.get("p95_us")).isLessThanOrEqualTo(r.get("p99_us"));
        assertThat(r.get("fsync_p50_us")).isPositive().isLessThanOrEqualTo(r.get("fsync_p95_us"));
    }

    @Test
    void signInUploadCountsEveryMessageOnceWithinTheHeapCap() {
        Map<String, Double> r = run("signin-upload", "messages", "msgs_per_s", "heap_mb", "xmx_mb");
        assertThat(r.get("messages")).isEqualTo(200.0);
        assertThat(r.get("msgs_per_s")).isPositive();
        assertThat(r.get("xmx_mb")).isLessThanOrEqualTo(128.0);
        assertThat(r.get("heap_mb")).isPositive().isLessThanOrEqualTo(r.get("xmx_mb"));
    }

    @Test
    void historyDownloadStoresEveryMessage() {
        Map<String, Double> r = run("history-download", "messages", "msgs_per_s");
        assertThat(r.get("messages")).isEqualTo(200.0);
        assertThat(r.get("msgs_per_s")).isPositive();
    }

    @Test
    void chatThroughputHasNoErrors() {
        Map<String, Double> r = run("chat-throughput", "req_per_s", "p50_ms", "p99_ms", "errors");
        assertThat(r.get("errors")).isZero();
        assertThat(r.get("req_per_s")).isPositive();
        assertThat(r.get("p50_ms")).isLessThanOrEqualTo(r.get("p99_ms"));
    }

    @Test
    void triggerCostComparesBothVariants() {
        Map<String, Double> r = run("trigger-cost", "delta_ms", "recompute_ms", "ratio");
        assertThat(r.get("delta_ms")).isPositive();
        assertThat(r.get("recompute_ms")).isPositive();
    }

    @Test
    void streamedRepliesEndWithTheirWholeTextOnBothProcesses() {
        Map<String, Double> r = run("stream-latency", "first_delta_overhead_p50_ms", "first_delta_overhead_p95_ms",
                "reattach_delta_p50_ms", "reattach_delta_p95_ms", "errors");
        assertThat(r.get("errors")).isZero();
        assertThat(r.get("first_delta_overhead_p50_ms")).isLessThanOrEqualTo(r.get("first_delta_overhead_p95_ms"));
        // A piece reaches the client on B after it was made on A: the clock is one, so this is never negative.
        assertThat(r.get("reattach_delta_p50_ms")).isPositive().isLessThanOrEqualTo(r.get("reattach_delta_p95_ms"));
    }

    @Test
    void everyConcurrentStreamCompletesWithItsStoredReply() {
        Map<String, Double> r = run("stream-capacity", "streams", "completed", "errors", "live_generations",
                "threads", "threads_idle", "heap_mb");
        assertThat(r.get("errors")).isZero();
        assertThat(r.get("completed")).isEqualTo(50.0);
        assertThat(r.get("streams")).isPositive().isLessThanOrEqualTo(50.0);
        assertThat(r.get("live_generations")).isPositive().isLessThanOrEqualTo(50.0);
        assertThat(r.get("threads")).isGreaterThanOrEqualTo(r.get("threads_idle"));
        assertThat(r.get("heap_mb")).isPositive();
    }

    @Test
    void everyCommitReachesTheOtherDeviceThroughTheOtherProcess() {
        Map<String, Double> r = run("live-latency", "samples", "missing", "p50_ms", "p95_ms");
        assertThat(r.get("samples")).isEqualTo(20.0);
        assertThat(r.get("missing")).isZero();
        assertThat(r.get("p50_ms")).isPositive().isLessThanOrEqualTo(r.get("p95_ms"));
    }

    @Test
    void everyIdleStreamStaysOpenAndHearsTheChange() {
        Map<String, Double> r = run("idle-connections", "connections", "errors", "threads", "threads_idle",
                "heap_mb", "kib_per_connection");
        assertThat(r.get("errors")).isZero();
        assertThat(r.get("connections")).isEqualTo(200.0);
        // No thread per stream: the server gains fewer threads than it holds streams.
        assertThat(r.get("threads") - r.get("threads_idle")).isLessThan(r.get("connections"));
        assertThat(r.get("heap_mb")).isPositive();
    }

    @Test
    void importAddsEveryMessageOnceThenNothingWithinTheHeapCap() {
        Map<String, Double> r = run("import", "messages", "conversations", "file_mb", "seconds", "msgs_per_s",
                "convs_per_s", "heap_mb", "xmx_mb", "reimport_added", "reimport_s", "goal_met");
        // The scenario itself checks the summary against what the generator wrote; here, the sizes and the cap.
        assertThat(r.get("messages")).isBetween(10_000.0, 10_100.0);
        assertThat(r.get("conversations")).isPositive();
        assertThat(r.get("reimport_added")).isZero();
        assertThat(r.get("xmx_mb")).isLessThanOrEqualTo(256.0);
        assertThat(r.get("heap_mb")).isPositive().isLessThanOrEqualTo(r.get("xmx_mb"));
        assertThat(r.get("msgs_per_s")).isPositive();
    }

    /** Runs a scenario with --quick and returns its RESULT values, checking that it has exactly {@code keys}. */
    private Map<String, Double> run(String scenario, String... keys) {
        StringWriter text = new StringWriter();
        int exit = Main.run(new PrintWriter(text, true), scenario, "--quick", "--work-dir",
                dir.resolve(scenario).toString());
        String output = text.toString();
        assertThat(exit).as(output).isZero();
        List<String> lines = output.lines().toList();
        String last = lines.get(lines.size() - 1);
        assertThat(last).as(output).startsWith("RESULT " + scenario + " ");
        Map<String, Double> values = new LinkedHashMap<>();
        for (String pair : last.substring(("RESULT " + scenario + " ").length()).split(" ")) {
            String[] kv = pair.split("=", 2);
            values.put(kv[0], Double.parseDouble(kv[1]));
        }
        assertThat(values.keySet()).containsExactly(keys);
        assertThat(Arrays.stream(keys)).allSatisfy(k -> assertThat(values.get(k)).isFinite());
        return values;
    }
}
