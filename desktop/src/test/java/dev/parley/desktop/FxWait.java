package dev.parley.desktop;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.testfx.util.WaitForAsyncUtils;

/** Waiting for the window in UI tests: conditions polled with a deadline, reads done on the FX thread. */
final class FxWait {
    private FxWait() {
    }

    /** Waits up to 20 s (network round trips) for {@code condition}; on time-out fails naming what was expected. */
    static void await(String expectation, Callable<Boolean> condition) {
        await(expectation, 20, condition);
    }

    static void await(String expectation, int seconds, Callable<Boolean> condition) {
        try {
            WaitForAsyncUtils.waitFor(seconds, TimeUnit.SECONDS, condition);
        } catch (TimeoutException e) {
            throw new AssertionError("timed out waiting until " + expectation, e);
        }
        WaitForAsyncUtils.waitForFxEvents();
    }

    /** Reads {@code read} on the FX thread. */
    static <T> T fx(Callable<T> read) throws Exception {
        return WaitForAsyncUtils.asyncFx(read).get(10, TimeUnit.SECONDS);
    }
}
