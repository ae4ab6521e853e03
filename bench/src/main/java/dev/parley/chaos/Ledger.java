package dev.parley.chaos;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Every user message a device reported as written (its local transaction committed), by id, with the device that
 * wrote it; the reply ids devices asked for when they regenerated a reply; every message a device sent as a
 * stream, with what its client saw ({@link StreamedExchange}); and the unexpected errors the devices met. What the verification holds the server to. It also counts the streams being
 * read from each server process now, so that restarts can be aimed at live generations. Thread-safe.
 */
public final class Ledger {
    /** Server processes whose live streams are counted. */
    static final int SERVERS = 2;

    private final Map<String, String> created = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> regenerated = new ConcurrentHashMap<>();
    private final AtomicInteger edited = new AtomicInteger();
    private final Queue<StreamedExchange> streamed = new ConcurrentLinkedQueue<>();
    private final AtomicIntegerArray streamingOn = new AtomicIntegerArray(SERVERS);
    private final AtomicInteger unexpectedErrors = new AtomicInteger();
    private final Map<String, String> firstErrors = new ConcurrentHashMap<>();

    public void created(String messageId, String device) {
        created.put(messageId, device);
    }

    /** Message id to the device that wrote it. */
    public Map<String, String> created() {
        return Map.copyOf(created);
    }

    /** A device edited a question: {@code messageId} is the new sibling message (also {@link #created}). */
    public void edited(String messageId, String device) {
        created(messageId, device);
        edited.incrementAndGet();
    }

    /** Questions edited so far. */
    public int edited() {
        return edited.get();
    }

    /** A device asked for another reply to {@code messageId}, under {@code replyId}. */
    public void regenerated(String messageId, String replyId) {
        regenerated.computeIfAbsent(messageId, id -> ConcurrentHashMap.newKeySet()).add(replyId);
    }

    /** User message id to the reply ids devices asked for when they regenerated its reply. */
    public Map<String, Set<String>> regenerated() {
        Map<String, Set<String>> copy = new HashMap<>();
        regenerated.forEach((id, replies) -> copy.put(id, Set.copyOf(replies)));
        return copy;
    }

    /** A message a device sent as a stream (recorded before the request goes out). */
    void streamed(StreamedExchange exchange) {
        streamed.add(exchange);
    }

    /** Every streamed message, in the order they were sent. */
    List<StreamedExchange> streamed() {
        return List.copyOf(streamed);
    }

    /** A stream whose generation runs on {@code server} began ({@code +1}) or stopped ({@code -1}) being read. */
    void streaming(int server, int change) {
        streamingOn.addAndGet(server, change);
    }

    /** Streams being read now whose generation runs on {@code server}. */
    int streamingOn(int server) {
        return streamingOn.get(server);
    }

    /** An exception the client API should not throw (anything but its documented {@code ClientException}). */
    public void unexpected(String device, Throwable e) {
        unexpectedErrors.incrementAndGet();
        firstErrors.putIfAbsent(e.getClass().getName() + ": " + e.getMessage(), device);
    }

    public int unexpectedErrors() {
        return unexpectedErrors.get();
    }

    /** Distinct unexpected errors with the device that met each first. */
    public Map<String, String> unexpectedErrorKinds() {
        return Map.copyOf(firstErrors);
    }
}
