package dev.parley.client.internal;

import dev.parley.client.ChatParameters;
import dev.parley.client.SyncState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** SQL for the local {@code sessions} table. Stateless and thread-safe. */
public final class LocalSessions {
    private static final String COLUMNS = "id, owner, title, title_updated_at, created_at, deleted_at,"
            + " last_activity_at, last_preview, sync_state, outbox_seq, reject_code, reject_reason, system_prompt,"
            + " system_prompt_updated_at";

    /** Inserts or replaces the row with this id; this device's chat parameters of the row stay as they are. */
    public void put(Connection c, SessionRow r) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO sessions (" + COLUMNS + ")"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                + " owner = excluded.owner,"
                + " title = excluded.title, title_updated_at = excluded.title_updated_at,"
                + " created_at = excluded.created_at, deleted_at = excluded.deleted_at,"
                + " last_activity_at = excluded.last_activity_at, last_preview = excluded.last_preview,"
                + " sync_state = excluded.sync_state, outbox_seq = excluded.outbox_seq,"
                + " reject_code = excluded.reject_code, reject_reason = excluded.reject_reason,"
                + " system_prompt = excluded.system_prompt,"
                + " system_prompt_updated_at = excluded.system_prompt_updated_at")) {
            ps.setString(1, r.id());
            ps.setString(2, r.owner());
            ps.setString(3, r.title());
            Sql.instant(ps, 4, r.titleUpdatedAt());
            Sql.instant(ps, 5, r.createdAt());
            Sql.instant(ps, 6, r.deletedAt());
            Sql.instant(ps, 7, r.lastActivityAt());
            ps.setString(8, r.preview() == null ? "" : r.preview());
            ps.setString(9, r.syncState().name().toLowerCase(Locale.ROOT));
            Sql.longOrNull(ps, 10, r.outboxSeq());
            ps.setString(11, r.rejectCode());
            ps.setString(12, r.rejectReason());
            ps.setString(13, r.systemPrompt());
            Sql.instant(ps, 14, r.systemPromptUpdatedAt());
            ps.executeUpdate();
        }
    }

    /** This device's own chat parameters of the session ({@link ChatParameters#NONE} when it has none). */
    public ChatParameters parameters(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT temperature, max_tokens FROM sessions WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return ChatParameters.NONE;
                }
                double temperature = rs.getDouble(1);
                Double t = rs.wasNull() ? null : temperature;
                int maxTokens = rs.getInt(2);
                Integer m = rs.wasNull() ? null : maxTokens;
                return new ChatParameters(t, m);
            }
        }
    }

    /** Stores this device's own chat parameters of the session; they are never pushed. */
    public void setParameters(Connection c, String id, ChatParameters parameters) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE sessions SET temperature = ?, max_tokens = ?"
                + " WHERE id = ?")) {
            if (parameters.temperature() == null) {
                ps.setNull(1, Types.REAL);
            } else {
                ps.setDouble(1, parameters.temperature());
            }
            if (parameters.maxTokens() == null) {
                ps.setNull(2, Types.INTEGER);
            } else {
                ps.setInt(2, parameters.maxTokens());
            }
            ps.setString(3, id);
            ps.executeUpdate();
        }
    }

    public Optional<SessionRow> find(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM sessions WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    /**
     * One page of the live conversations of {@code owner} ({@code null}: signed out), newest activity first,
     * optionally filtered by a text found in the title or in any message.
     *
     * @param after the last row of the previous page, or {@code null}
     */
    public List<SessionRow> page(Connection c, String owner, String search, SessionRow after, int limit)
            throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM sessions s"
                + " WHERE owner IS ? AND deleted_at IS NULL");
        boolean filtered = search != null && !search.isBlank();
        if (filtered) {
            sql.append(" AND (title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m"
                    + " WHERE m.session_id = s.id AND m.content LIKE ? ESCAPE '\\'))");
        }
        if (after != null) {
            sql.append(" AND (last_activity_at < ? OR (last_activity_at = ? AND id < ?))");
        }
        sql.append(" ORDER BY last_activity_at DESC, id DESC LIMIT ?");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            ps.setString(i++, owner);
            if (filtered) {
                String pattern = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                        + "%";
                ps.setString(i++, pattern);
                ps.setString(i++, pattern);
            }
            if (after != null) {
                Sql.instant(ps, i++, after.lastActivityAt());
                Sql.instant(ps, i++, after.lastActivityAt());
                ps.setString(i++, after.id());
            }
            ps.setInt(i, limit);
            List<SessionRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(map(rs));
                }
            }
            return rows;
        }
    }

    /** Pending rows of {@code owner}, oldest first (the outbox order). */
    public List<SessionRow> pending(Connection c, String owner, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM sessions"
                + " WHERE sync_state = 'pending' AND owner = ? ORDER BY outbox_seq LIMIT ?")) {
            ps.setString(1, owner);
            ps.setInt(2, limit);
            List<SessionRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(map(rs));
                }
            }
            return rows;
        }
    }

    /** Gives the rows written while signed out to {@code owner}, as unsent rows of that account. */
    public int adopt(Connection c, String owner) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE sessions SET owner = ?, sync_state = 'pending'"
                + " WHERE owner IS NULL AND sync_state = 'local' AND sync_state <> 'synced'")) {
            ps.setString(1, owner);
            return ps.executeUpdate();
        }
    }

    /** Rows of {@code owner} in {@code state}; an unsent state reads only the sessions_unsent index. */
    public int count(Connection c, String owner, SyncState state) throws SQLException {
        // The repeated "<> 'synced'" is what lets SQLite use the partial index, whose WHERE it must see verbatim.
        try (PreparedStatement ps = c.prepareStatement(state == SyncState.SYNCED
                ? "SELECT count(*) FROM sessions WHERE owner IS ? AND sync_state = ?"
                : "SELECT count(*) FROM sessions WHERE owner IS ? AND sync_state = ? AND sync_state <> 'synced'")) {
            ps.setString(1, owner);
            ps.setString(2, state.name().toLowerCase(Locale.ROOT));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static SessionRow map(ResultSet rs) throws SQLException {
        return new SessionRow(rs.getString("id"), rs.getString("owner"), rs.getString("title"),
                Sql.instant(rs, "title_updated_at"), rs.getString("system_prompt"),
                Sql.instant(rs, "system_prompt_updated_at"), Sql.instant(rs, "created_at"),
                Sql.instant(rs, "deleted_at"),
                Sql.instant(rs, "last_activity_at"), rs.getString("last_preview"),
                SyncState.valueOf(rs.getString("sync_state").toUpperCase(Locale.ROOT)), Sql.longOrNull(rs, "outbox_seq"),
                rs.getString("reject_code"), rs.getString("reject_reason"));
    }
}
