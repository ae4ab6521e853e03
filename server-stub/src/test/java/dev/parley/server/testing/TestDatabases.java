package dev.parley.server.testing;

import dev.parley.server.internal.store.Dialect;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The databases server tests run on, in the dialect the build asks for with {@code -Dparley.test.dialect}:
 * {@code sqlite} (the default) gives a SQLite file in each test directory; {@code postgresql} gives each test
 * directory its own fresh PostgreSQL database, on the server whose superuser JDBC URL is in the environment variable
 * {@code PARLEY_TEST_POSTGRES_URL}, or else on an embedded PostgreSQL started once per JVM. The server-stub build
 * runs the whole suite once per dialect. Thread-safe.
 */
public final class TestDatabases {
    /** System property that picks the dialect: {@code sqlite} or {@code postgresql}. */
    public static final String DIALECT_PROPERTY = "parley.test.dialect";

    private static final Map<Path, String> URLS = new ConcurrentHashMap<>();

    private TestDatabases() {
    }

    /** The dialect of this test run. */
    public static Dialect dialect() {
        String name = System.getProperty(DIALECT_PROPERTY, "sqlite").trim().toLowerCase(Locale.ROOT);
        return switch (name) {
            case "sqlite" -> Dialect.SQLITE;
            case "postgresql", "postgres" -> Dialect.POSTGRESQL;
            default -> throw new IllegalStateException(
                    "-D" + DIALECT_PROPERTY + " must be sqlite or postgresql, not '" + name + "'");
        };
    }

    public static boolean postgres() {
        return dialect() == Dialect.POSTGRESQL;
    }

    /**
     * The database of test directory {@code dir}: {@code jdbc:sqlite:DIR/server.db}, or a PostgreSQL database with
     * the schema migrated, created the first time {@code dir} is asked for. The same directory always answers the
     * same database, so a server restarted on {@code dir} finds its data, as it would in the SQLite file.
     */
    public static String urlFor(Path dir) {
        if (!postgres()) {
            return "jdbc:sqlite:" + dir.resolve("server.db");
        }
        return URLS.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> PostgresTestServer.get().migratedDatabase(d));
    }

    /**
     * A database with nothing in it, no schema either, for tests of what the server or the tools do with one: a
     * new SQLite file in {@code dir}, or a new PostgreSQL database.
     */
    public static String emptyDatabase(Path dir, String name) {
        if (!postgres()) {
            return "jdbc:sqlite:" + dir.resolve(name + ".db");
        }
        return PostgresTestServer.get().emptyDatabase(dir.toAbsolutePath().normalize());
    }

    /**
     * A copy of the database at {@code url}, which nothing may hold open, as the database of {@code dir}: the
     * SQLite files copied into {@code dir}, or a PostgreSQL database created with the original as its template.
     */
    public static String copyInto(String url, Path dir) {
        String copy;
        if (!postgres()) {
            Path source = Path.of(url.substring("jdbc:sqlite:".length()));
            try {
                for (String suffix : List.of("", "-wal")) {
                    Path file = source.resolveSibling(source.getFileName() + suffix);
                    if (Files.exists(file)) {
                        Files.copy(file, dir.resolve("server.db" + suffix));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            copy = "jdbc:sqlite:" + dir.resolve("server.db");
        } else {
            copy = PostgresTestServer.get().copyOf(url, dir.toAbsolutePath().normalize());
        }
        URLS.put(dir.toAbsolutePath().normalize(), copy);
        return copy;
    }
}
