package dev.parley.server.internal.chat;

import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import dev.parley.server.CompletionRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated chat request with its defaults applied: the model that answers, the user message's time, the token
 * of this request's claim and the id its reply is stored under.
 */
record Exchange(ChatRequest request, String model, Instant timestamp, String claimToken, String replyId) {

    String sessionId() {
        return request.sessionId();
    }

    String messageId() {
        return request.messageId();
    }

    Message userMessage(long inputTokens, String error) {
        return new Message(request.messageId(), request.sessionId(), Role.USER, request.content(), model,
                inputTokens, 0L, null, null, timestamp, null, error, null);
    }

    Session newSession() {
        String title = request.sessionTitle() == null ? PushService.DEFAULT_TITLE : request.sessionTitle();
        return Session.of(request.sessionId(), title, request.sessionTitle() == null ? null : timestamp,
                timestamp, null);
    }

    CompletionRequest prompt() {
        List<ContextMessage> prompt = new ArrayList<>(request.context());
        prompt.add(new ContextMessage(Role.USER, request.content()));
        return new CompletionRequest(model, prompt);
    }
}
