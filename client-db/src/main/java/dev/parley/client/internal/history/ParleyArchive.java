package dev.parley.client.internal.history;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.Ids;
import dev.parley.protocol.Message;
import dev.parley.protocol.Origin;
import dev.parley.protocol.Session;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parley's own export file, {@code parley-export.json}: {@code {"format":"parley-export","version":1,
 * "exportedAt":…,"conversations":[{"session":Session,"messages":[Message…]}…]}} in the wire shapes of SPEC §5.0,
 * every branch of every conversation. Written a conversation at a time and read the same way, so neither holds more
 * than one conversation. Read back, every row keeps its id and fields and takes the origin {@code import}: it was
 * not spent through Parley by whoever imports it. Thread-safe.
 */
final class ParleyArchive {
    static final String SOURCE = "parley";
    static final String FORMAT = "parley-export";
    static final String FILE_NAME = "parley-export.json";
    static final int VERSION = 1;

    private final ObjectMapper json;

    ParleyArchive(ObjectMapper json) {
        this.json = json;
    }

    /** Writes the file's opening, up to the array of conversations. */
    void begin(JsonGenerator out, Instant exportedAt) throws IOException {
        out.writeStartObject();
        out.writeStringField("format", FORMAT);
        out.writeNumberField("version", VERSION);
        out.writeStringField("exportedAt", exportedAt.toString());
        out.writeArrayFieldStart("conversations");
    }

    void write(JsonGenerator out, Session session, List<Message> messages) throws IOException {
        out.writeStartObject();
        out.writeFieldName("session");
        json.writeValue(out, session);
        out.writeArrayFieldStart("messages");
        for (Message m : messages) {
            json.writeValue(out, m);
        }
        out.writeEndArray();
        out.writeEndObject();
    }

    void end(JsonGenerator out) throws IOException {
        out.writeEndArray();
        out.writeEndObject();
    }

    /**
     * The conversation at {@code index} of the file as rows to import, each after the row it follows.
     *
     * @throws HistoryFormatException when it is not shaped as this class writes it
     */
    ImportedConversation read(JsonNode conversation, int index) throws HistoryFormatException {
        String where = "conversation " + (index + 1);
        Session session;
        List<Message> messages = new ArrayList<>();
        try {
            session = json.treeToValue(conversation.path("session"), Session.class);
            for (JsonNode m : conversation.path("messages")) {
                messages.add(json.treeToValue(m, Message.class));
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new HistoryFormatException("This Parley export is damaged: " + where + " cannot be read.", e);
        }
        if (session == null || !Ids.isValid(session.id()) || session.createdAt() == null) {
            throw new HistoryFormatException("This Parley export is damaged: " + where + " has no valid session.");
        }
        for (Message m : messages) {
            if (m == null || !Ids.isValid(m.id()) || !session.id().equals(m.sessionId()) || m.role() == null
                    || m.content() == null || m.messageTimestamp() == null) {
                throw new HistoryFormatException("This Parley export is damaged: a message of " + where
                        + " is incomplete or belongs to another conversation.");
            }
        }
        if (messages.isEmpty()) {
            return null;
        }
        String title = session.title() == null || session.title().isBlank() ? ChatGptConversations.UNTITLED
                : session.title();
        Session kept = Session.of(session.id(), title, session.titleUpdatedAt(), session.systemPrompt(),
                session.systemPromptUpdatedAt(), session.createdAt(), null);
        List<Message> ordered = parentsFirst(messages);
        Instant last = ordered.stream().map(Message::messageTimestamp).max(Instant::compareTo).orElseThrow();
        return new ImportedConversation(kept, ordered, last, 0, 0);
    }

    /** Each message after the one it follows, otherwise in the file's order; all of them marked imported. */
    private static List<Message> parentsFirst(List<Message> messages) {
        Map<String, Message> byId = new LinkedHashMap<>();
        messages.forEach(m -> byId.put(m.id(), m.toBuilder().totalTokens(null).origin(Origin.IMPORT).build()));
        List<Message> ordered = new ArrayList<>(byId.size());
        Set<String> placed = new HashSet<>();
        for (Message m : byId.values()) {
            Deque<Message> chain = new ArrayDeque<>();
            for (Message at = m; at != null && !placed.contains(at.id()) && !chain.contains(at);
                 at = byId.get(parentOf(at))) {
                chain.push(at);
            }
            while (!chain.isEmpty()) {
                Message next = chain.pop();
                if (placed.add(next.id())) {
                    ordered.add(next);
                }
            }
        }
        return ordered;
    }

    private static String parentOf(Message m) {
        return m.userMessageId() != null ? m.userMessageId() : m.parentId();
    }
}
