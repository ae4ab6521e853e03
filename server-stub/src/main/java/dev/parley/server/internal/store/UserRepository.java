package dev.parley.server.internal.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** SQL for {@code users}. Thread-safe. */
public final class UserRepository {
    private final Dialect dialect;

    public UserRepository(Dialect dialect) {
        this.dialect = dialect;
    }

    /** An account; {@code passwordHash} never leaves the server. */
    public record UserRow(String id, String email, String passwordHash) {
        @Override
        public String toString() {
            return "UserRow[id=" + id + ", email=" + email + "]";
        }
    }

    /** Inserts a user; false when the e-mail is taken. */
    public boolean insert(Connection c, UserRow user, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO users (id, email, password_hash, created_at)"
                + " VALUES (?, ?, ?, ?) ON CONFLICT (email) DO NOTHING")) {
            ps.setString(1, user.id());
            ps.setString(2, user.email());
            ps.setString(3, user.passwordHash());
            Rows.setInstant(ps, 4, now);
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Locks the user's row until the transaction ends, so that one user's writing transactions run one at a time,
     * across server processes too. Called first in every transaction that writes the user's sessions or messages,
     * it makes their "read, decide, write" steps safe: a second request for the same user sees the first one's
     * rows once it may go on. On SQLite every writing transaction holds the database's write lock already.
     */
    public void lockForWrites(Connection c, String userId) throws SQLException {
        if (dialect == Dialect.SQLITE) {
            return;
        }
        // NO KEY UPDATE: the same lock the change clock's UPDATE takes; foreign-key checks (new tokens) pass it.
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM users WHERE id = ? FOR NO KEY UPDATE")) {
            ps.setString(1, userId);
            ps.executeQuery().close();
        }
    }

    /**
     * The change clocks of {@code userIds} (the cursor of their newest change, SPEC §5.5), by user id; a user with
     * no row is left out. One query; the caller keeps {@code userIds} to a few hundred.
     */
    public Map<String, Long> changeClocks(Connection c, Collection<String> userIds) throws SQLException {
        Map<String, Long> clocks = new HashMap<>();
        if (userIds.isEmpty()) {
            return clocks;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT id, change_seq FROM users WHERE id IN ("
                + Rows.placeholders(userIds.size()) + ")")) {
            Rows.setStrings(ps, 1, userIds);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    clocks.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return clocks;
    }

    public Optional<UserRow> findByEmail(Connection c, String email) throws SQLException {
        return findBy(c, "email", email);
    }

    public Optional<UserRow> findById(Connection c, String id) throws SQLException {
        return findBy(c, "id", id);
    }

    private static Optional<UserRow> findBy(Connection c, String column, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, email, password_hash FROM users WHERE " + column + " = ?")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new UserRow(rs.getString(1), rs.getString(2), rs.getString(3)))
                        : Optional.empty();
            }
        }
    }
}
