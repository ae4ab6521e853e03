package dev.parley.desktop;

import dev.parley.desktop.viewmodel.UiExecutor;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import javafx.application.Platform;

/** Runs work on a small pool of daemon threads and hands results back to the JavaFX thread. */
public final class FxUiExecutor implements UiExecutor, AutoCloseable {
    private final ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "parley-ui-work");
        t.setDaemon(true);
        return t;
    });

    /** Nothing once closed: the window the result was for is gone (a reply ending as the app closes asks for one). */
    @Override
    public <T> void run(Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError) {
        try {
            pool.execute(() -> {
                try {
                    T result = work.call();
                    Platform.runLater(() -> onSuccess.accept(result));
                } catch (Throwable e) {
                    Platform.runLater(() -> onError.accept(e));
                }
            });
        } catch (RejectedExecutionException closed) {
            // closed: see above
        }
    }

    @Override
    public void onUi(Runnable action) {
        if (Platform.isFxApplicationThread()) {
            action.run();
        } else {
            Platform.runLater(action);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
