package dev.parley.client.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * SQL for the local {@code branch_choices} table: the sibling this device shows at each fork of a conversation
 * (SPEC §4.3: the device's own choice, never synced or pushed). Stateless and thread-safe.
 */
public final class BranchChoices {
    private static final String ROOT = "root:";

    /** The key of the fork whose siblings follow {@code parentId}: the parent's id, or the session's for roots. */
    public static String key(String sessionId, String parentId) {
        return parentId != null ? parentId : ROOT + sessionId;
    }

    public void choose(Connection c, String parentKey, String messageId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO branch_choices (parent_key, message_id)"
                + " VALUES (?, ?) ON CONFLICT (parent_key) DO UPDATE SET message_id = excluded.message_id")) {
            ps.setString(1, parentKey);
            ps.setString(2, messageId);
            ps.executeUpdate();
        }
    }

    /**
     * The choices that may apply to a session: those keyed by one of its messages' ids or by its root key (a
     * message id names one session, so the join finds exactly that session's forks).
     */
    public Map<String, String> ofSession(Connection c, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT parent_key, message_id FROM branch_choices"
                + " WHERE parent_key = ? OR parent_key IN (SELECT id FROM messages WHERE session_id = ?)"
                + " OR parent_key IN (SELECT reply_id FROM unfinished_replies WHERE session_id = ?)")) {
            ps.setString(1, ROOT + sessionId);
            ps.setString(2, sessionId);
            ps.setString(3, sessionId);
            Map<String, String> choices = new HashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    choices.put(rs.getString(1), rs.getString(2));
                }
            }
            return choices;
        }
    }
}
