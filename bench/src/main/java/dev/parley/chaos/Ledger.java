package dev.parley.chaos;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every user message a device reported as written (its local transaction committed), by id, with the device that
 * wrote it; and the unexpected errors the devices met. What the verification holds the server to. Thread-safe.
 */
public final class Ledger {
    private final Map<String, String> created = new ConcurrentHashMap<>();
    private final AtomicInteger unexpectedErrors = new AtomicInteger();
    private final Map<String, String> firstErrors = new ConcurrentHashMap<>();

    public void created(String messageId, String device) {
        created.put(messageId, device);
    }

    /** Message id to the device that wrote it. */
    public Map<String, String> created() {
        return Map.copyOf(created);
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
