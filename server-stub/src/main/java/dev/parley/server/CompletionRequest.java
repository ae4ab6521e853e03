package dev.parley.server;

import dev.parley.protocol.ChatRequest.ContextMessage;
import java.util.List;

/**
 * What a model is asked: the conversation so far, oldest first, ending with the new user message.
 *
 * @param model    the model id, one of the provider's models
 * @param messages the prompt, never empty
 */
public record CompletionRequest(String model, List<ContextMessage> messages) {
    public CompletionRequest {
        messages = List.copyOf(messages);
    }
}
