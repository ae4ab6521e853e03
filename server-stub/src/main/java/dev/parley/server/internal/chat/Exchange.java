package dev.parley.server.internal.chat;

import dev.parley.server.internal.ApiException;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Message;
import dev.parley.protocol.Origin;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import dev.parley.server.CompletionRequest;
import dev.parley.server.internal.model.ActiveModels;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated chat request with its defaults applied: the model that answers, the user message's time, the token
 * of this request's claim, the id its reply is stored under, and the hold on the provider the model belongs to,
 * which the exchange keeps to its end and then releases. A regenerate (SPEC §5.4) is an exchange too: its request
 * holds the stored user message it answers again, and it is claimed, replayed and stored under its reply's id.
 */
record Exchange(ChatRequest request, String model, Instant timestamp, String claimToken, String replyId,
                ActiveModels.Lease models, boolean modelOffered, boolean regenerate) {

    /**
     * The id its claim is held under, and that a replay looks up: the user message's for a chat, the reply's for a
     * regenerate (one user message may have several regenerates, each its own exchange).
     */
    String claimKey() {
        return regenerate ? replyId : request.messageId();
    }

    /**
     * Refuses an exchange whose model the server does not offer (now): checked only once a stored exchange under
     * this id has had its chance to be replayed, as a replay calls no model.
     */
    void requireOfferedModel() {
        if (!modelOffered) {
            throw ApiException.badRequest("The model '" + model + "' is not offered by this server (GET /api/models"
                    + " lists the ones it is); pick another.");
        }
    }

    String sessionId() {
        return request.sessionId();
    }

    String messageId() {
        return request.messageId();
    }

    Message userMessage(long inputTokens, String error) {
        return new Message(request.messageId(), request.sessionId(), Role.USER, request.content(), model,
                inputTokens, 0L, null, null, timestamp, null, error, null, null, request.parentId(), Origin.CHAT);
    }

    Session newSession() {
        String title = request.sessionTitle() == null ? PushService.DEFAULT_TITLE : request.sessionTitle();
        return Session.of(request.sessionId(), title, request.sessionTitle() == null ? null : timestamp,
                timestamp, null);
    }

    /** The context as sent (a system prompt first, when there is one), then the new message. */
    CompletionRequest prompt() {
        List<ContextMessage> prompt = new ArrayList<>(request.context());
        prompt.add(new ContextMessage(Role.USER, request.content()));
        return new CompletionRequest(model, prompt, request.temperature(), request.maxTokens());
    }
}
