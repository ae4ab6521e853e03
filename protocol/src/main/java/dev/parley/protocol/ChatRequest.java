package dev.parley.protocol;

import java.time.Instant;
import java.util.List;

/**
 * Body of {@code POST /api/chat}: one user message and the context that precedes it. {@code sessionTitle} is used
 * only when the exchange creates the session.
 */
public record ChatRequest(
        String sessionId,
        String messageId,
        String content,
        String model,
        Instant messageTimestamp,
        String sessionTitle,
        List<ContextMessage> context) {

    public ChatRequest {
        context = context == null ? List.of() : context;
    }

    /** One earlier message of the conversation, as the model sees it. */
    public record ContextMessage(Role role, String content) {
    }
}
