package dev.parley.server;

/**
 * A model's reply with its real token counts.
 *
 * @param content      the reply text
 * @param inputTokens  tokens of the prompt
 * @param outputTokens tokens of the reply
 * @param completionId the provider's id of this completion, or {@code null} when it gives none
 * @param elapsedMs    how long the model took, in milliseconds
 */
public record Completion(String content, long inputTokens, long outputTokens, String completionId, long elapsedMs) {
}
