package dev.parley.client.internal;

import dev.parley.client.ClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;

/**
 * The local SQLite file: one connection, WAL with {@code synchronous=FULL} so that a committed write survives a
 * power cut, migrated by Flyway at open. Transactions are serialized by a lock; they are short. Thread-safe; the
 * owner closes it.
 */
public final class LocalDatabase implements AutoCloseable {
    private final Connection connection;
    private final ReentrantLock lock = new ReentrantLock();

    private LocalDatabase(Connection connection) {
        this.connection = connection;
    }

    public static LocalDatabase open(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            String url = "jdbc:sqlite:" + file.toAbsolutePath();
            Flyway.configure().dataSource(url, null, null).locations("classpath:db/client").load().migrate();
            SQLiteConfig config = new SQLiteConfig();
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
            config.enforceForeignKeys(true);
            config.setBusyTimeout(10_000);
            Connection connection = DriverManager.getConnection(url, config.toProperties());
            return new LocalDatabase(connection);
        } catch (SQLException | java.io.IOException | RuntimeException e) {
            throw new ClientException("storage", "Parley could not open its local database at " + file + ".", false, e);
        }
    }

    /** Runs {@code work} in one transaction: all of it commits, or none of it. */
    public <T> T inTransaction(Work<T> work) {
        lock.lock();
        try {
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (Throwable e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new ClientException("storage", "Parley could not read or write its local database.", false, e);
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code sql} outside a transaction (maintenance). */
    public void execute(String sql) {
        inTransaction(c -> {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
            return null;
        });
    }

    @Override
    public void close() {
        lock.lock();
        try {
            connection.close();
        } catch (SQLException e) {
            throw new ClientException("storage", "The local database did not close cleanly.", false, e);
        } finally {
            lock.unlock();
        }
    }

    /** Work inside a transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }
}
