package dev.parley.server.testing;

import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.internal.model.LocalModelProvider;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local model with a script: counts calls, can fail the next calls with given errors, and can hold calls at a
 * gate until the test opens it (to make requests overlap).
 */
public final class ScriptedModel implements ModelProvider {
    private final LocalModelProvider local = new LocalModelProvider(Duration.ZERO, 0.0, new Random(1));
    private final AtomicInteger calls = new AtomicInteger();
    private final Queue<ModelException> failures = new ConcurrentLinkedQueue<>();
    private volatile CountDownLatch gate;
    private volatile CountDownLatch entered = new CountDownLatch(1);
    private volatile Runnable duringCall = () -> { };

    /** Calls of {@link #complete} so far. */
    public int calls() {
        return calls.get();
    }

    /** The next calls fail with these, in order. */
    public void failNext(ModelException... errors) {
        failures.addAll(List.of(errors));
    }

    /** Holds every call until {@link #openGate()}; {@link #awaitEntered()} returns once a call is held. */
    public void closeGate() {
        gate = new CountDownLatch(1);
        entered = new CountDownLatch(1);
    }

    public void openGate() {
        CountDownLatch current = gate;
        gate = null;
        if (current != null) {
            current.countDown();
        }
    }

    public void awaitEntered() throws InterruptedException {
        if (!entered.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("no model call arrived");
        }
    }

    /** Runs {@code action} inside the next calls, after the model answered (e.g. to break the database). */
    public void duringCall(Runnable action) {
        duringCall = action;
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
        entered.countDown();
        CountDownLatch current = gate;
        if (current != null) {
            try {
                if (!current.await(60, TimeUnit.SECONDS)) {
                    throw new AssertionError("gate never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        ModelException failure = failures.poll();
        if (failure != null) {
            throw failure;
        }
        Completion completion = local.complete(request);
        duringCall.run();
        return completion;
    }
}
