package dev.parley.server.internal.chat;

import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.RenameRequest;
import dev.parley.protocol.Session;
import dev.parley.protocol.SessionsPage;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.SessionRepository;
import dev.parley.server.internal.store.SessionRepository.ActivityKey;
import dev.parley.server.internal.store.StoredSession;
import dev.parley.server.internal.store.UserRepository;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/** The sidebar list, rename (last writer wins) and delete (tombstone and purge) of sessions. Thread-safe. */
public final class SessionService {
    private final Database db;
    private final Clock clock;
    private final SessionRepository sessions = new SessionRepository();
    private final UserRepository users;

    public SessionService(Database db, Clock clock) {
        this.db = db;
        this.users = new UserRepository(db.dialect());
        this.clock = clock;
    }

    public SessionsPage list(String userId, String cursor, int limit) {
        ActivityKey after = decodeCursor(cursor);
        List<Session> rows = db.read(c -> sessions.page(c, userId, after, limit + 1));
        boolean hasMore = rows.size() > limit;
        List<Session> page = hasMore ? rows.subList(0, limit) : rows;
        String next = hasMore ? encodeCursor(ActivityKey.of(page.get(page.size() - 1))) : null;
        return new SessionsPage(List.copyOf(page), next, hasMore);
    }

    /** Renames when {@code titleUpdatedAt} is newer than the stored title's; answers the session as stored. */
    public Session rename(String userId, String sessionId, RenameRequest request) {
        Instant checkedAt = clock.instant();
        String problem = Validation.firstOf(Validation.id(sessionId, "session id"),
                request == null ? "the request body is required" : Validation.title(request.title()),
                request == null ? null : Validation.titleTime(request.titleUpdatedAt(), checkedAt));
        if (problem != null) {
            throw ApiException.badRequest(problem);
        }
        return db.inTransaction(c -> {
            users.lockForWrites(c, userId);
            Instant now = clock.instant();
            StoredSession stored = owned(c, userId, sessionId);
            if (stored.deleted()) {
                throw new ApiException(ErrorCode.CONFLICT, "This conversation was deleted.");
            }
            Instant at = request.titleUpdatedAt() == null ? now : request.titleUpdatedAt();
            sessions.renameIfNewer(c, sessionId, request.title(), at, now);
            return sessions.find(c, sessionId).orElseThrow().session();
        });
    }

    /** Tombstones the session and purges its messages' content; deleting a deleted session changes nothing. */
    public void delete(String userId, String sessionId) {
        String problem = Validation.id(sessionId, "session id");
        if (problem != null) {
            throw ApiException.badRequest(problem);
        }
        db.inTransaction(c -> {
            users.lockForWrites(c, userId);
            owned(c, userId, sessionId);
            Instant now = clock.instant();
            sessions.tombstone(c, sessionId, now, now);
            return null;
        });
    }

    private StoredSession owned(Connection c, String userId, String sessionId) throws SQLException {
        // Another user's session answers exactly like a missing one: no existence oracle.
        return sessions.find(c, sessionId)
                .filter(s -> s.userId().equals(userId))
                .orElseThrow(() -> ApiException.notFound("No such session."));
    }

    private static String encodeCursor(ActivityKey key) {
        String raw = key.activityMillis() + ":" + key.id();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    private static ActivityKey decodeCursor(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return null;
        }
        try {
            String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            int colon = raw.indexOf(':');
            ActivityKey key = new ActivityKey(Long.parseLong(raw.substring(0, colon)), raw.substring(colon + 1));
            if (Validation.id(key.id(), "cursor") == null) {
                return key;
            }
        } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
            // answered below
        }
        throw ApiException.badRequest("cursor must be a value returned as nextCursor by an earlier page");
    }
}
