package dev.parley.protocol;

/**
 * A successful exchange. {@code persisted} tells whether the server stored both messages; {@code replayed} is true
 * when the pair was stored earlier and returned without calling the model.
 */
public record ChatResponse(Message userMessage, Message assistantMessage, Session session, boolean persisted,
                           boolean replayed) {
}
