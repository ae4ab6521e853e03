package dev.parley.server.internal.store;

import dev.parley.protocol.Session;

/** A session row with its owner. */
public record StoredSession(String userId, Session session) {
    public boolean deleted() {
        return session.deletedAt() != null;
    }
}
