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
 * SQL for the local {@code unfinished_replies} table: replies being written, one per user message at a time (a
 * send's, or a regenerate's). Stateless and thread-safe.
 */
public final class UnfinishedReplies {
    private static final String COLUMNS =
            "message_id, session_id, reply_id, content, started_at, stop_requested, regenerate, model";
    /** The columns a send's reply sets; a regenerate's sets the rest when it starts. */
    private static final String SEND_COLUMNS = "message_id, session_id, reply_id, content, started_at, stop_requested";

    /**
     * A reply being written to the user message {@code messageId}.
     *
     * @param replyId       the id the server stores the reply under, or {@code null} before its stream started
     * @param content       the text streamed so far (its length is the offset to re-attach from)
     * @param stopRequested the user pressed Stop and the server has not confirmed it yet
     * @param regenerate    another reply to a user message already answered ({@code replyId} is then the client's
     *                      id for it, set from the start, and re-attach and stop name it)
     * @param model         the model a regenerate asked, or {@code null} (a send's is its user message's)
     */
    public record Row(String messageId, String sessionId, String replyId, String content, Instant startedAt,
                      boolean stopRequested, boolean regenerate, String model) {

        /** The reply of a send. */
        public Row(String messageId, String sessionId, String replyId, String content, Instant startedAt,
                   boolean stopRequested) {
            this(messageId, sessionId, replyId, content, startedAt, stopRequested, false, null);
        }
    }

    /** Only while the message is under way: an exchange that has ended leaves nothing behind. */
    private static final String WHILE_SENDING = " WHERE EXISTS (SELECT 1 FROM messages WHERE id = ? AND sending = 1)";

    /**
     * Writes the reply's text so far (creating the row on the first write), while the message is under way; keeps a
     * stop already requested.
     */
    public void write(Connection c, String messageId, String sessionId, String replyId, String content, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO unfinished_replies (" + SEND_COLUMNS + ")"
                + " SELECT ?, ?, ?, ?, ?, 0" + WHILE_SENDING
                + " ON CONFLICT (message_id) DO UPDATE SET reply_id = COALESCE(excluded.reply_id, reply_id),"
                + " content = excluded.content")) {
            ps.setString(1, messageId);
            ps.setString(2, sessionId);
            ps.setString(3, replyId);
            ps.setString(4, content);
            Sql.instant(ps, 5, now);
            ps.setString(6, messageId);
            ps.executeUpdate();
        }
    }

    /**
     * Starts a regenerate's reply under its own id {@code replyId}, empty, at {@code startedAt} (where it stands
     * among its siblings), while the message is under way.
     */
    public void startRegenerate(Connection c, String messageId, String sessionId, String replyId, String model,
                                Instant startedAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO unfinished_replies (" + COLUMNS + ")"
                + " SELECT ?, ?, ?, '', ?, 0, 1, ?" + WHILE_SENDING)) {
            ps.setString(1, messageId);
            ps.setString(2, sessionId);
            ps.setString(3, replyId);
            Sql.instant(ps, 4, startedAt);
            ps.setString(5, model);
            ps.setString(6, messageId);
            ps.executeUpdate();
        }
    }

    /** The regenerates under way of signed-out messages (which a crash leaves with no server to re-attach to). */
    public List<Row> signedOutRegenerates(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM unfinished_replies WHERE"
                + " regenerate = 1 AND message_id IN (SELECT id FROM messages WHERE sending = 1 AND owner IS NULL)")) {
            return rows(ps);
        }
    }

    /** Marks the stop as requested (creating the row when no text had arrived yet), while the message is under way. */
    public void requestStop(Connection c, String messageId, String sessionId, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO unfinished_replies (" + SEND_COLUMNS + ")"
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

    /** The reply being written under the id {@code replyId}. */
    public Optional<Row> byReplyId(Connection c, String replyId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM unfinished_replies"
                + " WHERE reply_id = ?")) {
            ps.setString(1, replyId);
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
                        rs.getString("content"), Sql.instant(rs, "started_at"), rs.getInt("stop_requested") == 1,
                        rs.getInt("regenerate") == 1, rs.getString("model")));
            }
        }
        return rows;
    }
}
