package dev.parley.desktop.viewmodel;

import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The UI thread of a view-model test is the test thread: work runs at once on it, and anything handed to the UI
 * from another thread waits in a queue until the test drains it. No window, no toolkit.
 */
final class QueuedUi implements UiExecutor {
    private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();

    @Override
    public <T> void run(Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError) {
        T result;
        try {
            result = work.call();
        } catch (Exception e) {
            onError.accept(e);
            return;
        }
        onSuccess.accept(result);
    }

    @Override
    public void onUi(Runnable action) {
        queue.add(action);
    }

    void drain() {
        for (Runnable action = queue.poll(); action != null; action = queue.poll()) {
            action.run();
        }
    }

    /** Drains the queue until {@code condition} holds; fails after {@code timeout}. */
    void await(Duration timeout, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            drain();
            if (condition.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}
