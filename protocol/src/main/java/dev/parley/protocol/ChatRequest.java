package dev.parley.protocol;

import java.time.Instant;
import java.util.List;

/**
 * Body of {@code POST /api/chat}: one user message and the context that precedes it. {@code sessionTitle} is used
 * only when the exchange creates the session. {@code temperature} (0–2) and {@code maxTokens} (1–200,000) go to the
 * model; {@code null} leaves them to it. A per-chat system prompt is the first context entry, with role
 * {@code system}.
 */
public record ChatRequest(
        String sessionId,
        String messageId,
        String content,
        String model,
        Instant messageTimestamp,
        String sessionTitle,
        Double temperature,
        Integer maxTokens,
        List<ContextMessage> context) {

    public ChatRequest {
        context = context == null ? List.of() : context;
    }

    /** A request that leaves the temperature and the length of the reply to the model. */
    public ChatRequest(String sessionId, String messageId, String content, String model, Instant messageTimestamp,
                       String sessionTitle, List<ContextMessage> context) {
        this(sessionId, messageId, content, model, messageTimestamp, sessionTitle, null, null, context);
    }

    /** One earlier message of the conversation, as the model sees it. */
    public record ContextMessage(Role role, String content) {
    }
}
