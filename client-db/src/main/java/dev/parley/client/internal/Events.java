package dev.parley.client.internal;

import dev.parley.client.ChatListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers listener callbacks in order on one thread of their own, {@code parley-events}, so no caller ever runs
 * listener code.
 */
public final class Events implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Events.class);

    private final List<ChatListener> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "parley-events");
        t.setDaemon(true);
        return t;
    });

    public void add(ChatListener listener) {
        listeners.add(listener);
    }

    public void remove(ChatListener listener) {
        listeners.remove(listener);
    }

    public void fire(Consumer<ChatListener> event) {
        if (thread.isShutdown()) {
            return;
        }
        thread.execute(() -> {
            for (ChatListener listener : listeners) {
                try {
                    event.accept(listener);
                } catch (RuntimeException e) {
                    LOG.warn("a listener failed", e);
                }
            }
        });
    }

    /** Tells every listener what one local commit changed. */
    public void changed(dev.parley.client.LocalChange change) {
        fire(l -> l.changed(change));
    }

    /** Runs {@code work} on the event thread, in order with every callback (an exchange's own listeners). */
    public void execute(Runnable work) {
        if (thread.isShutdown()) {
            return;
        }
        thread.execute(() -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                LOG.warn("a listener failed", e);
            }
        });
    }

    /** Computes a value on the event thread, at delivery time, and hands the same value to every listener. */
    public <T> void fireComputed(java.util.function.Supplier<T> value, java.util.function.BiConsumer<ChatListener, T> event) {
        if (thread.isShutdown()) {
            return;
        }
        thread.execute(() -> {
            T current;
            try {
                current = value.get();
            } catch (RuntimeException e) {
                LOG.debug("event value not available: {}", e.getMessage());
                return;
            }
            for (ChatListener listener : listeners) {
                try {
                    event.accept(listener, current);
                } catch (RuntimeException e) {
                    LOG.warn("a listener failed", e);
                }
            }
        });
    }

    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
