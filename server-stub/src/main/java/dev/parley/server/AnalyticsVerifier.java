package dev.parley.server;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Checks the invariant of SPEC §4.1: every {@code user_usage_daily} figure and every session's statistics equal
 * the same figures recomputed from {@code chat_messages} and {@code chat_sessions}. The recomputation is the
 * {@code analytics_mismatches} view of each dialect's migrations, so the check is one query. Read-only; stateless.
 */
public final class AnalyticsVerifier {

    /** One counter that disagrees with its recomputation. */
    public record Mismatch(String scope, String userId, String subject, String field, String stored, String expected) {
        @Override
        public String toString() {
            return scope + " user=" + userId + " " + (scope.equals("usage") ? "date=" : "session=") + subject + " "
                    + field + ": stored " + stored + ", recomputed " + expected;
        }
    }

    private AnalyticsVerifier() {
    }

    /**
     * Lists every mismatch in the database at {@code jdbcUrl}; empty when analytics are exact.
     *
     * @throws SQLException when the database cannot be read or has no Parley schema
     */
    public static List<Mismatch> verify(String jdbcUrl) throws SQLException {
        return verify(jdbcUrl, null, null);
    }

    /**
     * Lists every mismatch in the database at {@code jdbcUrl}, connecting as {@code user} with {@code password}
     * (each {@code null} to leave it to the URL).
     *
     * @throws SQLException when the database cannot be read or has no Parley schema
     */
    public static List<Mismatch> verify(String jdbcUrl, String user, String password) throws SQLException {
        Properties properties = new Properties();
        if (user != null) {
            properties.setProperty("user", user);
        }
        if (password != null) {
            properties.setProperty("password", password);
        }
        try (Connection c = DriverManager.getConnection(jdbcUrl, properties)) {
            return verify(c);
        }
    }

    /** Lists every mismatch visible on {@code connection}; the caller keeps the connection. */
    public static List<Mismatch> verify(Connection connection) throws SQLException {
        List<Mismatch> mismatches = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement("SELECT scope, user_id, subject, field, stored,"
                + " expected FROM analytics_mismatches ORDER BY scope, user_id, subject, field");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                mismatches.add(new Mismatch(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6)));
            }
        }
        return mismatches;
    }
}
