package dev.parley.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The streams of a scenario that failed: how many, and one example of each kind for the report. Thread-safe. */
final class FailedStreams {
    private final ConcurrentHashMap<String, String> examples = new ConcurrentHashMap<>();
    private final AtomicLong count = new AtomicLong();

    void add(String problem) {
        count.incrementAndGet();
        examples.putIfAbsent(problem.length() > 60 ? problem.substring(0, 60) : problem, problem);
    }

    long count() {
        return count.get();
    }

    /** Notes one example of each kind of failure. */
    void report(Report report) {
        examples.forEach((kind, example) -> report.note("error: %s", example));
    }
}
