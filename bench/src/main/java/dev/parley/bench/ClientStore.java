package dev.parley.bench;

import dev.parley.client.SyncState;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.client.internal.LocalMessages;
import dev.parley.client.internal.LocalSessions;
import dev.parley.client.internal.MessageRow;
import dev.parley.client.internal.SessionRow;
import dev.parley.client.internal.Settings;
import dev.parley.protocol.Message;
import dev.parley.protocol.Session;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Fills a client's local store directly, through client-db's own schema and row classes (the same SQL the client
 * runs), to set up histories far larger than could be chatted in a benchmark. Rows written as {@code local} or
 * {@code pending} take outbox positions in order, exactly as the client assigns them. Not thread-safe.
 */
final class ClientStore {
    /** The file name {@code ChatClient} opens in its data directory. */
    static final String FILE = "parley-client.db";
    private static final int ROWS_PER_TRANSACTION = 5_000;

    private final LocalDatabase db;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();
    private final Settings settings = new Settings();

    ClientStore(LocalDatabase db) {
        this.db = db;
    }

    static Path file(Path dataDir) {
        return dataDir.resolve(FILE);
    }

    /**
     * Writes {@code sessionCount} sessions of {@code perSession} messages owned by {@code owner} ({@code null}:
     * signed out) in {@code state}, sessions and messages alike.
     *
     * @return the sessions written
     */
    List<Session> seed(Conversations conversations, String owner, SyncState state, int sessionCount, int perSession) {
        List<Session> written = new ArrayList<>(sessionCount);
        List<Session> chunkSessions = new ArrayList<>();
        List<Message> chunkMessages = new ArrayList<>();
        for (int s = 0; s < sessionCount; s++) {
            Session session = conversations.session("Plan review " + s);
            written.add(session);
            chunkSessions.add(session);
            chunkMessages.addAll(conversations.messages(session.id(), perSession));
            if (chunkMessages.size() >= ROWS_PER_TRANSACTION || s == sessionCount - 1) {
                write(owner, state, chunkSessions, chunkMessages);
                chunkSessions.clear();
                chunkMessages.clear();
            }
        }
        return written;
    }

    /** Writes the rows in one transaction; messages of a session listed here update its activity. */
    void write(String owner, SyncState state, List<Session> newSessions, List<Message> newMessages) {
        db.inTransaction(c -> {
            for (Session s : newSessions) {
                List<Message> own = newMessages.stream().filter(m -> m.sessionId().equals(s.id())).toList();
                Message last = own.isEmpty() ? null : own.get(own.size() - 1);
                sessions.put(c, new SessionRow(s.id(), owner, s.title(), s.titleUpdatedAt(), s.createdAt(), null,
                        last == null ? s.createdAt() : last.messageTimestamp(),
                        last == null ? "" : preview(last.content()), state, seq(c, state), null, null));
            }
            for (Message m : newMessages) {
                messages.put(c, new MessageRow(m, owner, state, null, false, seq(c, state), null, null));
            }
            return null;
        });
    }

    int count(String owner, SyncState state) {
        return db.inTransaction(c -> messages.count(c, owner, state));
    }

    private Long seq(Connection c, SyncState state) throws SQLException {
        return state == SyncState.LOCAL || state == SyncState.PENDING ? settings.nextOutboxSeq(c) : null;
    }

    private static String preview(String content) {
        return content.length() > 200 ? content.substring(0, 200) : content;
    }
}
