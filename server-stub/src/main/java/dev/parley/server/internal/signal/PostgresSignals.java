package dev.parley.server.internal.signal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ChangeSignals} for PostgreSQL: an announcement is a {@code NOTIFY} sent with the caller's transaction, so
 * other processes hear it at commit; one connection of this process {@code LISTEN}s and wakes the topic's
 * watchers. Every watcher is also woken each {@code fallback} interval, so a notification missed while the
 * listening connection was being re-opened delays a change, never loses it.
 */
public final class PostgresSignals implements ChangeSignals {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresSignals.class);
    static final String CHANNEL = "parley_changes";

    /** Opens a connection outside the pool, held for as long as this listens. */
    @FunctionalInterface
    public interface ConnectionSource {
        Connection open() throws SQLException;
    }

    private final Watchers watchers = new Watchers();
    private final ConnectionSource connections;
    private final Duration fallback;
    private final Thread listener;
    private volatile boolean closed;

    public PostgresSignals(ConnectionSource connections, Duration fallback) {
        this.connections = connections;
        this.fallback = fallback;
        this.listener = new Thread(this::listen, "parley-signals-listen");
        listener.setDaemon(true);
        listener.start();
    }

    @Override
    public void announce(Connection c, String topic) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify('" + CHANNEL + "', ?)")) {
            ps.setString(1, topic);
            ps.execute();
        }
    }

    @Override
    public Watch watch(String topic, Runnable onWake) {
        return watchers.add(topic, onWake);
    }

    private void listen() {
        while (!closed) {
            try (Connection c = connections.open()) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                watchers.wakeAll(); // whatever happened while no one listened
                PGConnection pg = c.unwrap(PGConnection.class);
                long nextFallback = System.nanoTime() + fallback.toNanos();
                while (!closed) {
                    PGNotification[] notifications = pg.getNotifications(100);
                    if (notifications != null) {
                        for (PGNotification n : notifications) {
                            watchers.wake(n.getParameter());
                        }
                    }
                    if (System.nanoTime() - nextFallback >= 0) {
                        watchers.wakeAll();
                        nextFallback = System.nanoTime() + fallback.toNanos();
                    }
                }
            } catch (SQLException e) {
                if (closed) {
                    return;
                }
                LOG.warn("listening for changes failed; retrying in {} ms: {}", fallback.toMillis(), e.getMessage());
                watchers.wakeAll();
                try {
                    Thread.sleep(fallback.toMillis());
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        listener.interrupt();
        try {
            listener.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
