package dev.parley.server.internal.chat;

import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.Session;
import dev.parley.protocol.SyncPage;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.store.Changed;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.MessageRepository;
import dev.parley.server.internal.store.SessionRepository;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /api/chat/sync}: the user's sessions and messages changed after a cursor, oldest change first. The
 * cursor is a position on the user's own change clock, which writers advance under the user's row lock, so a page
 * never skips a change that commits later with a smaller position. Read-only. Thread-safe.
 */
public final class SyncService {
    private final Database db;
    private final SessionRepository sessions = new SessionRepository();
    private final MessageRepository messages = new MessageRepository();

    public SyncService(Database db) {
        this.db = db;
    }

    public SyncPage page(String userId, String cursor, int limit) {
        long after = parseCursor(cursor);
        return db.read(c -> {
            List<Changed<Session>> changedSessions = sessions.changedSince(c, userId, after, limit + 1);
            List<Changed<Message>> changedMessages = messages.changedSince(c, userId, after, limit + 1);
            List<Session> pageSessions = new ArrayList<>();
            List<Message> pageMessages = new ArrayList<>();
            int s = 0;
            int m = 0;
            long last = after;
            while (pageSessions.size() + pageMessages.size() < limit
                    && (s < changedSessions.size() || m < changedMessages.size())) {
                boolean takeSession = m >= changedMessages.size()
                        || (s < changedSessions.size() && changedSessions.get(s).seq() < changedMessages.get(m).seq());
                if (takeSession) {
                    last = changedSessions.get(s).seq();
                    pageSessions.add(changedSessions.get(s++).row());
                } else {
                    last = changedMessages.get(m).seq();
                    pageMessages.add(changedMessages.get(m++).row());
                }
            }
            boolean hasMore = s < changedSessions.size() || m < changedMessages.size();
            return new SyncPage(pageSessions, pageMessages, Long.toString(last), hasMore);
        });
    }

    static long parseCursor(String cursor) {
        if (cursor == null || cursor.isEmpty()) {
            return 0;
        }
        try {
            long value = Long.parseLong(cursor);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.badRequest("cursor must be a value returned as nextCursor by an earlier sync");
    }

    /** The page size asked for, defaulted and checked against the limits. */
    public static int limit(String text) {
        if (text == null || text.isEmpty()) {
            return Limits.DEFAULT_PAGE_LIMIT;
        }
        try {
            int value = Integer.parseInt(text);
            if (value >= 1 && value <= Limits.MAX_PAGE_LIMIT) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.badRequest("limit must be a whole number from 1 to " + Limits.MAX_PAGE_LIMIT);
    }
}
