package dev.parley.server.internal.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Locale;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
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
    private final String jdbcUrl;
    private final String user;
    private final String password;

    private Database(Dialect dialect, HikariDataSource dataSource, String jdbcUrl, String user, String password) {
        this.dialect = dialect;
        this.dataSource = dataSource;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
    }

    /**
     * Opens the database at {@code jdbcUrl} and applies pending migrations.
     *
     * @param poolSize connections in the pool (SQLite has one writer at a time; readers share the rest)
     */
    public static Database open(String jdbcUrl, int poolSize) {
        return open(jdbcUrl, null, null, poolSize);
    }

    /**
     * Opens the database at {@code jdbcUrl} as {@code user} (both may be {@code null}: the URL's own, or none) and
     * applies pending migrations. Several processes may open one PostgreSQL database at once: Flyway serializes
     * their migrations with a lock in the database.
     *
     * @param poolSize connections in the pool (SQLite has one writer at a time; readers share the rest)
     */
    public static Database open(String jdbcUrl, String user, String password, int poolSize) {
        Dialect dialect = Dialect.of(jdbcUrl);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("parley-db");
        config.setAutoCommit(true);
        if (user != null) {
            config.setUsername(user);
        }
        if (password != null) {
            config.setPassword(password);
        }
        if (dialect == Dialect.SQLITE) {
            createOwnerOnly(jdbcUrl);
            // WAL lets readers run beside the writer; NORMAL is durable in WAL mode across process crashes.
            config.addDataSourceProperty("journal_mode", "WAL");
            config.addDataSourceProperty("synchronous", "NORMAL");
            config.addDataSourceProperty("foreign_keys", "true");
            config.addDataSourceProperty("busy_timeout", "10000");
            // Writers take the lock at BEGIN, so two writers never deadlock upgrading from read to write.
            config.addDataSourceProperty("transaction_mode", "IMMEDIATE");
        } else {
            config.addDataSourceProperty("ApplicationName", "parley-server");
            // The pool grows to poolSize under load and shrinks back when idle, so that several processes on one
            // server do not hold poolSize connections each while nothing happens.
            config.setMinimumIdle(Math.min(2, poolSize));
            // Writers run in READ COMMITTED (the default): each statement sees what committed before it, which the
            // claim-then-check of POST /api/chat relies on; readers ask for one snapshot in read().
            config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        }
        HikariDataSource dataSource = new HikariDataSource(config);
        try {
            FluentConfiguration flyway = Flyway.configure().locations(dialect.migrations());
            if (dialect == Dialect.SQLITE) {
                flyway.dataSource(dataSource);
            } else {
                // Flyway holds a lock on one connection while it migrates on another: it gets its own, so that a
                // pool of one still starts.
                flyway.dataSource(jdbcUrl, user, password);
            }
            flyway.load().migrate();
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
        return new Database(dialect, dataSource, jdbcUrl, user, password);
    }

    /**
     * Creates a SQLite database file that does not exist yet readable and writable by its owner only (0600, SPEC
     * §8): it holds password hashes and every conversation. SQLite gives the {@code -wal} and {@code -shm} files it
     * makes later the permissions of the database file, so they are owner-only too. An existing file keeps the
     * permissions its operator gave it, and the directory is left as it is. Nothing happens for an in-memory
     * database or a file system without POSIX permissions.
     */
    static void createOwnerOnly(String jdbcUrl) {
        String name = jdbcUrl.substring("jdbc:sqlite:".length());
        int query = name.indexOf('?');
        if (query >= 0) {
            name = name.substring(0, query);
        }
        if (name.startsWith("file:")) {
            name = name.substring("file:".length());
            if (name.startsWith("//")) {
                name = name.substring(2);
            }
        }
        if (name.isEmpty() || name.startsWith(":memory:") || name.contains("mode=memory")) {
            return;
        }
        Path file = Path.of(name);
        if (Files.exists(file) || !FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException raced) {
            // another process made it first: it keeps what that process gave it
        } catch (IOException e) {
            // SQLite reports a missing directory or a read-only place in its own words when it opens the file.
            LOG.debug("could not create {} owner-only: {}", file, e.getMessage());
        }
    }

    /**
     * A connection of its own, outside the pool, for a job that holds one for the life of the process (PostgreSQL's
     * {@code LISTEN}). The caller closes it.
     */
    public Connection openDedicated() throws SQLException {
        return java.sql.DriverManager.getConnection(jdbcUrl, user, password);
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
     * not take the write lock, so reads never wait for writers; on PostgreSQL it is a READ ONLY, REPEATABLE READ
     * transaction, which never waits for writers and never fails to serialize.
     */
    public <T> T read(Work<T> work) {
        return run(work, true);
    }

    private <T> T run(Work<T> work, boolean readOnly) {
        for (int attempt = 1; ; attempt++) {
            boolean committing = false;
            try (Connection connection = dataSource.getConnection()) {
                beginMode(connection, readOnly);
                connection.setAutoCommit(false);
                try {
                    if (readOnly && dialect == Dialect.POSTGRESQL) {
                        try (Statement s = connection.createStatement()) {
                            s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                        }
                    }
                    T result = work.run(connection);
                    // sqlite-jdbc begins the next transaction right after COMMIT/ROLLBACK; a deferred one takes no
                    // lock and cannot time out, so a commit that succeeded is never reported as failed.
                    beginMode(connection, true);
                    committing = true;
                    connection.commit();
                    return result;
                } catch (Throwable e) {
                    beginMode(connection, true);
                    rollbackQuietly(connection);
                    throw e;
                } finally {
                    resetQuietly(connection);
                }
            } catch (SQLException e) {
                // A connection lost during COMMIT leaves the outcome unknown: running the work again could apply
                // it twice, so that one is reported, never retried.
                boolean outcomeUnknown = committing && isConnectionFailure(e);
                if (attempt < MAX_ATTEMPTS && isTransient(e) && !outcomeUnknown) {
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

    /**
     * True for errors that a retry of the whole transaction may cure: lock contention, a deadlock or a serialization
     * failure, or a connection that broke (the server rolled the transaction back; the pool replaces the
     * connection). Not a pool that had no connection to give within its timeout: that wait was long already.
     */
    public static boolean isTransient(SQLException e) {
        String state = e.getSQLState();
        if ("40001".equals(state) || "40P01".equals(state)) {
            return true; // serialization failure, deadlock
        }
        if (isConnectionFailure(e)) {
            return !(e instanceof SQLTransientConnectionException);
        }
        String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return message.contains("sqlite_busy") || message.contains("database is locked");
    }

    /** SQLState class 08 (connection exception) or a server shutting down or restarting (57P01–57P03). */
    private static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                || state.equals("57P03"));
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

    /**
     * Back to autocommit and the writers' begin mode for the connection's next user. Failing here changes nothing
     * about the transaction, which ended already; the pool resets or drops the connection on its own.
     */
    private void resetQuietly(Connection connection) {
        try {
            connection.setAutoCommit(true);
            beginMode(connection, false);
        } catch (SQLException e) {
            LOG.debug("connection not reset: {}", e.getMessage());
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
