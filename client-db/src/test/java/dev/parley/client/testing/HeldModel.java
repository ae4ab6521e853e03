package dev.parley.client.testing;

import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.internal.model.LocalModelProvider;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local model, holding every call until the test {@link #release releases} it, so that a test acts while an
 * exchange is in flight on the server. A test may also run an action inside each call. Thread-safe.
 */
public final class HeldModel implements ModelProvider {
    private final LocalModelProvider local = new LocalModelProvider(Duration.ZERO, 0.0, new Random(1));
    private final Semaphore arrived = new Semaphore(0);
    private final AtomicInteger calls = new AtomicInteger();
    private final CountDownLatch released;
    private volatile Runnable duringCall = () -> { };

    private HeldModel(boolean held) {
        this.released = new CountDownLatch(held ? 1 : 0);
    }

    /** Calls wait inside the model until {@link #release()}. */
    public static HeldModel held() {
        return new HeldModel(true);
    }

    /** Calls answer at once, after the action of {@link #duringCall}. */
    public static HeldModel answering() {
        return new HeldModel(false);
    }

    /** Runs {@code action} inside every call, before it answers. */
    public void duringCall(Runnable action) {
        this.duringCall = action;
    }

    /** Waits until a call has reached the model; fails the test after 20 s. */
    public void awaitCall() throws InterruptedException {
        if (!arrived.tryAcquire(20, TimeUnit.SECONDS)) {
            throw new AssertionError("no call reached the model");
        }
    }

    /** Calls of the model so far. */
    public int calls() {
        return calls.get();
    }

    /** Lets every call waiting now, and every later one, answer. */
    public void release() {
        released.countDown();
    }

    @Override
    public List<ModelInfo> models() {
        return local.models();
    }

    @Override
    public String defaultModel() {
        return local.defaultModel();
    }

    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        calls.incrementAndGet();
        arrived.release();
        duringCall.run();
        try {
            if (!released.await(60, TimeUnit.SECONDS)) {
                throw new AssertionError("the test never released the model");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while held", e);
        }
        return local.complete(request);
    }
}
