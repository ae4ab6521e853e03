package dev.parley.client.internal;

import dev.parley.client.LocalSession;
import dev.parley.client.SyncState;
import dev.parley.protocol.Session;
import java.time.Instant;

/** A row of the local {@code sessions} table. Immutable; the {@code with…} methods return changed copies. */
public record SessionRow(String id, String owner, String title, Instant titleUpdatedAt, Instant createdAt,
                         Instant deletedAt, Instant lastActivityAt, String preview, SyncState syncState,
                         Long outboxSeq, String rejectCode, String rejectReason) {

    public LocalSession toLocal() {
        return new LocalSession(id, title, titleUpdatedAt, createdAt, deletedAt, lastActivityAt, preview, syncState,
                rejectReason);
    }

    /** The row as it is pushed. */
    public Session toWire() {
        return Session.of(id, title, titleUpdatedAt, createdAt, deletedAt);
    }

    public SessionRow withSync(SyncState state, Long seq, String code, String reason) {
        return new SessionRow(id, owner, title, titleUpdatedAt, createdAt, deletedAt, lastActivityAt, preview, state,
                seq, code, reason);
    }

    public SessionRow withOwner(String newOwner) {
        return new SessionRow(id, newOwner, title, titleUpdatedAt, createdAt, deletedAt, lastActivityAt, preview,
                syncState, outboxSeq, rejectCode, rejectReason);
    }

    public SessionRow withTitle(String newTitle, Instant at) {
        return new SessionRow(id, owner, newTitle, at, createdAt, deletedAt, lastActivityAt, preview, syncState,
                outboxSeq, rejectCode, rejectReason);
    }

    public SessionRow withDeletedAt(Instant at) {
        return new SessionRow(id, owner, title, titleUpdatedAt, createdAt, at, lastActivityAt, preview, syncState,
                outboxSeq, rejectCode, rejectReason);
    }

    public SessionRow withActivity(Instant at, String newPreview) {
        Instant latest = lastActivityAt == null || at.isAfter(lastActivityAt) ? at : lastActivityAt;
        return new SessionRow(id, owner, title, titleUpdatedAt, createdAt, deletedAt, latest, newPreview, syncState,
                outboxSeq, rejectCode, rejectReason);
    }
}
