package dev.parley.server;

import dev.parley.protocol.FinishReason;
import java.util.Objects;

/**
 * A model's reply with its real token counts.
 *
 * @param content      the reply text
 * @param inputTokens  tokens of the prompt
 * @param outputTokens tokens of the reply
 * @param completionId the provider's id of this completion, or {@code null} when it gives none
 * @param elapsedMs    how long the model took, in milliseconds
 * @param finishReason why the reply ended; {@link FinishReason#STOPPED} for a reply stopped by the user
 */
public record Completion(String content, long inputTokens, long outputTokens, String completionId, long elapsedMs,
                         FinishReason finishReason) {
    public Completion {
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(finishReason, "finishReason");
    }

    /** A reply the model finished by itself. */
    public Completion(String content, long inputTokens, long outputTokens, String completionId, long elapsedMs) {
        this(content, inputTokens, outputTokens, completionId, elapsedMs, FinishReason.STOP);
    }
}
