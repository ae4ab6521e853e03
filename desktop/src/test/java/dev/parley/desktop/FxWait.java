package dev.parley.desktop;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javafx.scene.Node;
import org.testfx.util.WaitForAsyncUtils;

/** Waiting for the window in UI tests: conditions polled with a deadline, reads done on the FX thread, what is on screen. */
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

    /** Whether {@code node} is on screen: it and every parent visible, in a window that is showing. FX thread. */
    static boolean showing(Node node) {
        for (Node n = node; n != null; n = n.getParent()) {
            if (!n.isVisible()) {
                return false;
            }
        }
        return node.getScene() != null && node.getScene().getWindow() != null
                && node.getScene().getWindow().isShowing();
    }

    /** Reads {@code read} on the FX thread. */
    static <T> T fx(Callable<T> read) throws Exception {
        return WaitForAsyncUtils.asyncFx(read).get(10, TimeUnit.SECONDS);
    }
}
