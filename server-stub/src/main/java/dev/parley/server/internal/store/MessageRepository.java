package dev.parley.server.internal.store;

import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Message;
import dev.parley.protocol.Origin;
import dev.parley.protocol.Role;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * SQL for {@code chat_messages}. Counting happens in the triggers, so these methods only state what a row is.
 * Stateless and thread-safe.
 */
public final class MessageRepository {
    private static final String COLUMNS = "id, session_id, user_id, role, content, model, input_tokens, output_tokens,"
            + " total_tokens, user_message_id, message_timestamp, elapsed_ms, error_message, completion_id, finish_reason,"
            + " parent_id, origin, change_seq";

    public Optional<StoredMessage> find(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM chat_messages WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new StoredMessage(rs.getString("user_id"), map(rs))) : Optional.empty();
            }
        }
    }

    /**
     * The user's first reply to one of the user's messages, if one is stored: the one its exchange produced, before
     * any regenerated sibling (SPEC §4.3).
     */
    public Optional<Message> findReply(Connection c, String userId, String userMessageId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM chat_messages"
                + " WHERE user_message_id = ? AND user_id = ? AND role = 'assistant'"
                + " ORDER BY message_timestamp, id LIMIT 1")) {
            ps.setString(1, userMessageId);
            ps.setString(2, userId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    private static final String INSERT = "INSERT INTO chat_messages (id, session_id, user_id, role, content, model,"
            + " input_tokens, output_tokens, total_tokens, user_message_id, message_timestamp, elapsed_ms,"
            + " error_message, completion_id, finish_reason, parent_id, origin, created_at, updated_at)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    /** Inserts a message owned by {@code userId}; {@code total_tokens} is derived here. */
    public void insert(Connection c, String userId, Message m, Instant now) throws SQLException {
        try (Inserter inserter = inserter(c)) {
            inserter.insert(userId, m, now);
        }
    }

    /** An {@link Inserter} on {@code c}, for several inserts in one transaction. */
    public Inserter inserter(Connection c) {
        return new Inserter(c);
    }

    /**
     * Inserts messages through one prepared statement. Preparing an insert into {@code chat_messages} compiles
     * every trigger on the table, which costs more than running it, so a batch prepares it once. Prepared on first
     * use; the caller closes it before its transaction ends. Not thread-safe.
     */
    public static final class Inserter implements AutoCloseable {
        private final Connection connection;
        private PreparedStatement statement;

        private Inserter(Connection connection) {
            this.connection = connection;
        }

        public void insert(String userId, Message m, Instant now) throws SQLException {
            if (statement == null) {
                statement = connection.prepareStatement(INSERT);
            }
            PreparedStatement ps = statement;
            long input = orZero(m.inputTokens());
            long output = orZero(m.outputTokens());
            ps.setString(1, m.id());
            ps.setString(2, m.sessionId());
            ps.setString(3, userId);
            ps.setString(4, m.role().wire());
            ps.setString(5, m.content());
            ps.setString(6, m.model());
            ps.setLong(7, input);
            ps.setLong(8, output);
            ps.setLong(9, input + output);
            ps.setString(10, m.userMessageId());
            Rows.setInstant(ps, 11, m.messageTimestamp());
            Rows.setLong(ps, 12, m.elapsedMs());
            ps.setString(13, m.errorMessage());
            ps.setString(14, m.completionId());
            // Only a reply has a finish reason; one sent on a user row means nothing and is not kept.
            FinishReason finish = m.role() == Role.ASSISTANT ? m.finishReason() : null;
            ps.setString(15, finish == null ? null : finish.wire());
            ps.setString(16, parentOf(m));
            ps.setString(17, (m.origin() == null ? Origin.CHAT : m.origin()).wire());
            Rows.setInstant(ps, 18, now);
            Rows.setInstant(ps, 19, now);
            ps.executeUpdate();
        }

        @Override
        public void close() throws SQLException {
            if (statement != null) {
                statement.close();
            }
        }
    }

    /**
     * Turns a stored failed message into the successful {@code m} (a retry that got its reply). The timestamp is
     * kept: it decides the usage day and never changes. True when a failed row was updated.
     */
    public boolean markSucceeded(Connection c, Message m, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE chat_messages SET error_message = NULL, model = ?,"
                + " input_tokens = ?, output_tokens = ?, total_tokens = ?, elapsed_ms = ?, completion_id = ?,"
                + " updated_at = ? WHERE id = ? AND error_message IS NOT NULL")) {
            long input = orZero(m.inputTokens());
            long output = orZero(m.outputTokens());
            ps.setString(1, m.model());
            ps.setLong(2, input);
            ps.setLong(3, output);
            ps.setLong(4, input + output);
            Rows.setLong(ps, 5, m.elapsedMs());
            ps.setString(6, m.completionId());
            Rows.setInstant(ps, 7, now);
            ps.setString(8, m.id());
            return ps.executeUpdate() == 1;
        }
    }

    /** Refreshes the error text of a failed message; success rows are final and left alone. */
    public void refreshError(Connection c, String id, String errorMessage, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE chat_messages SET error_message = ?, updated_at = ?"
                + " WHERE id = ? AND error_message IS NOT NULL AND error_message <> ?")) {
            ps.setString(1, errorMessage);
            Rows.setInstant(ps, 2, now);
            ps.setString(3, id);
            ps.setString(4, errorMessage);
            ps.executeUpdate();
        }
    }

    /** The user's messages changed after {@code seq}, oldest change first, at most {@code limit}. */
    public List<Changed<Message>> changedSince(Connection c, String userId, long seq, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM chat_messages"
                + " WHERE user_id = ? AND change_seq > ? ORDER BY change_seq LIMIT ?")) {
            ps.setString(1, userId);
            ps.setLong(2, seq);
            ps.setInt(3, limit);
            List<Changed<Message>> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Changed<>(rs.getLong("change_seq"), map(rs)));
                }
            }
            return rows;
        }
    }

    /** The row a message follows in its session's tree: a reply always follows the user message it answers. */
    public static String parentOf(Message m) {
        return m.role() == Role.ASSISTANT && m.userMessageId() != null ? m.userMessageId() : m.parentId();
    }

    private static long orZero(Long value) {
        return value == null ? 0 : value;
    }

    private static Message map(ResultSet rs) throws SQLException {
        return new Message(
                rs.getString("id"),
                rs.getString("session_id"),
                Role.fromWire(rs.getString("role")),
                rs.getString("content"),
                rs.getString("model"),
                rs.getLong("input_tokens"),
                rs.getLong("output_tokens"),
                rs.getLong("total_tokens"),
                rs.getString("user_message_id"),
                Rows.instant(rs, "message_timestamp"),
                Rows.longOrNull(rs, "elapsed_ms"),
                rs.getString("error_message"),
                rs.getString("completion_id"),
                FinishReason.fromWire(rs.getString("finish_reason")),
                rs.getString("parent_id"),
                Origin.fromWire(rs.getString("origin")));
    }
}
