package dev.parley.server.internal.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** SQL for {@code auth_tokens}; only hashes of tokens are stored. Stateless and thread-safe. */
public final class TokenRepository {

    /**
     * A stored token. {@code rotatedAt} is when a refresh spent it (a refresh token only), {@code null} when it was
     * never spent or was revoked otherwise (sign-out, reuse).
     */
    public record TokenRow(String tokenHash, String userId, String kind, String familyId, Instant expiresAt,
                           Instant revokedAt, Instant rotatedAt) {
    }

    public void insert(Connection c, TokenRow token, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO auth_tokens"
                + " (token_hash, user_id, kind, family_id, expires_at, revoked_at, created_at)"
                + " VALUES (?, ?, ?, ?, ?, NULL, ?)")) {
            ps.setString(1, token.tokenHash());
            ps.setString(2, token.userId());
            ps.setString(3, token.kind());
            ps.setString(4, token.familyId());
            Rows.setInstant(ps, 5, token.expiresAt());
            Rows.setInstant(ps, 6, now);
            ps.executeUpdate();
        }
    }

    public Optional<TokenRow> find(Connection c, String tokenHash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT token_hash, user_id, kind, family_id, expires_at,"
                + " revoked_at, rotated_at FROM auth_tokens WHERE token_hash = ?")) {
            ps.setString(1, tokenHash);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new TokenRow(rs.getString("token_hash"), rs.getString("user_id"),
                        rs.getString("kind"), rs.getString("family_id"), Rows.instant(rs, "expires_at"),
                        Rows.instant(rs, "revoked_at"), Rows.instant(rs, "rotated_at")));
            }
        }
    }

    /**
     * Spends a refresh token if it is still live, recording when; true when this call spent it (so two racing
     * refreshes can't both win).
     */
    public boolean rotate(Connection c, String tokenHash, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE auth_tokens SET revoked_at = ?, rotated_at = ?"
                + " WHERE token_hash = ? AND revoked_at IS NULL")) {
            Rows.setInstant(ps, 1, now);
            Rows.setInstant(ps, 2, now);
            ps.setString(3, tokenHash);
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Spends every live refresh token of a family, as rotated now: a refresh in the grace after a lost answer
     * replaces the pair that answer carried, which may yet turn up within the same grace.
     */
    public void rotateLiveRefreshTokens(Connection c, String familyId, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE auth_tokens SET revoked_at = ?, rotated_at = ?"
                + " WHERE family_id = ? AND kind = 'refresh' AND revoked_at IS NULL")) {
            Rows.setInstant(ps, 1, now);
            Rows.setInstant(ps, 2, now);
            ps.setString(3, familyId);
            ps.executeUpdate();
        }
    }

    /** Whether the family still has a refresh token that is neither spent, revoked nor expired. */
    public boolean familyLive(Connection c, String familyId, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM auth_tokens WHERE family_id = ?"
                + " AND kind = 'refresh' AND revoked_at IS NULL AND expires_at > ?")) {
            ps.setString(1, familyId);
            Rows.setInstant(ps, 2, now);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Deletes the tokens that can never be used again and tell nothing: expired ones, revoked access tokens, and
     * the revoked tokens of a family that has no live token left (signed out, or ended by a reuse). The spent
     * refresh tokens of a live family stay until they expire, so that one presented again still reveals a theft
     * and revokes its family.
     *
     * @return rows deleted
     */
    public int purge(Connection c, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM auth_tokens WHERE expires_at <= ?"
                + " OR (revoked_at IS NOT NULL AND (kind = 'access' OR NOT EXISTS (SELECT 1 FROM auth_tokens live"
                + " WHERE live.family_id = auth_tokens.family_id AND live.revoked_at IS NULL"
                + " AND live.expires_at > ?)))")) {
            Rows.setInstant(ps, 1, now);
            Rows.setInstant(ps, 2, now);
            return ps.executeUpdate();
        }
    }

    /** Revokes the live access tokens of a family: a refresh replaces them. */
    public void revokeAccessTokens(Connection c, String familyId, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE auth_tokens SET revoked_at = ?"
                + " WHERE family_id = ? AND kind = 'access' AND revoked_at IS NULL")) {
            Rows.setInstant(ps, 1, now);
            ps.setString(2, familyId);
            ps.executeUpdate();
        }
    }

    /** Revokes every live token of a family (sign-out, or a reused refresh token). */
    public void revokeFamily(Connection c, String familyId, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE auth_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL")) {
            Rows.setInstant(ps, 1, now);
            ps.setString(2, familyId);
            ps.executeUpdate();
        }
    }
}
