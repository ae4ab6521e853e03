package dev.parley.client.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** SQL for the local {@code unfinished_replies} table: replies being written. Stateless and thread-safe. */
public final class UnfinishedReplies {
    private static final String COLUMNS = "message_id, session_id, reply_id, content, started_at, stop_requested";

    /**
     * A reply being written to the user message {@code messageId}.
     *
     * @param replyId       the id the server stores the reply under, or {@code null} before its stream started
     * @param content       the text streamed so far (its length is the offset to re-attach from)
     * @param stopRequested the user pressed Stop and the server has not confirmed it yet
     */
    public record Row(String messageId, String sessionId, String replyId, String content, Instant startedAt,
                      boolean stopRequested) {
    }

    /** Only while the message is under way: an exchange that has ended leaves nothing behind. */
    private static final String WHILE_SENDING = " WHERE EXISTS (SELECT 1 FROM messages WHERE id = ? AND sending = 1)";

    /**
     * Writes the reply's text so far (creating the row on the first write), while the message is under way; keeps a
     * stop already requested.
     */
    public void write(Connection c, String messageId, String sessionId, String replyId, String content, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO unfinished_replies (" + COLUMNS + ")"
                + " SELECT ?, ?, ?, ?, ?, 0" + WHILE_SENDING
                + " ON CONFLICT (message_id) DO UPDATE SET reply_id = excluded.reply_id, content = excluded.content")) {
            ps.setString(1, messageId);
            ps.setString(2, sessionId);
            ps.setString(3, replyId);
            ps.setString(4, content);
            Sql.instant(ps, 5, now);
            ps.setString(6, messageId);
            ps.executeUpdate();
        }
    }

    /** Marks the stop as requested (creating the row when no text had arrived yet), while the message is under way. */
    public void requestStop(Connection c, String messageId, String sessionId, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO unfinished_replies (" + COLUMNS + ")"
                + " SELECT ?, ?, NULL, '', ?, 1" + WHILE_SENDING
                + " ON CONFLICT (message_id) DO UPDATE SET stop_requested = 1")) {
            ps.setString(1, messageId);
            ps.setString(2, sessionId);
            Sql.instant(ps, 3, now);
            ps.setString(4, messageId);
            ps.executeUpdate();
        }
    }

    public Optional<Row> find(Connection c, String messageId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM unfinished_replies"
                + " WHERE message_id = ?")) {
            ps.setString(1, messageId);
            List<Row> rows = rows(ps);
            return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
        }
    }

    /** The replies being written in a conversation. */
    public List<Row> ofSession(Connection c, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM unfinished_replies"
                + " WHERE session_id = ?")) {
            ps.setString(1, sessionId);
            return rows(ps);
        }
    }

    public void delete(Connection c, String messageId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM unfinished_replies WHERE message_id = ?")) {
            ps.setString(1, messageId);
            ps.executeUpdate();
        }
    }

    private static List<Row> rows(PreparedStatement ps) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new Row(rs.getString("message_id"), rs.getString("session_id"), rs.getString("reply_id"),
                        rs.getString("content"), Sql.instant(rs, "started_at"), rs.getInt("stop_requested") == 1));
            }
        }
        return rows;
    }
}
