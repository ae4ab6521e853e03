package dev.parley.server.internal.store;

import dev.parley.protocol.Session;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** SQL for {@code chat_sessions}. Statistics columns are written by triggers only. Stateless and thread-safe. */
public final class SessionRepository {
    private final ClaimRepository claims = new ClaimRepository();
    private static final String COLUMNS = "id, user_id, title, title_updated_at, system_prompt,"
            + " system_prompt_updated_at, created_at, deleted_at, message_count, total_tokens, last_model,"
            + " last_message_preview, last_message_timestamp, change_seq";

    public Optional<StoredSession> find(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM chat_sessions WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new StoredSession(rs.getString("user_id"), map(rs))) : Optional.empty();
            }
        }
    }

    /**
     * Inserts a new session owned by {@code userId}, with its system prompt and that prompt's time as given (an
     * empty prompt is stored as none); a tombstoned session is inserted as such.
     */
    public void insert(Connection c, String userId, Session s, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_sessions"
                + " (id, user_id, title, title_updated_at, system_prompt, system_prompt_updated_at, created_at,"
                + " updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, s.id());
            ps.setString(2, userId);
            ps.setString(3, s.title());
            Rows.setInstant(ps, 4, s.titleUpdatedAt());
            ps.setString(5, noneIfEmpty(s.systemPrompt()));
            Rows.setInstant(ps, 6, s.systemPromptUpdatedAt());
            Rows.setInstant(ps, 7, s.createdAt());
            Rows.setInstant(ps, 8, now);
            Rows.setInstant(ps, 9, s.deletedAt());
            ps.executeUpdate();
        }
    }

    /** Sets the title when {@code titleUpdatedAt} is newer than the stored one; true when it did. */
    public boolean renameIfNewer(Connection c, String id, String title, Instant titleUpdatedAt, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE chat_sessions SET title = ?, title_updated_at = ?,"
                + " updated_at = ? WHERE id = ? AND (title_updated_at IS NULL OR title_updated_at < ?)")) {
            ps.setString(1, title);
            Rows.setInstant(ps, 2, titleUpdatedAt);
            Rows.setInstant(ps, 3, now);
            ps.setString(4, id);
            Rows.setInstant(ps, 5, titleUpdatedAt);
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Sets the system prompt when {@code updatedAt} is newer than the stored prompt's time, independently of the
     * title; an empty or {@code null} prompt clears it. True when it did. The time is kept when the prompt is cleared,
     * so that an older edit arriving later cannot bring the prompt back.
     */
    public boolean setSystemPromptIfNewer(Connection c, String id, String systemPrompt, Instant updatedAt,
                                          Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE chat_sessions SET system_prompt = ?,"
                + " system_prompt_updated_at = ?, updated_at = ? WHERE id = ?"
                + " AND (system_prompt_updated_at IS NULL OR system_prompt_updated_at < ?)")) {
            ps.setString(1, noneIfEmpty(systemPrompt));
            Rows.setInstant(ps, 2, updatedAt);
            Rows.setInstant(ps, 3, now);
            ps.setString(4, id);
            Rows.setInstant(ps, 5, updatedAt);
            return ps.executeUpdate() == 1;
        }
    }

    private static String noneIfEmpty(String systemPrompt) {
        return systemPrompt == null || systemPrompt.isEmpty() ? null : systemPrompt;
    }

    /**
     * Tombstones a session and purges its messages' content and its system prompt (the text its model was told
     * first, as much the user's writing as a message), and removes its claims (SPEC §5.3) with the text they held;
     * accounting fields stay. True when the session was live.
     */
    public boolean tombstone(Connection c, String id, Instant deletedAt, Instant now) throws SQLException {
        int changed;
        try (PreparedStatement ps = c.prepareStatement("UPDATE chat_sessions SET deleted_at = ?, updated_at = ?,"
                + " last_message_preview = '', system_prompt = NULL WHERE id = ? AND deleted_at IS NULL")) {
            Rows.setInstant(ps, 1, deletedAt);
            Rows.setInstant(ps, 2, now);
            ps.setString(3, id);
            changed = ps.executeUpdate();
        }
        if (changed == 1) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE chat_messages SET content = '', purged = TRUE,"
                    + " updated_at = ? WHERE session_id = ? AND purged = FALSE")) {
                Rows.setInstant(ps, 1, now);
                ps.setString(2, id);
                ps.executeUpdate();
            }
            claims.deleteOfSession(c, id);
        }
        return changed == 1;
    }

    /** The user's sessions changed after {@code seq}, oldest change first, at most {@code limit}. */
    public List<Changed<Session>> changedSince(Connection c, String userId, long seq, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM chat_sessions"
                + " WHERE user_id = ? AND change_seq > ? ORDER BY change_seq LIMIT ?")) {
            ps.setString(1, userId);
            ps.setLong(2, seq);
            ps.setInt(3, limit);
            List<Changed<Session>> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Changed<>(rs.getLong("change_seq"), map(rs)));
                }
            }
            return rows;
        }
    }

    /**
     * One page of the user's live sessions, newest activity first. {@code after} is the last row of the previous
     * page (activity millis and id), or {@code null} for the first page.
     */
    public List<Session> page(Connection c, String userId, ActivityKey after, int limit) throws SQLException {
        String activity = "coalesce(last_message_timestamp, created_at)";
        String sql = "SELECT " + COLUMNS + " FROM chat_sessions WHERE user_id = ? AND deleted_at IS NULL"
                + (after == null ? "" : " AND (" + activity + " < ? OR (" + activity + " = ? AND id < ?))")
                + " ORDER BY " + activity + " DESC, id DESC LIMIT ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, userId);
            if (after != null) {
                ps.setLong(i++, after.activityMillis());
                ps.setLong(i++, after.activityMillis());
                ps.setString(i++, after.id());
            }
            ps.setInt(i, limit);
            List<Session> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(map(rs));
                }
            }
            return rows;
        }
    }

    /** Position of a session in the activity order. */
    public record ActivityKey(long activityMillis, String id) {
        public static ActivityKey of(Session s) {
            Instant activity = s.lastMessageTimestamp() != null ? s.lastMessageTimestamp() : s.createdAt();
            return new ActivityKey(activity.toEpochMilli(), s.id());
        }
    }

    private static Session map(ResultSet rs) throws SQLException {
        return new Session(
                rs.getString("id"),
                rs.getString("title"),
                Rows.instant(rs, "title_updated_at"),
                rs.getString("system_prompt"),
                Rows.instant(rs, "system_prompt_updated_at"),
                Rows.instant(rs, "created_at"),
                Rows.instant(rs, "deleted_at"),
                rs.getLong("message_count"),
                rs.getLong("total_tokens"),
                rs.getString("last_model"),
                rs.getString("last_message_preview"),
                Rows.instant(rs, "last_message_timestamp"));
    }
}
