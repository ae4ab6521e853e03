package dev.parley.server.internal.chat;

import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.StreamStart;
import dev.parley.server.internal.ApiException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A reply as it is being written, in this process: the text so far and, once it ends, its outcome. On the process
 * generating it the model feeds it; on another process a mirror of the database row does (SPEC §5.3 re-attach);
 * streams and waiting requests read it the same way either way. Thread-safe: text only grows, and the outcome is
 * set once.
 */
public final class LiveReply {

    /** How an exchange ended: a stored (or, for a stop before any text, absent) reply, or a failure. */
    public sealed interface Outcome {
        /** The exchange's Chat response, as the {@code done} event and a JSON request carry it. */
        record Done(ChatResponse response) implements Outcome {
        }

        /** The failure, as the {@code error} event and a JSON request carry it; its {@code persisted} is set. */
        record Failed(ApiException error) implements Outcome {
        }
    }

    private final StreamStart start;
    private final StringBuilder text = new StringBuilder();
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    private final Set<Runnable> listeners = ConcurrentHashMap.newKeySet();

    public LiveReply(StreamStart start) {
        this.start = start;
    }

    /** The {@code start} event of this exchange; {@code null} for one of which nothing is known but its end. */
    public StreamStart start() {
        return start;
    }

    /** Appends a piece of the reply; ignored once the outcome is known. */
    public void append(String piece) {
        if (piece.isEmpty()) {
            return;
        }
        synchronized (this) {
            if (outcome.isDone()) {
                return;
            }
            text.append(piece);
        }
        notifyListeners();
    }

    /** The reply's length so far in UTF-16 code units: the offset of its next piece. */
    public synchronized int length() {
        return text.length();
    }

    /** The text from {@code offset} on (empty when there is none yet). */
    public synchronized String textFrom(int offset) {
        return offset >= text.length() ? "" : text.substring(Math.max(0, offset));
    }

    /** Sets the outcome if none is set yet; true when this call set it. */
    public boolean finish(Outcome result) {
        boolean first;
        synchronized (this) {
            first = outcome.complete(result);
        }
        if (first) {
            notifyListeners();
        }
        return first;
    }

    /** The outcome, or {@code null} while the reply is still being written. */
    public Outcome outcome() {
        return outcome.getNow(null);
    }

    /** A new future that completes with the outcome; completing it by hand changes nothing here. */
    public CompletableFuture<Outcome> finished() {
        return outcome.copy();
    }

    /**
     * Calls {@code onChange} after each change (more text, the outcome) on the thread that made it; it must
     * return quickly. Returns what removes it again.
     */
    public Runnable listen(Runnable onChange) {
        listeners.add(onChange);
        return () -> listeners.remove(onChange);
    }

    private void notifyListeners() {
        listeners.forEach(Runnable::run);
    }
}
