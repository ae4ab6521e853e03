package dev.parley.protocol;

import java.util.List;

/** One page of {@code GET /api/chat/sessions}: live sessions, newest activity first. */
public record SessionsPage(List<Session> sessions, String nextCursor, boolean hasMore) {
}
