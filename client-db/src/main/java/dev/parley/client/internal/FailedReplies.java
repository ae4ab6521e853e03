package dev.parley.client.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * SQL for the local {@code failed_replies} table: regenerates that got no reply, this device's own (never pushed,
 * never counted), each waiting for Try again under its own reply id. Stateless and thread-safe.
 */
public final class FailedReplies {
    private static final String COLUMNS = "reply_id, message_id, session_id, model, error_message, error_code,"
            + " error_retryable, failed_at";

    /**
     * A regenerate of the user message {@code messageId} that failed.
     *
     * @param failedAt when the regenerate began: where the reply stands among its siblings
     */
    public record Row(String replyId, String messageId, String sessionId, String model, String errorMessage,
                      String errorCode, boolean retryable, Instant failedAt) {
    }

    public void put(Connection c, Row row) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO failed_replies (" + COLUMNS + ") VALUES"
                + " (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reply_id) DO UPDATE SET error_message = excluded.error_message,"
                + " error_code = excluded.error_code, error_retryable = excluded.error_retryable,"
                + " model = excluded.model")) {
            ps.setString(1, row.replyId());
            ps.setString(2, row.messageId());
            ps.setString(3, row.sessionId());
            ps.setString(4, row.model());
            ps.setString(5, row.errorMessage());
            ps.setString(6, row.errorCode());
            ps.setInt(7, row.retryable() ? 1 : 0);
            Sql.instant(ps, 8, row.failedAt());
            ps.executeUpdate();
        }
    }

    public Optional<Row> find(Connection c, String replyId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM failed_replies"
                + " WHERE reply_id = ?")) {
            ps.setString(1, replyId);
            List<Row> rows = rows(ps);
            return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
        }
    }

    public List<Row> ofSession(Connection c, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM failed_replies"
                + " WHERE session_id = ?")) {
            ps.setString(1, sessionId);
            return rows(ps);
        }
    }

    public void delete(Connection c, String replyId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM failed_replies WHERE reply_id = ?")) {
            ps.setString(1, replyId);
            ps.executeUpdate();
        }
    }

    /** Forgets the failed regenerates whose replies arrived after all (a pull brought them), in one batch. */
    public void deleteAll(Connection c, List<String> replyIds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM failed_replies WHERE reply_id = ?")) {
            for (String id : replyIds) {
                ps.setString(1, id);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static List<Row> rows(PreparedStatement ps) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new Row(rs.getString("reply_id"), rs.getString("message_id"), rs.getString("session_id"),
                        rs.getString("model"), rs.getString("error_message"), rs.getString("error_code"),
                        rs.getInt("error_retryable") == 1, Sql.instant(rs, "failed_at")));
            }
        }
        return rows;
    }
}
