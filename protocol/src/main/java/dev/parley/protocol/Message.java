package dev.parley.protocol;

import java.time.Instant;

/**
 * One chat message on the wire (SPEC §5.0). {@code totalTokens} is computed by the server and ignored on input;
 * a non-null {@code errorMessage} marks a failed message;
 * {@code finishReason} says how an assistant reply ended. Optional fields may be {@code null}.
 */
public record Message(
        String id,
        String sessionId,
        Role role,
        String content,
        String model,
        Long inputTokens,
        Long outputTokens,
        Long totalTokens,
        String userMessageId,
        Instant messageTimestamp,
        Long elapsedMs,
        String errorMessage,
        String completionId,
        FinishReason finishReason) {

    /** A message without a finish reason: every user row, and replies stored before the field existed. */
    public Message(String id, String sessionId, Role role, String content, String model, Long inputTokens,
                   Long outputTokens, Long totalTokens, String userMessageId, Instant messageTimestamp,
                   Long elapsedMs, String errorMessage, String completionId) {
        this(id, sessionId, role, content, model, inputTokens, outputTokens, totalTokens, userMessageId,
                messageTimestamp, elapsedMs, errorMessage, completionId, null);
    }

    /** True when the message failed (its reply was not produced). */
    public boolean failed() {
        return errorMessage != null;
    }
}
