package dev.parley.client;

import java.time.Instant;

/**
 * A conversation as listed in the sidebar. Immutable.
 *
 * @param systemPrompt   the conversation's own system prompt, or {@code null} for none
 * @param lastActivityAt the newest message's time, or the creation time of an empty conversation
 * @param preview        the start of the newest message
 * @param rejectReason   why the server refused the conversation's last change, or {@code null}
 */
public record LocalSession(String id, String title, Instant titleUpdatedAt, String systemPrompt, Instant createdAt,
                           Instant deletedAt, Instant lastActivityAt, String preview, SyncState syncState,
                           String rejectReason) {

    /** A conversation without a system prompt. */
    public LocalSession(String id, String title, Instant titleUpdatedAt, Instant createdAt, Instant deletedAt,
                        Instant lastActivityAt, String preview, SyncState syncState, String rejectReason) {
        this(id, title, titleUpdatedAt, null, createdAt, deletedAt, lastActivityAt, preview, syncState,
                rejectReason);
    }
}
