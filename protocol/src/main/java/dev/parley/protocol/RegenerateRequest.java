package dev.parley.protocol;

import dev.parley.protocol.ChatRequest.ContextMessage;
import java.util.List;

/**
 * Body of {@code POST /api/chat/regenerate} (SPEC §5.4): another reply to the stored, successful user message
 * {@code messageId}, to be stored as the assistant row {@code replyId} (a sibling of its earlier replies). The
 * request is idempotent on {@code replyId}. {@code context} is what precedes the user message (a per-chat system
 * prompt first); the user message itself is taken from the store. {@code model}, {@code temperature} and
 * {@code maxTokens} may be {@code null}.
 */
public record RegenerateRequest(
        String sessionId,
        String messageId,
        String replyId,
        String model,
        Double temperature,
        Integer maxTokens,
        List<ContextMessage> context) {

    public RegenerateRequest {
        context = context == null ? List.of() : context;
    }
}
