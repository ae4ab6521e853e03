package dev.parley.server.internal.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig.TransactionMode;
import org.sqlite.SQLiteConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's database: a pooled {@link javax.sql.DataSource}, migrated by Flyway at open, and the one place that
 * runs transactions. Thread-safe. The owner closes it.
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    private static final int MAX_ATTEMPTS = 8;

    private final Dialect dialect;
    private final HikariDataSource dataSource;

    private Database(Dialect dialect, HikariDataSource dataSource) {
        this.dialect = dialect;
        this.dataSource = dataSource;
    }

    /**
     * Opens the database at {@code jdbcUrl} and applies pending migrations.
     *
     * @param poolSize connections in the pool (SQLite has one writer at a time; readers share the rest)
     */
    public static Database open(String jdbcUrl, int poolSize) {
        Dialect dialect = Dialect.of(jdbcUrl);
        if (Database.class.getResource("/" + dialect.migrations().substring("classpath:".length())
                + "/V1__schema.sql") == null) {
            throw new IllegalArgumentException("this build has no schema for " + dialect + " databases yet");
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("parley-db");
        config.setAutoCommit(true);
        if (dialect == Dialect.SQLITE) {
            // WAL lets readers run beside the writer; NORMAL is durable in WAL mode across process crashes.
            config.addDataSourceProperty("journal_mode", "WAL");
            config.addDataSourceProperty("synchronous", "NORMAL");
            config.addDataSourceProperty("foreign_keys", "true");
            config.addDataSourceProperty("busy_timeout", "10000");
            // Writers take the lock at BEGIN, so two writers never deadlock upgrading from read to write.
            config.addDataSourceProperty("transaction_mode", "IMMEDIATE");
        }
        HikariDataSource dataSource = new HikariDataSource(config);
        try {
            Flyway.configure()
                    .dataSource(dataSource)
                    .locations(dialect.migrations())
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
        return new Database(dialect, dataSource);
    }

    public Dialect dialect() {
        return dialect;
    }

    /** Runs {@code work} in one transaction, committing on return and rolling back on any exception. */
    public <T> T inTransaction(Work<T> work) {
        return run(work, false);
    }

    /**
     * Runs read-only {@code work} in one transaction, so that all its queries see one snapshot. On SQLite it does
     * not take the write lock, so reads never wait for writers.
     */
    public <T> T read(Work<T> work) {
        return run(work, true);
    }

    private <T> T run(Work<T> work, boolean readOnly) {
        for (int attempt = 1; ; attempt++) {
            try (Connection connection = dataSource.getConnection()) {
                beginMode(connection, readOnly);
                connection.setAutoCommit(false);
                try {
                    T result = work.run(connection);
                    // sqlite-jdbc begins the next transaction right after COMMIT/ROLLBACK; a deferred one takes no
                    // lock and cannot time out, so a commit that succeeded is never reported as failed.
                    beginMode(connection, true);
                    connection.commit();
                    return result;
                } catch (Throwable e) {
                    beginMode(connection, true);
                    rollbackQuietly(connection);
                    throw e;
                } finally {
                    connection.setAutoCommit(true);
                    beginMode(connection, false);
                }
            } catch (SQLException e) {
                if (attempt < MAX_ATTEMPTS && isTransient(e)) {
                    LOG.debug("transient database error, attempt {}: {}", attempt, e.getMessage());
                    backOff(attempt);
                    continue;
                }
                throw new StoreException("database error", e);
            }
        }
    }

    /** True when a trivial query answers. */
    public boolean isReachable() {
        try (Connection connection = dataSource.getConnection()) {
            return connection.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    public void close() {
        dataSource.close();
    }

    /** Work done inside a transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /** True for errors that a retry of the whole transaction may cure (lock contention, deadlock, serialization). */
    public static boolean isTransient(SQLException e) {
        String state = e.getSQLState();
        if ("40001".equals(state) || "40P01".equals(state)) {
            return true; // serialization failure, deadlock
        }
        String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return message.contains("sqlite_busy") || message.contains("database is locked");
    }

    /** SQLite writers begin IMMEDIATE (take the write lock at once); readers begin DEFERRED (a snapshot, no lock). */
    private void beginMode(Connection connection, boolean readOnly) throws SQLException {
        if (dialect == Dialect.SQLITE) {
            connection.unwrap(SQLiteConnection.class).getConnectionConfig()
                    .setTransactionMode(readOnly ? TransactionMode.DEFERRED : TransactionMode.IMMEDIATE);
        }
    }

    private static void backOff(int attempt) {
        try {
            Thread.sleep(Math.min(200, 5L << attempt));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while retrying", e);
        }
    }

    private static void rollbackQuietly(Connection connection) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            LOG.warn("rollback failed: {}", e.getMessage());
        }
    }
}
