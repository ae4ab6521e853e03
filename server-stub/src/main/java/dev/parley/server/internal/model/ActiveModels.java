package dev.parley.server.internal.model;

import dev.parley.server.ModelProvider;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The model provider a running server answers with, which can be replaced while it runs, and the providers it
 * replaced for as long as replies started on them are still being generated. An exchange takes a {@link Lease} on
 * the current provider before it looks at the model id, keeps that provider for its whole life (validation, the
 * model call, the stream), and releases the lease when its generation has ended and its outcome is stored, or at once
 * when it generates nothing (a replay, a refusal). {@link #use} makes another provider current for every lease
 * taken after it returns, and answers a future that completes with the replaced provider once its last lease is
 * released.
 *
 * <p>Thread-safe: one lock orders {@link #lease()}, {@link Lease#release()} and {@link #use}, so a lease is always
 * counted on the provider it holds, and a replaced provider's future completes exactly once, after its last lease
 * ended. Futures complete outside the lock, on the thread of the last release (or of {@link #use}). Owns no
 * provider: whoever made one closes it, the replaced ones once their futures complete.
 */
public final class ActiveModels {
    /** One provider as it was current: its running exchanges and, once replaced, when they are all done. */
    private static final class Slot {
        final ModelProvider provider;
        final CompletableFuture<ModelProvider> drained = new CompletableFuture<>();
        int leases; // guarded by the ActiveModels lock
        boolean replaced; // guarded by the ActiveModels lock

        Slot(ModelProvider provider) {
            this.provider = provider;
        }
    }

    /**
     * One exchange's hold on the provider it started with. {@link #release()} is idempotent, so every way an
     * exchange ends may release it. Thread-safe.
     */
    public final class Lease {
        private final Slot slot;
        private final AtomicBoolean released = new AtomicBoolean();

        private Lease(Slot slot) {
            this.slot = slot;
        }

        /** The provider this exchange asks, whichever is current by now. */
        public ModelProvider provider() {
            return slot.provider;
        }

        /** Ends the hold; the last one on a replaced provider completes its future. Idempotent. */
        public void release() {
            if (released.compareAndSet(false, true)) {
                boolean drained;
                synchronized (ActiveModels.this) {
                    slot.leases--;
                    drained = slot.replaced && slot.leases == 0;
                }
                if (drained) {
                    slot.drained.complete(slot.provider);
                }
            }
        }
    }

    private Slot current;

    /** @param initial the provider to answer with first; not owned */
    public ActiveModels(ModelProvider initial) {
        this.current = new Slot(Objects.requireNonNull(initial, "initial"));
    }

    /** The provider new exchanges use now: for the model list, say, which needs no lease. */
    public synchronized ModelProvider current() {
        return current.provider;
    }

    /** A hold on the current provider for one exchange; the caller releases it when the exchange ends. */
    public synchronized Lease lease() {
        current.leases++;
        return new Lease(current);
    }

    /**
     * Makes {@code next} the provider of every lease taken after this returns. Exchanges holding a lease on the
     * provider replaced go on with it.
     *
     * @return completes with the replaced provider once no lease on it is held any more (at once when none is)
     * @throws IllegalArgumentException when {@code next} is the current provider already, whose future would tell
     *                                  the caller to close a provider still in use
     */
    public CompletableFuture<ModelProvider> use(ModelProvider next) {
        Objects.requireNonNull(next, "next");
        Slot previous;
        boolean drained;
        synchronized (this) {
            if (current.provider == next) {
                throw new IllegalArgumentException("this provider is the one in use already");
            }
            previous = current;
            current = new Slot(next);
            previous.replaced = true;
            drained = previous.leases == 0;
        }
        if (drained) {
            previous.drained.complete(previous.provider);
        }
        return previous.drained.copy();
    }
}
