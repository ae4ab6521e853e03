package dev.parley.server.internal.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * SQL for {@code chat_claims}: the database-held guard that lets one process at a time answer a message id, and
 * the live state of that answer (its text so far, its heartbeat, a stop request) that every process sharing the
 * database can read (SPEC §5.3). Stateless and thread-safe.
 */
public final class ClaimRepository {
    private static final String COLUMNS = "message_id, claim_token, user_id, session_id, reply_id, holder,"
            + " start_event, content, content_length, stop_requested, expires_at";

    /** What a new claim records about its generation. */
    public record NewClaim(String messageId, String token, String userId, String sessionId, String replyId,
                           String holder, String startEvent) {
    }

    /**
     * A claim as stored. {@code expiresAt} in the past means its holder stopped renewing it: the process died.
     *
     * @param startEvent the stream's start event as JSON; {@code null} for a claim written before streaming
     * @param content    the reply's text so far, as far as the holder has written it
     */
    public record Claim(String messageId, String token, String userId, String sessionId, String replyId,
                        String holder, String startEvent, String content, int contentLength, boolean stopRequested,
                        Instant expiresAt) {
        public boolean lapsed(Instant now) {
            return expiresAt.isBefore(now);
        }
    }

    /**
     * Claims a message id until {@code expiresAt}; true when this caller holds the claim now. A claim whose holder
     * stopped renewing it (past its expiry) is taken over, and starts again from no text.
     */
    public boolean tryClaim(Connection c, NewClaim claim, Instant now, Instant expiresAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_claims (message_id, claim_token, user_id,"
                + " session_id, reply_id, holder, start_event, claimed_at, expires_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (message_id) DO UPDATE SET claim_token = excluded.claim_token,"
                + " user_id = excluded.user_id, session_id = excluded.session_id, reply_id = excluded.reply_id,"
                + " holder = excluded.holder,"
                + " start_event = excluded.start_event, claimed_at = excluded.claimed_at,"
                + " expires_at = excluded.expires_at, content = '', content_length = 0, stop_requested = ?"
                + " WHERE chat_claims.expires_at < excluded.claimed_at")) {
            ps.setString(1, claim.messageId());
            ps.setString(2, claim.token());
            ps.setString(3, claim.userId());
            ps.setString(4, claim.sessionId());
            ps.setString(5, claim.replyId());
            ps.setString(6, claim.holder());
            ps.setString(7, claim.startEvent());
            Rows.setInstant(ps, 8, now);
            Rows.setInstant(ps, 9, expiresAt);
            ps.setBoolean(10, false);
            return ps.executeUpdate() == 1;
        }
    }

    /** How many of the user's claims other than {@code messageId} are live (not lapsed) at {@code now}. */
    public int countLive(Connection c, String userId, String messageId, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM chat_claims"
                + " WHERE user_id = ? AND expires_at >= ? AND message_id <> ?")) {
            ps.setString(1, userId);
            Rows.setInstant(ps, 2, now);
            ps.setString(3, messageId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** A live generation as the live change stream tells of it (SPEC §5.5); its text is left out. */
    public record LiveClaim(String userId, String claimKey, String token, String replyId, String sessionId,
                            String startEvent) {
    }

    /**
     * The live (not lapsed) claims of {@code userIds} at {@code now}, through the claims' user index. One query; the
     * caller keeps {@code userIds} to a few hundred.
     */
    public List<LiveClaim> liveOf(Connection c, Collection<String> userIds, Instant now) throws SQLException {
        List<LiveClaim> live = new ArrayList<>();
        if (userIds.isEmpty()) {
            return live;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT user_id, message_id, claim_token, reply_id,"
                + " session_id, start_event FROM chat_claims WHERE user_id IN (" + Rows.placeholders(userIds.size())
                + ") AND expires_at >= ?")) {
            int next = Rows.setStrings(ps, 1, userIds);
            Rows.setInstant(ps, next, now);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    live.add(new LiveClaim(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6)));
                }
            }
        }
        return live;
    }

    public Optional<Claim> find(Connection c, String messageId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM chat_claims WHERE message_id = ?")) {
            ps.setString(1, messageId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    /**
     * The holder's heartbeat: appends {@code appended} to the claim's text and renews it until {@code expiresAt}.
     * False when the claim is no longer this holder's (it lapsed and was taken over, or it was released).
     */
    public boolean progress(PreparedStatement update, String messageId, String token, String appended,
                            int contentLength, Instant expiresAt) throws SQLException {
        update.setString(1, appended);
        update.setInt(2, contentLength);
        Rows.setInstant(update, 3, expiresAt);
        update.setString(4, messageId);
        update.setString(5, token);
        return update.executeUpdate() == 1;
    }

    /** The statement {@link #progress} runs, prepared once for a whole heartbeat of many claims. */
    public PreparedStatement prepareProgress(Connection c) throws SQLException {
        return c.prepareStatement("UPDATE chat_claims SET content = content || ?, content_length = ?,"
                + " expires_at = ? WHERE message_id = ? AND claim_token = ?");
    }

    /** Claims that lapsed before {@code cutoff}, oldest first, at most {@code limit}. */
    public List<Claim> lapsedBefore(Connection c, Instant cutoff, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM chat_claims"
                + " WHERE expires_at < ? ORDER BY expires_at LIMIT ?")) {
            Rows.setInstant(ps, 1, cutoff);
            ps.setInt(2, limit);
            List<Claim> found = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(map(rs));
                }
            }
            return found;
        }
    }

    /**
     * Removes every claim in a conversation being deleted, with the text it held: a live generation there finds
     * its claim gone at its next heartbeat, stops its model and stores nothing.
     */
    public void deleteOfSession(Connection c, String sessionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM chat_claims WHERE session_id = ?")) {
            ps.setString(1, sessionId);
            ps.executeUpdate();
        }
    }

    /** Message ids of the holder's claims that someone asked to stop. */
    public List<String> stopRequests(Connection c, String holder) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT message_id FROM chat_claims WHERE holder = ? AND stop_requested = ?")) {
            ps.setString(1, holder);
            ps.setBoolean(2, true);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    /** Asks the holder of a live claim to stop; true when there was a live claim to ask. */
    public boolean requestStop(Connection c, String messageId, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE chat_claims SET stop_requested = ?"
                + " WHERE message_id = ? AND expires_at >= ?")) {
            ps.setBoolean(1, true);
            ps.setString(2, messageId);
            Rows.setInstant(ps, 3, now);
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Releases the claim if this holder still has it (a claim taken over after expiry is not ours to delete); true
     * when it did.
     */
    public boolean release(Connection c, String messageId, String token) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM chat_claims WHERE message_id = ? AND claim_token = ?")) {
            ps.setString(1, messageId);
            ps.setString(2, token);
            return ps.executeUpdate() == 1;
        }
    }

    private static Claim map(ResultSet rs) throws SQLException {
        return new Claim(rs.getString("message_id"), rs.getString("claim_token"), rs.getString("user_id"),
                rs.getString("session_id"), rs.getString("reply_id"), rs.getString("holder"), rs.getString("start_event"),
                rs.getString("content"), rs.getInt("content_length"), rs.getBoolean("stop_requested"),
                Rows.instant(rs, "expires_at"));
    }
}
