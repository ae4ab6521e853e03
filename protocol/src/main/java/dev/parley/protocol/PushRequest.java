package dev.parley.protocol;

import java.util.List;

/** Body of {@code POST /api/chat/messages}: the rows the server has not acknowledged yet. */
public record PushRequest(List<Session> sessions, List<Message> messages) {
    public PushRequest {
        sessions = sessions == null ? List.of() : sessions;
        messages = messages == null ? List.of() : messages;
    }
}
