package dev.parley.protocol;

/**
 * Data of a {@code generating} event of {@code GET /api/chat/events} (SPEC §5.5): a reply started for the user on
 * some device. {@code messageId} is the user message it answers, {@code replyId} the id the reply will be stored
 * under; a client may follow it with {@code GET /api/chat/{messageId}/stream?replyId=}.
 */
public record GeneratingEvent(String messageId, String replyId, String sessionId) {
}
