package dev.parley.server;

import dev.parley.protocol.ChatRequest.ContextMessage;
import java.util.List;

/**
 * What a model is asked: the conversation so far, oldest first, ending with the new user message, and how to sample
 * the reply. A per-chat system prompt is the first message, with role {@code system}. Immutable.
 *
 * @param model       the model id, one of the provider's models
 * @param messages    the prompt, never empty
 * @param temperature the sampling temperature (0–2), or {@code null} to leave it to the model
 * @param maxTokens   the most tokens the reply may have (at least 1), or {@code null} to leave it to the model; a
 *                    reply cut off there ends with {@link dev.parley.protocol.FinishReason#LENGTH}
 */
public record CompletionRequest(String model, List<ContextMessage> messages, Double temperature, Integer maxTokens) {
    public CompletionRequest {
        messages = List.copyOf(messages);
    }

    /** A request that leaves the temperature and the length of the reply to the model. */
    public CompletionRequest(String model, List<ContextMessage> messages) {
        this(model, messages, null, null);
    }

    /** The same request for another model id (a combined provider passes its member the id without the prefix). */
    public CompletionRequest withModel(String otherModel) {
        return new CompletionRequest(otherModel, messages, temperature, maxTokens);
    }
}
