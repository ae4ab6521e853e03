package dev.parley.server.internal.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** SQL for {@code auth_tokens}; only hashes of tokens are stored. Stateless and thread-safe. */
public final class TokenRepository {

    /** A stored token. */
    public record TokenRow(String tokenHash, String userId, String kind, String familyId, Instant expiresAt,
                           Instant revokedAt) {
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
                + " revoked_at FROM auth_tokens WHERE token_hash = ?")) {
            ps.setString(1, tokenHash);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new TokenRow(rs.getString("token_hash"), rs.getString("user_id"),
                        rs.getString("kind"), rs.getString("family_id"), Rows.instant(rs, "expires_at"),
                        Rows.instant(rs, "revoked_at")));
            }
        }
    }

    /** Revokes one token if it is still live; true when this call revoked it (so two racing refreshes can't both win). */
    public boolean revoke(Connection c, String tokenHash, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE auth_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL")) {
            Rows.setInstant(ps, 1, now);
            ps.setString(2, tokenHash);
            return ps.executeUpdate() == 1;
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
