package dev.parley.protocol;

import java.time.Instant;

/**
 * A chat session on the wire (SPEC §5.0). The statistics fields are filled in responses only and ignored on input.
 * {@code titleUpdatedAt} orders renames (last writer wins); a non-null {@code deletedAt} is a tombstone.
 */
public record Session(
        String id,
        String title,
        Instant titleUpdatedAt,
        Instant createdAt,
        Instant deletedAt,
        Long messageCount,
        Long totalTokens,
        String lastModel,
        String lastMessagePreview,
        Instant lastMessageTimestamp) {

    /** A session as a client sends it, without statistics. */
    public static Session of(String id, String title, Instant titleUpdatedAt, Instant createdAt, Instant deletedAt) {
        return new Session(id, title, titleUpdatedAt, createdAt, deletedAt, null, null, null, null, null);
    }
}
