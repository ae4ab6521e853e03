package dev.parley.server.internal.signal;

import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@link ChangeSignals} for SQLite, whose processes share only the file: announcing is free, and every watcher is
 * woken each {@code interval} to re-read what it watches (a cheap indexed read). A change therefore reaches other
 * processes at most one interval after its commit.
 */
public final class PollingSignals implements ChangeSignals {
    private final Watchers watchers = new Watchers();
    private final ScheduledExecutorService timer;

    public PollingSignals(Duration interval) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parley-signals-poll");
            t.setDaemon(true);
            return t;
        });
        long millis = interval.toMillis();
        timer.scheduleWithFixedDelay(watchers::wakeAll, millis, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void announce(Connection c, String topic) {
        // The watchers of every process poll; the committed row is the announcement.
    }

    @Override
    public Watch watch(String topic, Runnable onWake) {
        return watchers.add(topic, onWake);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
