package dev.parley.server.internal.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.server.internal.store.UserRepository.UserRow;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which database errors {@link Database} retries, and a real deadlock that ends in two committed transactions. */
class DatabaseRetryTest {
    @TempDir
    Path dir;

    @Test
    void lockConflictsDeadlocksAndBrokenConnectionsAreTransient() {
        assertThat(Database.isTransient(new SQLException("could not serialize access", "40001"))).isTrue();
        assertThat(Database.isTransient(new SQLException("deadlock detected", "40P01"))).isTrue();
        assertThat(Database.isTransient(new SQLException("An I/O error occurred", "08006"))).isTrue();
        assertThat(Database.isTransient(new SQLException("terminating connection", "57P01"))).isTrue();
        assertThat(Database.isTransient(new SQLException("[SQLITE_BUSY] database is locked"))).isTrue();
    }

    @Test
    void refusedRowsAndAnExhaustedPoolAreNotRetried() {
        assertThat(Database.isTransient(new SQLException("duplicate key value", "23505"))).isFalse();
        assertThat(Database.isTransient(new SQLException("relation does not exist", "42P01"))).isFalse();
        assertThat(Database.isTransient(new SQLException("disk full", "P0001"))).isFalse();
        assertThat(Database.isTransient(new SQLTransientConnectionException("pool timeout", "08001"))).isFalse();
    }

    /**
     * Two transactions lock two users' rows in opposite orders. On PostgreSQL each takes its first row and waits
     * until the other holds its own, so that both then ask for a row the other holds: a deadlock, in which the
     * database aborts one, which runs again and commits. On SQLite writers begin IMMEDIATE: the second cannot begin
     * before the first commits, so neither runs twice.
     */
    @Test
    void transactionsThatDeadlockBothCommit() throws Exception {
        try (Database db = Database.open(TestDatabases.urlFor(dir), 4)) {
            UserRepository users = new UserRepository(db.dialect());
            String a = TestIds.next();
            String b = TestIds.next();
            db.inTransaction(c -> users.insert(c, new UserRow(a, "a@example.com", "x"), Instant.now())
                    && users.insert(c, new UserRow(b, "b@example.com", "x"), Instant.now()));
            CountDownLatch firstLocks = new CountDownLatch(2);
            AtomicInteger runs = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                boolean interleave = db.dialect() == Dialect.POSTGRESQL;
                Future<Integer> ab = pool.submit(() -> db.inTransaction(
                        c -> lockBoth(c, a, b, interleave, firstLocks, runs)));
                Future<Integer> ba = pool.submit(() -> db.inTransaction(
                        c -> lockBoth(c, b, a, interleave, firstLocks, runs)));

                assertThat(ab.get(60, TimeUnit.SECONDS)).isEqualTo(2);
                assertThat(ba.get(60, TimeUnit.SECONDS)).isEqualTo(2);
            } finally {
                pool.shutdownNow();
            }
            long bumps = db.read(c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT sum(change_seq) FROM users");
                     var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            assertThat(bumps).as("each committed transaction bumped both users once").isEqualTo(4);
            if (db.dialect() == Dialect.POSTGRESQL) {
                assertThat(runs.get()).as("one transaction was aborted by the deadlock and ran again").isEqualTo(3);
            } else {
                assertThat(runs.get()).as("the second began once the first had committed").isEqualTo(2);
            }
        }
    }

    /**
     * Bumps {@code first}'s row, then {@code second}'s. With {@code interleave}, waits between the two until the
     * other transaction holds its first row (on a retry it does already). The wait has a bound only so that a
     * broken test fails instead of hanging.
     */
    private static int lockBoth(Connection c, String first, String second, boolean interleave,
                                CountDownLatch firstLocks, AtomicInteger runs) throws SQLException {
        runs.incrementAndGet();
        int changed = bump(c, first);
        firstLocks.countDown();
        if (interleave) {
            try {
                if (!firstLocks.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the other transaction never took its first row");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted", e);
            }
        }
        return changed + bump(c, second);
    }

    private static int bump(Connection c, String userId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE users SET change_seq = change_seq + 1 WHERE id = ?")) {
            ps.setString(1, userId);
            return ps.executeUpdate();
        }
    }
}
