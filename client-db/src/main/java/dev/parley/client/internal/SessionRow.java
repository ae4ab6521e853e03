package dev.parley.client.internal;

import dev.parley.client.LocalSession;
import dev.parley.client.SyncState;
import dev.parley.protocol.Session;
import java.time.Instant;

/**
 * A row of the local {@code sessions} table, without this device's own chat parameters (read and written on their
 * own, by {@link LocalSessions#parameters} and {@link LocalSessions#setParameters}, so that no sync path can touch
 * them). Immutable; the {@code with…} methods return changed copies.
 *
 * @param systemPrompt          the system prompt, or {@code null} for none
 * @param systemPromptUpdatedAt when it was last set or cleared, or {@code null} when it never was
 */
public record SessionRow(String id, String owner, String title, Instant titleUpdatedAt, String systemPrompt,
                         Instant systemPromptUpdatedAt, Instant createdAt, Instant deletedAt, Instant lastActivityAt,
                         String preview, SyncState syncState, Long outboxSeq, String rejectCode,
                         String rejectReason) {

    /** A row without a system prompt. */
    public SessionRow(String id, String owner, String title, Instant titleUpdatedAt, Instant createdAt,
                      Instant deletedAt, Instant lastActivityAt, String preview, SyncState syncState, Long outboxSeq,
                      String rejectCode, String rejectReason) {
        this(id, owner, title, titleUpdatedAt, null, null, createdAt, deletedAt, lastActivityAt, preview, syncState,
                outboxSeq, rejectCode, rejectReason);
    }

    public LocalSession toLocal() {
        return new LocalSession(id, title, titleUpdatedAt, systemPrompt, createdAt, deletedAt, lastActivityAt,
                preview, syncState, rejectReason);
    }

    /**
     * The row as it is pushed. A prompt set or cleared here travels with its time (a clear as the empty prompt, which
     * the server reads as none); one never set travels as nothing, which the server reads as no edit.
     */
    public Session toWire() {
        String prompt = systemPromptUpdatedAt == null ? null : systemPrompt == null ? "" : systemPrompt;
        return Session.of(id, title, titleUpdatedAt, prompt, systemPromptUpdatedAt, createdAt, deletedAt);
    }

    /** A prompt as this store keeps it: {@code null} for none, whether the server sent it as null or empty. */
    static String promptOrNull(String prompt) {
        return prompt == null || prompt.isBlank() ? null : prompt;
    }

    public SessionRow withSync(SyncState state, Long seq, String code, String reason) {
        return new SessionRow(id, owner, title, titleUpdatedAt, systemPrompt, systemPromptUpdatedAt, createdAt,
                deletedAt, lastActivityAt, preview, state, seq, code, reason);
    }

    public SessionRow withOwner(String newOwner) {
        return new SessionRow(id, newOwner, title, titleUpdatedAt, systemPrompt, systemPromptUpdatedAt, createdAt,
                deletedAt, lastActivityAt, preview, syncState, outboxSeq, rejectCode, rejectReason);
    }

    public SessionRow withTitle(String newTitle, Instant at) {
        return new SessionRow(id, owner, newTitle, at, systemPrompt, systemPromptUpdatedAt, createdAt, deletedAt,
                lastActivityAt, preview, syncState, outboxSeq, rejectCode, rejectReason);
    }

    /** @param prompt the new system prompt, or {@code null} to clear it */
    public SessionRow withSystemPrompt(String prompt, Instant at) {
        return new SessionRow(id, owner, title, titleUpdatedAt, prompt, at, createdAt, deletedAt, lastActivityAt,
                preview, syncState, outboxSeq, rejectCode, rejectReason);
    }

    public SessionRow withDeletedAt(Instant at) {
        return new SessionRow(id, owner, title, titleUpdatedAt, systemPrompt, systemPromptUpdatedAt, createdAt, at,
                lastActivityAt, preview, syncState, outboxSeq, rejectCode, rejectReason);
    }

    public SessionRow withActivity(Instant at, String newPreview) {
        Instant latest = lastActivityAt == null || at.isAfter(lastActivityAt) ? at : lastActivityAt;
        return new SessionRow(id, owner, title, titleUpdatedAt, systemPrompt, systemPromptUpdatedAt, createdAt,
                deletedAt, latest, newPreview, syncState, outboxSeq, rejectCode, rejectReason);
    }
}
