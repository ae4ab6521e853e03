package dev.parley.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Counts a server's threads in a JVM it shares with the bench: every live thread that existed neither when the
 * census began (the JVM's own, the bench's) nor is the client's, by a predicate the scenario gives. Thread-safe.
 */
final class ThreadCensus {
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Set<Long> before = new HashSet<>();
    private final Predicate<ThreadInfo> client;

    /** Takes every thread alive now as not the server's; {@code client} tells the client's threads apart. */
    ThreadCensus(Predicate<ThreadInfo> client) {
        this.client = client;
        for (long id : threads.getAllThreadIds()) {
            before.add(id);
        }
    }

    /** Leaves a thread started later, such as a sampler of the bench's own, out of the count. */
    synchronized void exclude(long threadId) {
        before.add(threadId);
    }

    /** The server's live threads now. */
    int count() {
        return count(null);
    }

    /** The server's live threads now, and by name pattern and state into {@code byKind} when it is given. */
    synchronized int count(Map<String, Integer> byKind) {
        int count = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null || before.contains(info.getThreadId()) || client.test(info)) {
                continue;
            }
            count++;
            if (byKind != null) {
                String name = info.getThreadName();
                String kind = name.substring(0, name.contains("@") ? name.indexOf('@') : name.length())
                        .replaceAll("\\d+", "N");
                byKind.merge(kind + " (" + info.getThreadState().name().toLowerCase(Locale.ROOT) + ")", 1,
                        Integer::sum);
            }
        }
        return count;
    }

    /** The server's threads now, by name pattern and state, as a report line. */
    String describe() {
        Map<String, Integer> byKind = new TreeMap<>();
        count(byKind);
        return byKind.entrySet().stream().map(e -> e.getKey() + " ×" + e.getValue())
                .collect(Collectors.joining(", "));
    }
}
