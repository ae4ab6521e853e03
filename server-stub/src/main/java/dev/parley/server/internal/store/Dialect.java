package dev.parley.server.internal.store;

/** The SQL dialects the server runs on; each has its own migration folder. */
public enum Dialect {
    SQLITE("classpath:db/sqlite"),
    POSTGRESQL("classpath:db/postgresql");

    private final String migrations;

    Dialect(String migrations) {
        this.migrations = migrations;
    }

    /** Flyway location of this dialect's migrations. */
    public String migrations() {
        return migrations;
    }

    /**
     * The dialect of a JDBC URL.
     *
     * @throws IllegalArgumentException for a URL of any other database
     */
    public static Dialect of(String jdbcUrl) {
        if (jdbcUrl != null && jdbcUrl.startsWith("jdbc:sqlite:")) {
            return SQLITE;
        }
        if (jdbcUrl != null && jdbcUrl.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        throw new IllegalArgumentException(
                "--db must be a jdbc:sqlite:… or jdbc:postgresql:… URL, not '" + jdbcUrl + "'");
    }
}
