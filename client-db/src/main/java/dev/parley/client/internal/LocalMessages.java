package dev.parley.client.internal;

import dev.parley.client.SyncState;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Message;
import dev.parley.protocol.Origin;
import dev.parley.protocol.Role;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** SQL for the local {@code messages} table. Stateless and thread-safe. */
public final class LocalMessages {
    private static final String COLUMNS = "id, session_id, owner, role, content, model, input_tokens, output_tokens,"
            + " user_message_id, message_timestamp, elapsed_ms, error_message, error_code, error_retryable,"
            + " completion_id, sync_state, outbox_seq, reject_code, reject_reason, finish_reason, parent_id, origin";
    /** Ids per lookup query, well under SQLite's limit on bound parameters. */
    private static final int LOOKUP_CHUNK = 500;

    /** A stored row keeps its origin: it never changes (SPEC §4.1). */
    private static final String UPSERT = "INSERT INTO messages (" + COLUMNS + ") VALUES"
            + " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            + " session_id = excluded.session_id, owner = excluded.owner, role = excluded.role,"
            + " content = excluded.content, model = excluded.model, input_tokens = excluded.input_tokens,"
            + " output_tokens = excluded.output_tokens, user_message_id = excluded.user_message_id,"
            + " message_timestamp = excluded.message_timestamp, elapsed_ms = excluded.elapsed_ms,"
            + " error_message = excluded.error_message, error_code = excluded.error_code,"
            + " error_retryable = excluded.error_retryable, completion_id = excluded.completion_id,"
            + " sync_state = excluded.sync_state, outbox_seq = excluded.outbox_seq,"
            + " reject_code = excluded.reject_code, reject_reason = excluded.reject_reason,"
            + " finish_reason = excluded.finish_reason, parent_id = excluded.parent_id";

    /** Inserts or replaces the row with this id. */
    public void put(Connection c, MessageRow r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
            bind(ps, r);
            ps.executeUpdate();
        }
    }

    /** Inserts or replaces each row, in order, with one prepared statement (a page of history at a time). */
    public void putAll(Connection c, List<MessageRow> rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
            for (MessageRow r : rows) {
                bind(ps, r);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void bind(PreparedStatement ps, MessageRow r) throws SQLException {
        Message m = r.message();
        ps.setString(1, m.id());
        ps.setString(2, m.sessionId());
        ps.setString(3, r.owner());
        ps.setString(4, m.role().wire());
        ps.setString(5, m.content());
        ps.setString(6, m.model());
        ps.setLong(7, m.inputTokens() == null ? 0 : m.inputTokens());
        ps.setLong(8, m.outputTokens() == null ? 0 : m.outputTokens());
        ps.setString(9, m.userMessageId());
        Sql.instant(ps, 10, m.messageTimestamp());
        Sql.longOrNull(ps, 11, m.elapsedMs());
        ps.setString(12, m.errorMessage());
        ps.setString(13, r.errorCode());
        ps.setInt(14, r.retryable() ? 1 : 0);
        ps.setString(15, m.completionId());
        ps.setString(16, r.syncState().name().toLowerCase(Locale.ROOT));
        Sql.longOrNull(ps, 17, r.outboxSeq());
        ps.setString(18, r.rejectCode());
        ps.setString(19, r.rejectReason());
        ps.setString(20, m.finishReason() == null ? null : m.finishReason().wire());
        ps.setString(21, m.parentId());
        ps.setString(22, (m.origin() == null ? Origin.CHAT : m.origin()).wire());
    }

    public Optional<MessageRow> find(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM messages WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    /** The rows with these ids that exist, by id: one query for a whole push batch. */
    public Map<String, MessageRow> findAll(Connection c, List<String> ids) throws SQLException {
        Map<String, MessageRow> found = new HashMap<>();
        for (int from = 0; from < ids.size(); from += LOOKUP_CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + LOOKUP_CHUNK));
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM messages WHERE id IN ("
                    + String.join(", ", Collections.nCopies(chunk.size(), "?")) + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setString(i + 1, chunk.get(i));
                }
                for (MessageRow row : rows(ps)) {
                    found.put(row.id(), row);
                }
            }
        }
        return found;
    }

    /** Marks rows as acknowledged by the server (synced, out of the outbox), with one statement for all. */
    public void markSynced(Connection c, List<String> ids) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE messages SET sync_state = 'synced', outbox_seq = NULL,"
                + " reject_code = NULL, reject_reason = NULL WHERE id = ?")) {
            for (String id : ids) {
                ps.setString(1, id);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** The messages of a session, every branch, in (message_timestamp, id) order. */
    public List<MessageRow> ofSession(Connection c, String sessionId) throws SQLException {
        return query(c, "SELECT " + COLUMNS + " FROM messages WHERE session_id = ?"
                + " ORDER BY message_timestamp, id", sessionId);
    }

    /**
     * The model of the session's newest message that names one (a question or a reply). Walks the
     * {@code messages_session_time} index from the newest row, so it reads a row or two, whatever the history.
     */
    public Optional<String> lastModel(Connection c, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(LAST_MODEL)) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    static final String LAST_MODEL = "SELECT model FROM messages WHERE session_id = ? AND model IS NOT NULL"
            + " AND role IN ('user', 'assistant') ORDER BY message_timestamp DESC, id DESC LIMIT 1";

    /**
     * Pending rows of {@code owner}, oldest first (the outbox order), that may go now; reads the outbox index, and a
     * reply's question by its key. A row under way waits for its exchange's end, and so does a reply whose unsent
     * question is under way (being regenerated): the server would refuse it, as answering a message it does not
     * hold.
     */
    public List<MessageRow> pending(Connection c, String owner, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM messages m"
                + " WHERE sync_state = 'pending' AND owner = ? AND sending = 0 AND NOT EXISTS (SELECT 1 FROM"
                + " messages q WHERE q.id = m.user_message_id AND q.sending = 1 AND q.sync_state <> 'synced')"
                + " ORDER BY outbox_seq LIMIT ?")) {
            ps.setString(1, owner);
            ps.setInt(2, limit);
            return rows(ps);
        }
    }

    /** Marks a message as under way (kept out of pushes) or not. */
    public void setSending(Connection c, String id, boolean sending) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE messages SET sending = ? WHERE id = ?")) {
            ps.setInt(1, sending ? 1 : 0);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    /** Whether the message is under way (its chat request not yet ended). */
    public boolean isSending(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT sending FROM messages WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getInt(1) == 1;
            }
        }
    }

    /**
     * Signed-out messages whose chat request was cut short by a crash become failed messages that "Try again" can
     * send (an anonymous exchange cannot be re-attached to); at sign-in they are pushed as failed, so the server
     * never counts a message that got no reply. Its unfinished reply, if it had one, goes with it.
     */
    public int recoverInterrupted(Connection c, String errorText) throws SQLException {
        try (PreparedStatement clear = c.prepareStatement("DELETE FROM unfinished_replies WHERE message_id IN"
                + " (SELECT id FROM messages WHERE sending = 1 AND owner IS NULL)");
             PreparedStatement ps = c.prepareStatement("UPDATE messages SET sending = 0, error_message = ?,"
                     + " error_code = 'offline', error_retryable = 1, input_tokens = 0"
                     + " WHERE sending = 1 AND owner IS NULL")) {
            clear.executeUpdate();
            ps.setString(1, errorText);
            return ps.executeUpdate();
        }
    }

    /** The ids of {@code owner}'s messages still marked as under way, oldest first: exchanges to resume. */
    public List<String> sending(Connection c, String owner) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM messages WHERE sending = 1 AND owner = ?"
                + " ORDER BY message_timestamp, id")) {
            ps.setString(1, owner);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    /** Rows of {@code owner} the server refused, newest first ({@code <> 'synced'}: see {@link #count}). */
    public List<MessageRow> rejected(Connection c, String owner) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM messages"
                + " WHERE sync_state = 'rejected' AND sync_state <> 'synced' AND owner IS ?"
                + " ORDER BY message_timestamp DESC")) {
            ps.setString(1, owner);
            return rows(ps);
        }
    }

    /**
     * Gives the rows written while signed out to {@code owner}, as unsent rows of that account
     * ({@code <> 'synced'}: see {@link #count}).
     */
    public int adopt(Connection c, String owner) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE messages SET owner = ?, sync_state = 'pending'"
                + " WHERE owner IS NULL AND sync_state = 'local' AND sync_state <> 'synced'")) {
            ps.setString(1, owner);
            return ps.executeUpdate();
        }
    }

    /** Rows of {@code owner} in {@code state}; an unsent state reads only the messages_unsent index. */
    public int count(Connection c, String owner, SyncState state) throws SQLException {
        // The repeated "<> 'synced'" is what lets SQLite use the partial index, whose WHERE it must see verbatim.
        try (PreparedStatement ps = c.prepareStatement(state == SyncState.SYNCED
                ? "SELECT count(*) FROM messages WHERE owner IS ? AND sync_state = ?"
                : "SELECT count(*) FROM messages WHERE owner IS ? AND sync_state = ? AND sync_state <> 'synced'")) {
            ps.setString(1, owner);
            ps.setString(2, state.name().toLowerCase(Locale.ROOT));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private List<MessageRow> query(Connection c, String sql, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, sessionId);
            return rows(ps);
        }
    }

    private static List<MessageRow> rows(PreparedStatement ps) throws SQLException {
        List<MessageRow> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(map(rs));
            }
        }
        return rows;
    }

    private static MessageRow map(ResultSet rs) throws SQLException {
        long input = rs.getLong("input_tokens");
        long output = rs.getLong("output_tokens");
        Message m = new Message(rs.getString("id"), rs.getString("session_id"), Role.fromWire(rs.getString("role")),
                rs.getString("content"), rs.getString("model"), input, output, input + output,
                rs.getString("user_message_id"), Sql.instant(rs, "message_timestamp"), Sql.longOrNull(rs, "elapsed_ms"),
                rs.getString("error_message"), rs.getString("completion_id"),
                FinishReason.fromWire(rs.getString("finish_reason")), rs.getString("parent_id"),
                Origin.fromWire(rs.getString("origin")));
        return new MessageRow(m, rs.getString("owner"),
                SyncState.valueOf(rs.getString("sync_state").toUpperCase(Locale.ROOT)), rs.getString("error_code"),
                rs.getInt("error_retryable") == 1, Sql.longOrNull(rs, "outbox_seq"), rs.getString("reject_code"),
                rs.getString("reject_reason"));
    }
}
