package dev.parley.server.internal.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;

/**
 * SQL for {@code chat_claims}, the database-held guard that lets one process at a time answer a message id.
 * Stateless and thread-safe.
 */
public final class ClaimRepository {

    /**
     * Claims {@code messageId} until {@code expiresAt}; true when this caller holds the claim now. A claim whose
     * holder died (past its expiry) is taken over.
     */
    public boolean tryClaim(Connection c, String messageId, String token, String userId, Instant now,
                            Instant expiresAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_claims (message_id, claim_token, user_id,"
                + " claimed_at, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET"
                + " claim_token = excluded.claim_token, user_id = excluded.user_id,"
                + " claimed_at = excluded.claimed_at, expires_at = excluded.expires_at"
                + " WHERE chat_claims.expires_at < excluded.claimed_at")) {
            ps.setString(1, messageId);
            ps.setString(2, token);
            ps.setString(3, userId);
            Rows.setInstant(ps, 4, now);
            Rows.setInstant(ps, 5, expiresAt);
            return ps.executeUpdate() == 1;
        }
    }

    /** Releases the claim if this holder still has it (a claim taken over after expiry is not ours to delete). */
    public void release(Connection c, String messageId, String token) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM chat_claims WHERE message_id = ? AND claim_token = ?")) {
            ps.setString(1, messageId);
            ps.setString(2, token);
            ps.executeUpdate();
        }
    }
}
