package dev.parley.server.testing;

import dev.parley.server.internal.store.Database;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL server of a test JVM: the one named by {@code PARLEY_TEST_POSTGRES_URL} (a superuser's JDBC URL,
 * e.g. {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}), or an embedded one started on first use.
 * Hands out fresh databases, each tied to a test directory; a template database migrated once per JVM makes a new
 * migrated database one {@code CREATE DATABASE}. A database is dropped once its test directory is gone (JUnit
 * deletes a {@code @TempDir} when its test is done), and the rest when the JVM exits. Thread-safe.
 */
final class PostgresTestServer {
    static final String URL_ENV = "PARLEY_TEST_POSTGRES_URL";
    private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/?]*)(/[^?]*)?(\\?.*)?");

    private static PostgresTestServer instance;

    private final String adminUrl;
    private final EmbeddedPostgres embedded;
    /** Unique per JVM, so that runs sharing one server never meet. */
    private final String prefix = "parley_test_" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    private final AtomicInteger serial = new AtomicInteger();
    /** The databases made here that still exist, with the directory of the test that uses each. */
    private final Map<String, Path> live = new ConcurrentHashMap<>();
    private final Map<String, String> nameByUrl = new ConcurrentHashMap<>();
    private String template;

    private PostgresTestServer(String adminUrl, EmbeddedPostgres embedded) {
        this.adminUrl = adminUrl;
        this.embedded = embedded;
    }

    static synchronized PostgresTestServer get() {
        if (instance == null) {
            instance = start();
            ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread thread = new Thread(r, "parley-test-postgres-sweeper");
                thread.setDaemon(true);
                return thread;
            });
            sweeper.scheduleWithFixedDelay(instance::dropAbandoned, 2, 2, TimeUnit.SECONDS);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                sweeper.shutdownNow();
                instance.dropAll();
            }, "parley-test-postgres-cleanup"));
        }
        return instance;
    }

    private static PostgresTestServer start() {
        String url = System.getenv(URL_ENV);
        if (url != null && !url.isBlank()) {
            if (!URL.matcher(url).matches()) {
                throw new IllegalStateException(URL_ENV + " must be a jdbc:postgresql://HOST:PORT/DB?user=… URL");
            }
            return new PostgresTestServer(url, null);
        }
        try {
            EmbeddedPostgres embedded = EmbeddedPostgres.builder().start();
            return new PostgresTestServer(embedded.getJdbcUrl("postgres", "postgres"), embedded);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("no PostgreSQL for the tests: the embedded one did not start; set "
                    + URL_ENV + " to the JDBC URL of a superuser on a running server", e);
        }
    }

    /** A new database for the test in {@code dir}, with the server's schema as Flyway leaves it. */
    String migratedDatabase(Path dir) {
        synchronized (this) {
            if (template == null) {
                template = createDatabase("template0", null);
                Database.open(urlOf(template), 1).close();
            }
        }
        return urlOf(createDatabase(template, dir));
    }

    /** A new database with nothing in it, for the test in {@code dir}. */
    String emptyDatabase(Path dir) {
        return urlOf(createDatabase("template0", dir));
    }

    /**
     * A new database for the test in {@code dir} holding what the database at {@code url} (made here, and held open
     * by nobody) holds.
     */
    String copyOf(String url, Path dir) {
        String source = nameByUrl.get(url);
        if (source == null) {
            throw new IllegalArgumentException("not a test database: " + url);
        }
        return urlOf(createDatabase(source, dir));
    }

    /** Creates a database; {@code dir} null keeps it until the JVM exits. */
    private String createDatabase(String template, Path dir) {
        String name = prefix + "_" + serial.incrementAndGet();
        // FILE_COPY copies the template's files at once; the default (WAL_LOG) logs every page of it.
        admin("CREATE DATABASE " + name + " TEMPLATE " + template + " ENCODING 'UTF8' STRATEGY FILE_COPY");
        live.put(name, dir == null ? Path.of("") : dir);
        return name;
    }

    private String urlOf(String database) {
        Matcher m = URL.matcher(adminUrl);
        if (!m.matches()) {
            throw new IllegalStateException("unexpected JDBC URL " + adminUrl);
        }
        String url = m.group(1) + "/" + database + (m.group(3) == null ? "" : m.group(3));
        nameByUrl.put(url, database);
        return url;
    }

    private void admin(String sql) {
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** Drops the databases whose test directory is gone: their tests are done. */
    private void dropAbandoned() {
        List<String> done = live.entrySet().stream()
                .filter(e -> !e.getValue().toString().isEmpty() && !Files.exists(e.getValue()))
                .map(Map.Entry::getKey)
                .toList();
        drop(done);
    }

    private void dropAll() {
        if (embedded != null) {
            try {
                embedded.close(); // its data directory goes with it
            } catch (IOException e) {
                System.err.println("embedded PostgreSQL not stopped: " + e.getMessage());
            }
            return;
        }
        drop(List.copyOf(live.keySet()));
    }

    private void drop(List<String> names) {
        if (names.isEmpty()) {
            return;
        }
        try (Connection c = DriverManager.getConnection(adminUrl); Statement s = c.createStatement()) {
            for (String name : names) {
                s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
                live.remove(name);
            }
        } catch (SQLException e) {
            System.err.println("test databases not dropped: " + e.getMessage());
        }
    }
}
