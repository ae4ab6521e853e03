package dev.parley.server.internal.signal;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The one channel between server processes that share a database: "something about this topic may have changed,
 * look again". A topic names what changed, such as {@code reply:<messageId>} (a reply being generated, SPEC §5.3)
 * or {@code user:<userId>} (a user's rows, §5.5). A signal carries no data and may be coalesced, repeated or come
 * late by up to the poll interval; a watcher always re-reads the database, which is the truth. Thread-safe. The
 * owner closes it, which ends every watch.
 */
public interface ChangeSignals extends AutoCloseable {

    /**
     * Announces, inside the caller's transaction, that {@code topic} changed. Watchers on every process wake once
     * the transaction commits; nothing is announced if it rolls back.
     */
    void announce(Connection c, String topic) throws SQLException;

    /**
     * Calls {@code onWake} whenever {@code topic} may have changed, on the signals' own thread: it must return
     * quickly (hand real work to another executor). Returns the watch, which its owner closes when done.
     */
    Watch watch(String topic, Runnable onWake);

    @Override
    void close();

    /** One watch; closing it stops its wakes. Idempotent. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }
}
