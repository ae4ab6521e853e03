package dev.parley.protocol;

import java.time.Instant;
import java.util.List;

/**
 * Body of {@code POST /api/chat}: one user message and the context that precedes it. {@code sessionTitle} is used
 * only when the exchange creates the session. {@code temperature} (0–2) and {@code maxTokens} (1–200,000) go to the
 * model; {@code null} leaves them to it. A per-chat system prompt is the first context entry, with role
 * {@code system}. {@code parentId} is the reply the new message follows in the conversation's tree ({@code null} for
 * a first turn; SPEC §4.3); {@code replyId} is the id the client chose for the reply ({@code null} lets the server
 * choose).
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
        List<ContextMessage> context,
        String parentId,
        String replyId) {

    public ChatRequest {
        context = context == null ? List.of() : context;
    }

    /** A request outside any branch, with the reply's id left to the server. */
    public ChatRequest(String sessionId, String messageId, String content, String model, Instant messageTimestamp,
                       String sessionTitle, Double temperature, Integer maxTokens, List<ContextMessage> context) {
        this(sessionId, messageId, content, model, messageTimestamp, sessionTitle, temperature, maxTokens, context,
                null, null);
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
