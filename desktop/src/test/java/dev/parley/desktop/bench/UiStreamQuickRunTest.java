package dev.parley.desktop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testfx.api.FxToolkit;

/**
 * The {@code ui-stream} benchmark at its quick size, headless like every window test: it streams the whole reply
 * through the real window and prints a RESULT line with every field. Checks what must hold at any size, never a
 * timing target.
 */
class UiStreamQuickRunTest {
    private static final List<String> FIELDS = List.of("pieces", "chars", "renders", "render_p50_us",
            "render_p95_us", "layout_p95_us", "per_delta_us", "per_delta_p95_us", "fx_busy_pct", "fx_busy_max_1s_pct");

    @TempDir
    Path dir;

    @BeforeAll
    static void toolkit() throws Exception {
        FxToolkit.registerPrimaryStage();
    }

    @Test
    void quickRunStreamsTheWholeReplyAndPrintsEveryResultField() throws Exception {
        StringWriter printed = new StringWriter();

        Map<String, String> returned = UiStream.measure(UiStream.Size.QUICK, dir, new PrintWriter(printed, true));
        System.out.print(printed); // the table, in the test's output file

        List<String> results = printed.toString().lines().filter(l -> l.startsWith("RESULT ")).toList();
        assertThat(results).as("one RESULT line, in:%n%s", printed).hasSize(1);
        String[] words = results.get(0).split(" ");
        assertThat(words[1]).isEqualTo("ui-stream");
        Map<String, Double> fields = new LinkedHashMap<>();
        for (int i = 2; i < words.length; i++) {
            String[] pair = words[i].split("=", 2);
            assertThat(pair).as("key=value: %s", words[i]).hasSize(2);
            fields.put(pair[0], Double.parseDouble(pair[1]));
        }
        assertThat(fields.keySet()).containsExactlyElementsOf(FIELDS);
        assertThat(returned.keySet()).containsExactlyElementsOf(FIELDS);
        assertThat(fields.values()).allSatisfy(v -> assertThat(v).isFinite().isNotNegative());

        assertThat(fields.get("pieces")).isEqualTo(UiStream.Size.QUICK.pieces());
        assertThat(fields.get("chars")).isEqualTo(UiStream.Size.QUICK.chars());
        // Renders are pulses, at most 60 a second: fewer than the 100 pieces a second.
        assertThat(fields.get("renders")).isPositive().isLessThanOrEqualTo(fields.get("pieces"));
        assertThat(fields.get("render_p50_us")).isPositive().isLessThanOrEqualTo(fields.get("render_p95_us"));
        assertThat(fields.get("layout_p95_us")).isPositive();
        assertThat(fields.get("per_delta_us")).isPositive();
        assertThat(fields.get("per_delta_p95_us")).isPositive();
        assertThat(fields.get("fx_busy_pct")).isPositive().isLessThanOrEqualTo(100);
        assertThat(fields.get("fx_busy_max_1s_pct")).isPositive().isLessThanOrEqualTo(100);
    }
}
