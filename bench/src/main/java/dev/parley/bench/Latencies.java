package dev.parley.bench;

import java.util.Arrays;

/** Samples of one measurement, in nanoseconds; percentiles by nearest rank. Not thread-safe. */
final class Latencies {
    private long[] samples = new long[1024];
    private int size;

    void add(long nanos) {
        if (size == samples.length) {
            samples = Arrays.copyOf(samples, size * 2);
        }
        samples[size++] = nanos;
    }

    void addAll(Latencies other) {
        for (int i = 0; i < other.size; i++) {
            add(other.samples[i]);
        }
    }

    int count() {
        return size;
    }

    /** The {@code p}-th percentile (0 < p ≤ 100), nearest rank. */
    long percentile(double p) {
        if (size == 0) {
            throw new IllegalStateException("no samples");
        }
        long[] sorted = Arrays.copyOf(samples, size);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * size);
        return sorted[Math.max(0, Math.min(size - 1, rank - 1))];
    }

    long median() {
        return percentile(50);
    }

    static double millis(long nanos) {
        return nanos / 1_000_000.0;
    }

    static double micros(long nanos) {
        return nanos / 1_000.0;
    }
}
