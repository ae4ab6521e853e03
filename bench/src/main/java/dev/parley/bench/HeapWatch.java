package dev.parley.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Watches this JVM's heap during a run: the peak of heap in use (garbage included, sampled every few
 * milliseconds) and the peak left in use after a garbage collection (what the run really keeps alive). Thread-safe;
 * close it to stop watching.
 */
final class HeapWatch implements AutoCloseable {
    private static final long MIB = 1024 * 1024;

    private final AtomicLong peakUsed = new AtomicLong();
    private final AtomicLong peakAfterGc = new AtomicLong();
    private final Thread sampler;
    private final List<Runnable> unsubscribe = new ArrayList<>();
    private volatile boolean running = true;

    HeapWatch() {
        java.util.Set<String> heapPools = new java.util.HashSet<>();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPools.add(pool.getName());
            }
        }
        NotificationListener listener = (notification, handback) -> {
            if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                GarbageCollectionNotificationInfo info =
                        GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                long after = 0;
                for (var entry : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                    if (heapPools.contains(entry.getKey())) { // the map holds metaspace and code cache too
                        after += entry.getValue().getUsed();
                    }
                }
                peakAfterGc.accumulateAndGet(after, Math::max);
            }
        };
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                unsubscribe.add(() -> {
                    try {
                        emitter.removeNotificationListener(listener);
                    } catch (javax.management.ListenerNotFoundException e) {
                        // already gone
                    }
                });
            }
        }
        sampler = new Thread(() -> {
            while (running) {
                peakUsed.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                        Math::max);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "heap-watch");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** The most heap in use at once, garbage included, in MiB (sampled every 2 ms). */
    /** Heap in use right after a full collection, in MiB: what this JVM keeps alive now. */
    static double liveHeapMib() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        memory.gc();
        return memory.getHeapMemoryUsage().getUsed() / (double) MIB;
    }

    double peakUsedMib() {
        return peakUsed.get() / (double) MIB;
    }

    /** The most heap still in use right after a collection, in MiB (0 when no collection ran). */
    double peakLiveMib() {
        return peakAfterGc.get() / (double) MIB;
    }

    static double maxHeapMib() {
        return Runtime.getRuntime().maxMemory() / (double) MIB;
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
        unsubscribe.forEach(Runnable::run);
    }
}
