package dev.parley.chaos;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counts the faults a chaos run injected, by kind. Thread-safe. */
public final class FaultLog {
    /** A connection reset as it was accepted: nothing reached the server. */
    public static final String RESET = "reset";
    /** A request cut part-way: the server never saw all of it. */
    public static final String CUT_BEFORE_REQUEST = "cut_before_request";
    /** A request that reached the server whose answer was swallowed: a lost acknowledgement. */
    public static final String LOST_ACK = "lost_ack";
    /** A delayed chunk, either way. */
    public static final String DELAY = "delay";
    /** A device's network down for a while. */
    public static final String OFFLINE = "offline_period";
    /** The server stopped and started again on the same database and port. */
    public static final String SERVER_RESTART = "server_restart";
    /** A device process killed with SIGKILL. */
    public static final String CRASH = "client_crash";
    /** A model call that failed on purpose. */
    public static final String MODEL_FAILURE = "model_failure";

    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    public void record(String kind) {
        counts.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    public long count(String kind) {
        LongAdder adder = counts.get(kind);
        return adder == null ? 0 : adder.sum();
    }

    public long total() {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** Counts by kind, sorted by name. */
    public Map<String, Long> snapshot() {
        Map<String, Long> sorted = new TreeMap<>();
        counts.forEach((kind, adder) -> sorted.put(kind, adder.sum()));
        return sorted;
    }
}
