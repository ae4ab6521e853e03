package dev.parley.server.internal.signal;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The watches of one {@link ChangeSignals}, by topic. Thread-safe. */
final class Watchers {
    private static final Logger LOG = LoggerFactory.getLogger(Watchers.class);

    private final Map<String, Set<Runnable>> byTopic = new ConcurrentHashMap<>();

    ChangeSignals.Watch add(String topic, Runnable onWake) {
        byTopic.computeIfAbsent(topic, t -> ConcurrentHashMap.newKeySet()).add(onWake);
        return () -> byTopic.computeIfPresent(topic, (t, set) -> {
            set.remove(onWake);
            return set.isEmpty() ? null : set;
        });
    }

    void wake(String topic) {
        Set<Runnable> watchers = byTopic.get(topic);
        if (watchers != null) {
            watchers.forEach(Watchers::run);
        }
    }

    void wakeAll() {
        byTopic.values().forEach(set -> set.forEach(Watchers::run));
    }

    private static void run(Runnable onWake) {
        try {
            onWake.run();
        } catch (RuntimeException e) {
            LOG.warn("a change watcher failed; it stays registered", e);
        }
    }
}
