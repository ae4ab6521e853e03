package dev.parley.client;

import java.time.Instant;

/**
 * A conversation as listed in the sidebar. Immutable.
 *
 * @param lastActivityAt the newest message's time, or the creation time of an empty conversation
 * @param preview        the start of the newest message
 */
public record LocalSession(String id, String title, Instant titleUpdatedAt, Instant createdAt, Instant deletedAt,
                           Instant lastActivityAt, String preview, SyncState syncState, String rejectReason) {
}
