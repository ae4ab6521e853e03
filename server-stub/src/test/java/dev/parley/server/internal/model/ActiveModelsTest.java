package dev.parley.server.internal.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.server.ModelProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The providers of a running server, swapped while exchanges hold them. */
class ActiveModelsTest {

    private static ModelProvider provider() {
        return new LocalModelProvider(Duration.ZERO, 0.0, new Random());
    }

    @Test
    void aReplacedProviderIsHandedBackOnlyOnceItsLastLeaseEnds() {
        ModelProvider first = provider();
        ModelProvider next = provider();
        ActiveModels models = new ActiveModels(first);
        ActiveModels.Lease a = models.lease();
        ActiveModels.Lease b = models.lease();

        CompletableFuture<ModelProvider> handedBack = models.use(next);
        ActiveModels.Lease later = models.lease();

        assertThat(a.provider()).isSameAs(first);
        assertThat(later.provider()).isSameAs(next);
        assertThat(models.current()).isSameAs(next);
        a.release();
        a.release(); // a second release of the same lease counts nothing
        later.release();
        assertThat(handedBack).isNotDone();
        b.release();
        assertThat(handedBack).isCompletedWithValue(first);
    }

    @Test
    void aProviderWithoutLeasesIsHandedBackAtOnceAndTheOneInUseCannotBeGivenAgain() {
        ModelProvider first = provider();
        ActiveModels models = new ActiveModels(first);

        assertThatThrownBy(() -> models.use(first)).isInstanceOf(IllegalArgumentException.class);
        assertThat(models.use(provider())).isCompletedWithValue(first);
    }

    /**
     * Threads take and release leases while the main thread swaps providers: every replaced provider is handed back
     * once, and never while a lease on it is still held.
     */
    @Test
    void underConcurrentLeasesEachProviderIsHandedBackOnceAndOnlyWhenUnused() throws Exception {
        ModelProvider initial = provider();
        ActiveModels models = new ActiveModels(initial);
        Map<ModelProvider, AtomicInteger> held = new ConcurrentHashMap<>();
        held.put(initial, new AtomicInteger());
        List<String> violations = new CopyOnWriteArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        CountDownLatch started = new CountDownLatch(4);
        for (int t = 0; t < 4; t++) {
            threads.execute(() -> {
                started.countDown();
                while (running.get()) {
                    ActiveModels.Lease lease = models.lease();
                    AtomicInteger count = held.get(lease.provider());
                    count.incrementAndGet();
                    Thread.onSpinWait();
                    count.decrementAndGet();
                    lease.release();
                }
            });
        }
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<ModelProvider>> handedBack = new ArrayList<>();
        List<ModelProvider> replaced = new ArrayList<>();
        ModelProvider current = initial;
        for (int swap = 0; swap < 200; swap++) {
            ModelProvider next = provider();
            held.put(next, new AtomicInteger());
            ModelProvider previous = current;
            CompletableFuture<ModelProvider> future = models.use(next);
            future.thenAccept(p -> {
                if (p != previous) {
                    violations.add("handed back another provider");
                } else if (held.get(p).get() != 0) {
                    violations.add("handed back while held");
                }
            });
            handedBack.add(future);
            replaced.add(previous);
            current = next;
        }
        running.set(false);
        threads.shutdown();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

        CompletableFuture.allOf(handedBack.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        for (int i = 0; i < replaced.size(); i++) {
            assertThat(handedBack.get(i).join()).isSameAs(replaced.get(i));
        }
        assertThat(violations).isEmpty();
    }
}
