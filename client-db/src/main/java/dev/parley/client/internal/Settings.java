package dev.parley.client.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** SQL for the local {@code settings} table: the outbox clock, sync cursors, preferences. Stateless. */
public final class Settings {

    public Optional<String> get(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM settings WHERE key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    public void put(Connection c, String key, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO settings (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
        }
    }

    /** The first of {@code count} next positions in the outbox, taken at once for rows written together. */
    public long reserveOutboxSeqs(Connection c, int count) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE settings SET value = CAST(value AS INTEGER) + ?"
                + " WHERE key = 'outbox_seq' RETURNING value")) {
            ps.setInt(1, count);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) - count + 1;
            }
        }
    }

    /** The next position in the outbox: rows are pushed in the order they were written. */
    public long nextOutboxSeq(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'outbox_seq' RETURNING value")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
