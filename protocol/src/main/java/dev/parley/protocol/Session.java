package dev.parley.protocol;

import java.time.Instant;

/**
 * A chat session on the wire (SPEC §5.0). The statistics fields are filled in responses only and ignored on input.
 * {@code titleUpdatedAt} orders renames and {@code systemPromptUpdatedAt} system-prompt edits, each last writer wins
 * on its own; a {@code systemPrompt} without its time is not an edit and is ignored on input, and an empty one
 * clears it. A non-null {@code deletedAt} is a tombstone.
 */
public record Session(
        String id,
        String title,
        Instant titleUpdatedAt,
        String systemPrompt,
        Instant systemPromptUpdatedAt,
        Instant createdAt,
        Instant deletedAt,
        Long messageCount,
        Long totalTokens,
        String lastModel,
        String lastMessagePreview,
        Instant lastMessageTimestamp) {

    /** A session as a client sends it, without statistics or system prompt. */
    public static Session of(String id, String title, Instant titleUpdatedAt, Instant createdAt, Instant deletedAt) {
        return of(id, title, titleUpdatedAt, null, null, createdAt, deletedAt);
    }

    /** A session as a client sends it, without statistics. */
    public static Session of(String id, String title, Instant titleUpdatedAt, String systemPrompt,
                             Instant systemPromptUpdatedAt, Instant createdAt, Instant deletedAt) {
        return new Session(id, title, titleUpdatedAt, systemPrompt, systemPromptUpdatedAt, createdAt, deletedAt, null,
                null, null, null, null);
    }
}
