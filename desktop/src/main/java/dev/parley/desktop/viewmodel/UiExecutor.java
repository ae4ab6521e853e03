package dev.parley.desktop.viewmodel;

import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * The one way view models do work: {@code work} runs off the UI thread, then {@code onSuccess} or {@code onError}
 * runs on the UI thread. Tests use a synchronous implementation.
 */
public interface UiExecutor {

    <T> void run(Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError);

    /** Runs {@code action} on the UI thread (from any thread). */
    void onUi(Runnable action);
}
