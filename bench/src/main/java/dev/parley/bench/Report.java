package dev.parley.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a scenario prints: notes, one table, and the final {@code RESULT <scenario> key=value …} line that scripts
 * and the smoke tests read. Not thread-safe; one scenario owns it.
 */
final class Report {
    private final PrintWriter out;
    private final String scenario;
    private final List<String> header = new ArrayList<>();
    private final List<List<String>> rows = new ArrayList<>();
    private final Map<String, String> result = new LinkedHashMap<>();

    Report(PrintWriter out, String scenario) {
        this.out = out;
        this.scenario = scenario;
        note("%s on %d cores, Java %s, load average %s", scenario, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), loadAverage());
    }

    /** The 1, 5 and 15 minute load averages: other work on the machine skews every figure. */
    static String loadAverage() {
        try {
            String[] fields = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (java.io.IOException | RuntimeException e) {
            return String.format(Locale.ROOT, "%.2f",
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    /** A line of context printed at once (what is being set up, the environment). */
    void note(String format, Object... args) {
        out.println("# " + String.format(Locale.ROOT, format, args));
        out.flush();
    }

    /**
     * The verdict on a scenario's goal, printed at once as a note: {@code # goal <goal>: PASS (<measured>)}, or
     * {@code FAIL}. Scenarios that have a goal also put it in their RESULT line as {@code goal_met=1} or {@code 0}.
     */
    void goal(String goal, boolean met, String measured) {
        note("goal %s: %s (%s)", goal, met ? "PASS" : "FAIL", measured);
    }

    void columns(String... names) {
        header.clear();
        header.addAll(List.of(names));
    }

    void row(Object... cells) {
        List<String> row = new ArrayList<>();
        for (Object cell : cells) {
            row.add(format(cell));
        }
        rows.add(row);
    }

    Report result(String key, Object value) {
        result.put(key, format(value).replace(",", ""));
        return this;
    }

    /** Prints the table and the RESULT line. */
    void print() {
        note("load average at the end: %s", loadAverage());
        if (!header.isEmpty()) {
            int[] widths = new int[header.size()];
            for (int i = 0; i < widths.length; i++) {
                widths[i] = header.get(i).length();
                for (List<String> row : rows) {
                    widths[i] = Math.max(widths[i], i < row.size() ? row.get(i).length() : 0);
                }
            }
            out.println();
            out.println(line(header, widths));
            StringBuilder rule = new StringBuilder();
            for (int width : widths) {
                rule.append(rule.isEmpty() ? "" : "-+-").append("-".repeat(width));
            }
            out.println(rule);
            for (List<String> row : rows) {
                out.println(line(row, widths));
            }
            out.println();
        }
        StringBuilder line = new StringBuilder("RESULT ").append(scenario);
        result.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        out.println(line);
        out.flush();
    }

    private static String line(List<String> cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            String cell = i < cells.size() ? cells.get(i) : "";
            if (i > 0) {
                line.append(" | ");
            }
            String format = i == 0 ? "%-" + widths[i] + "s" : "%" + widths[i] + "s";
            line.append(String.format(format, cell));
        }
        return line.toString().stripTrailing();
    }

    static String format(Object value) {
        if (value instanceof Double d) {
            return Math.abs(d) >= 100 ? String.format(Locale.ROOT, "%,.0f", d)
                    : String.format(Locale.ROOT, "%.2f", d);
        }
        if (value instanceof Long || value instanceof Integer) {
            return String.format(Locale.ROOT, "%,d", ((Number) value).longValue());
        }
        return String.valueOf(value);
    }
}
