package dev.parley.protocol;

import java.util.List;

/** One page of {@code GET /api/chat/sync}: rows changed after the cursor, oldest change first. */
public record SyncPage(List<Session> sessions, List<Message> messages, String nextCursor, boolean hasMore) {
}
