package dev.parley.client.internal.history;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelIds;
import dev.parley.protocol.Origin;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import dev.parley.protocol.StorableText;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One conversation of ChatGPT's data export ({@code conversations.json}) as Parley rows. The export keeps each
 * conversation as a tree, {@code mapping}: node id to node, each with its {@code parent}, its {@code children} and a
 * {@code message} (author role, {@code create_time} in seconds, {@code content} with a {@code content_type} and
 * {@code parts}, {@code metadata.model_slug}). Edits and regenerations are siblings in it, as in Parley (SPEC §4.3).
 *
 * <p>A user node becomes a user row. The run of assistant nodes that answers it (a reply, with tool calls and
 * their outputs between its pieces) becomes one reply, whose id comes from the run's last node; where the run forks,
 * each fork is a reply of its own. System, tool and hidden nodes (custom instructions, reasoning, calls to a tool)
 * are skipped, and a child of a skipped node follows the row its parent followed. Non-text parts become a note in
 * brackets. Ids are derived from the export's ids ({@link ImportIds}), so a second import finds the same rows.
 * Stateless apart from its token counter; thread-safe.
 */
final class ChatGptConversations {
    static final String SOURCE = "chatgpt";
    static final String UNTITLED = "Imported chat";

    private final TokenCounter tokens;

    ChatGptConversations(TokenCounter tokens) {
        this.tokens = tokens;
    }

    /**
     * The conversation at {@code index} (0-based) of the export; {@code null} when it has no message to import.
     *
     * @throws HistoryFormatException when it is not shaped like a conversation of the export
     */
    ImportedConversation read(JsonNode conversation, int index) throws HistoryFormatException {
        String where = "conversation " + (index + 1);
        if (!conversation.isObject()) {
            throw new HistoryFormatException("This is not a ChatGPT export: " + where + " is not a JSON object.");
        }
        JsonNode mapping = conversation.path("mapping");
        if (mapping.isMissingNode() || mapping.isNull()) {
            return null;
        }
        if (!mapping.isObject()) {
            throw new HistoryFormatException("This is not a ChatGPT export: the \"mapping\" of " + where
                    + " is not a JSON object.");
        }
        String exportId = firstText(conversation, "conversation_id", "id");
        String key = SOURCE + ":" + (exportId != null ? exportId : "sha256:" + sha256(conversation.toString()));
        Instant created = seconds(conversation.get("create_time"));
        Instant updated = seconds(conversation.get("update_time"));
        Instant createdAt = created != null ? created : updated != null ? updated : earliest(mapping);
        Session session = Session.of(ImportIds.of(key, createdAt), title(conversation.path("title").asText(null)),
                createdAt, createdAt, null);
        Walk walk = new Walk(key, session.id(), createdAt);
        walk.run(mapping);
        if (walk.rows.isEmpty()) {
            return null;
        }
        Instant last = walk.rows.stream().map(Message::messageTimestamp).max(Comparator.naturalOrder())
                .orElse(createdAt);
        return new ImportedConversation(session, List.copyOf(walk.rows), last, walk.skipped, walk.notes);
    }

    /** The tree walk of one conversation: iterative, as a conversation may be thousands of nodes deep. */
    private final class Walk {
        private final String key;
        private final String sessionId;
        private final Instant floor;
        private final List<Message> rows = new ArrayList<>();
        private long skipped;
        private long notes;

        Walk(String key, String sessionId, Instant floor) {
            this.key = key;
            this.sessionId = sessionId;
            this.floor = floor;
        }

        /** One node to visit: the row it follows, the reply being gathered above it, the earliest time it may have. */
        private record Step(String nodeId, Message parent, Reply reply, Instant floor) {
        }

        void run(JsonNode mapping) {
            Map<String, JsonNode> nodes = new LinkedHashMap<>();
            mapping.fields().forEachRemaining(e -> {
                if (e.getValue().isObject()) {
                    nodes.put(e.getKey(), e.getValue());
                } else {
                    skipped++;
                }
            });
            Deque<Step> stack = new ArrayDeque<>();
            // Roots: nodes without a parent, and nodes whose parent is missing from the export (they keep their place
            // as first turns rather than disappear).
            List<String> roots = nodes.entrySet().stream()
                    .filter(e -> !nodes.containsKey(e.getValue().path("parent").asText("")))
                    .map(Map.Entry::getKey).toList();
            pushChildren(stack, roots, nodes, null, null, floor);
            Set<String> seen = new HashSet<>();
            while (!stack.isEmpty()) {
                Step step = stack.pop();
                if (!seen.add(step.nodeId())) {
                    skipped++; // a node reached twice: the export's tree has a cycle or a shared child
                    continue;
                }
                visit(step, nodes.get(step.nodeId()), nodes, stack);
            }
            skipped += nodes.size() - seen.size(); // nodes no root leads to (a cycle)
        }

        private void visit(Step step, JsonNode node, Map<String, JsonNode> nodes, Deque<Step> stack) {
            JsonNode message = node.path("message");
            Instant time = later(step.floor(), seconds(message.get("create_time")));
            Message parent = step.parent();
            Reply reply = step.reply();
            Kind kind = kind(message);
            if (kind == Kind.SKIPPED && message.isObject()) {
                skipped++;
            }
            Content content = kind == Kind.SKIPPED ? Content.EMPTY : content(message);
            if (kind == Kind.USER && !content.text().isEmpty()) {
                notes += content.notes();
                Message question = reply == null ? parent : reply.row(this);
                String model = model(message);
                parent = Message.builder(ImportIds.of(key + ":" + step.nodeId(), time), sessionId, Role.USER)
                        .content(content.text()).model(model).inputTokens(tokens.count(content.text(), model))
                        .outputTokens(0L)
                        .messageTimestamp(time).parentId(question == null ? null : question.id())
                        .origin(Origin.IMPORT).build();
                rows.add(parent);
                reply = null;
            } else if (kind == Kind.REPLY && !content.text().isEmpty()) {
                notes += content.notes();
                reply = (reply == null ? new Reply(parent, time) : reply).with(step.nodeId(), content.text(),
                        model(message), time);
            } else if (kind != Kind.SKIPPED) {
                skipped++; // a message with nothing in it
            }
            List<String> children = new ArrayList<>();
            for (JsonNode child : node.path("children")) {
                String id = child.asText("");
                if (nodes.containsKey(id)) {
                    children.add(id);
                } else {
                    skipped++; // referred to, but not in the export (deleted)
                }
            }
            if (children.isEmpty() && reply != null) {
                reply.row(this);
            }
            pushChildren(stack, children, nodes, parent, reply, time);
        }

        /** Pushes so that siblings are visited in time order, each whole branch before the next. */
        private void pushChildren(Deque<Step> stack, List<String> ids, Map<String, JsonNode> nodes, Message parent,
                                  Reply reply, Instant time) {
            List<String> ordered = new ArrayList<>(ids);
            ordered.sort(Comparator.comparing((String id) -> timeOf(nodes.get(id)), Comparator.nullsFirst(
                    Comparator.naturalOrder())).thenComparing(Comparator.naturalOrder()));
            for (int i = ordered.size() - 1; i >= 0; i--) {
                stack.push(new Step(ordered.get(i), parent, reply, time));
            }
        }

        /** Stores a gathered reply as a row, once, however many branches follow it. */
        Message store(Reply reply) {
            String text = Texts.fit(String.join("\n\n", reply.parts()));
            Message question = reply.question();
            Message row = Message.builder(ImportIds.of(key + ":" + reply.lastNode(), reply.time()), sessionId,
                            Role.ASSISTANT)
                    .content(text).model(reply.model()).inputTokens(0L)
                    .outputTokens(tokens.count(text, reply.model()))
                    .userMessageId(question == null ? null : question.id())
                    .parentId(question == null ? null : question.id())
                    .messageTimestamp(reply.time()).origin(Origin.IMPORT).build();
            rows.add(row);
            return row;
        }
    }

    /**
     * A reply being gathered from a run of assistant nodes. Immutable but for the row it becomes, which every branch
     * below the same run shares.
     */
    private static final class Reply {
        private final Message question;
        private final Instant time;
        private final List<String> parts;
        private final String model;
        private final String lastNode;
        private Message row;

        Reply(Message question, Instant time) {
            this(question, time, List.of(), null, null);
        }

        private Reply(Message question, Instant time, List<String> parts, String model, String lastNode) {
            this.question = question;
            this.time = time;
            this.parts = parts;
            this.model = model;
            this.lastNode = lastNode;
        }

        Reply with(String node, String text, String nodeModel, Instant at) {
            List<String> more = new ArrayList<>(parts);
            more.add(text);
            return new Reply(question, parts.isEmpty() ? at : time, more, nodeModel != null ? nodeModel : model,
                    node);
        }

        Message row(Walk walk) {
            if (row == null) {
                row = walk.store(this);
            }
            return row;
        }

        Message question() {
            return question;
        }

        Instant time() {
            return time;
        }

        List<String> parts() {
            return parts;
        }

        String model() {
            return model;
        }

        String lastNode() {
            return lastNode;
        }
    }

    private enum Kind { USER, REPLY, SKIPPED }

    private static Kind kind(JsonNode message) {
        if (!message.isObject()) {
            return Kind.SKIPPED;
        }
        String role = message.path("author").path("role").asText("");
        String type = message.path("content").path("content_type").asText("text");
        boolean hidden = message.path("metadata").path("is_visually_hidden_from_conversation").asBoolean(false)
                || message.path("metadata").path("is_user_system_message").asBoolean(false)
                || HIDDEN_TYPES.contains(type);
        if (hidden) {
            return Kind.SKIPPED;
        }
        if (role.equals("user")) {
            return Kind.USER;
        }
        // An assistant message to a recipient other than everyone is a call to a tool, not something said.
        String recipient = message.path("recipient").asText("all");
        return role.equals("assistant") && recipient.equals("all") ? Kind.REPLY : Kind.SKIPPED;
    }

    private static final Set<String> HIDDEN_TYPES = Set.of("user_editable_context", "model_editable_context",
            "thoughts", "reasoning_recap", "system_error");

    /** The text of a message, and how many of its parts became a note. */
    private record Content(String text, int notes) {
        static final Content EMPTY = new Content("", 0);
    }

    private static Content content(JsonNode message) {
        JsonNode content = message.path("content");
        String type = content.path("content_type").asText("text");
        List<String> pieces = new ArrayList<>();
        int notes = 0;
        if (type.equals("code")) {
            String language = content.path("language").asText("");
            pieces.add("```" + (language.equals("unknown") ? "" : language) + "\n" + content.path("text").asText("")
                    + "\n```");
        } else if (content.path("parts").isArray()) {
            for (JsonNode part : content.path("parts")) {
                if (part.isTextual()) {
                    if (!part.asText().isBlank()) {
                        pieces.add(part.asText());
                    }
                } else if (part.isObject() && part.path("text").isTextual()) {
                    pieces.add(part.path("text").asText()); // a transcription of what was said
                } else if (part.isObject()) {
                    pieces.add(note(part.path("content_type").asText("")));
                    notes++;
                }
            }
        } else if (content.path("text").isTextual()) {
            pieces.add(content.path("text").asText());
        } else if (!content.isMissingNode()) {
            pieces.add(note(type));
            notes++;
        }
        for (JsonNode attachment : message.path("metadata").path("attachments")) {
            pieces.add("[Attachment not imported: " + oneLine(attachment.path("name").asText("a file")) + "]");
            notes++;
        }
        return new Content(Texts.fit(String.join("\n\n", pieces)), notes);
    }

    private static String note(String contentType) {
        if (contentType.startsWith("image")) {
            return "[Image not imported]";
        }
        if (contentType.contains("audio") || contentType.contains("video")) {
            return "[Audio not imported]";
        }
        return "[" + (contentType.isEmpty() ? "Content" : contentType) + " not imported]";
    }

    private static String model(JsonNode message) {
        String slug = message.path("metadata").path("model_slug").asText(null);
        return slug != null && ModelIds.isValid(slug) ? slug : null;
    }

    private static String title(String raw) {
        String title = raw == null ? "" : oneLine(StorableText.of(raw)).strip();
        if (title.isEmpty()) {
            return UNTITLED;
        }
        return title.length() > Limits.MAX_TITLE_CHARS ? title.substring(0, Limits.MAX_TITLE_CHARS - 1) + "…" : title;
    }

    private static String oneLine(String text) {
        return text.replaceAll("\\p{Cntrl}+", " ");
    }

    private static Instant timeOf(JsonNode node) {
        return node == null ? null : seconds(node.path("message").get("create_time"));
    }

    private static Instant earliest(JsonNode mapping) {
        Instant earliest = null;
        for (JsonNode node : mapping) {
            Instant time = timeOf(node);
            if (time != null && (earliest == null || time.isBefore(earliest))) {
                earliest = time;
            }
        }
        return earliest != null ? earliest : Instant.EPOCH;
    }

    /** A time of the export (seconds since the epoch, with a fraction), to the millisecond; null when absent. */
    static Instant seconds(JsonNode value) {
        if (value == null || !value.isNumber()) {
            return null;
        }
        double seconds = value.asDouble();
        if (!(seconds >= 0 && seconds < 253_402_300_800d)) { // 9999-12-31, the last time the server takes
            return null;
        }
        return Instant.ofEpochMilli(Math.round(seconds * 1000));
    }

    private static Instant later(Instant floor, Instant time) {
        return time == null || time.isBefore(floor) ? floor : time;
    }

    private static String firstText(JsonNode node, String... fields) {
        for (String field : fields) {
            String value = node.path(field).asText("");
            if (!value.isBlank()) {
                return value;
            }
        }
        return null;
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
