package dev.parley.desktop.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.protocol.Json;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * One conversation written out as a file the user keeps: Markdown to read — the path the window shows, one version
 * of each message — or JSON in the wire shapes of SPEC §5.0 to process, holding every branch (each message with its
 * {@code parentId}, SPEC §4.3, so the tree can be rebuilt). Pure functions; no I/O.
 */
public final class ConversationExport {
    private static final ObjectMapper JSON = Json.newMapper();

    private ConversationExport() {
    }

    /** The formats a conversation can be exported in. */
    public enum Format {
        MARKDOWN("md"), JSON("json");

        private final String extension;

        Format(String extension) {
            this.extension = extension;
        }

        public String extension() {
            return extension;
        }
    }

    /**
     * The JSON document: the conversation, every message of every branch in time order (a regenerated reply and an
     * edited question beside the ones they replaced, linked by {@code parentId}), and when it was exported.
     */
    public record Document(Session session, List<Message> messages, Instant exportedAt) {
    }

    /**
     * The file's text in {@code format}.
     *
     * @param messages what the format holds: for {@link Format#MARKDOWN} the shown path (root to leaf), for
     *                 {@link Format#JSON} every message of the conversation
     */
    public static String render(Format format, LocalSession session, List<LocalMessage> messages, Instant now,
                                ZoneId zone) {
        return format == Format.MARKDOWN ? markdown(session, messages, now, zone) : json(session, messages, now);
    }

    /** The shown path as a document to read: each message once, the version the window shows. */
    public static String markdown(LocalSession session, List<LocalMessage> messages, Instant now, ZoneId zone) {
        DateTimeFormatter time = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT).withZone(zone);
        StringBuilder md = new StringBuilder();
        md.append("# ").append(oneLine(session.title())).append("\n\n");
        md.append("_Exported from Parley on ").append(time.format(now)).append(" · ")
                .append(messages.size()).append(messages.size() == 1 ? " message_" : " messages_").append("\n");
        for (LocalMessage local : messages) {
            Message m = local.message();
            md.append("\n## ").append(author(m.role())).append(" · ").append(time.format(m.messageTimestamp()));
            if (m.role() == Role.ASSISTANT) {
                if (m.model() != null) {
                    md.append(" · ").append(m.model());
                }
                if (m.outputTokens() != null) {
                    md.append(" · ").append(m.outputTokens()).append(" tokens");
                }
                if (m.elapsedMs() != null) {
                    md.append(" · ").append(m.elapsedMs()).append(" ms");
                }
            }
            md.append("\n\n").append(m.content().strip()).append("\n");
            if (m.failed()) {
                md.append("\n> Not answered: ").append(oneLine(m.errorMessage())).append("\n");
            }
        }
        return md.toString();
    }

    /** Every message of every branch, in the order given (time order), each with its {@code parentId}. */
    public static String json(LocalSession session, List<LocalMessage> messages, Instant now) {
        Session wire = Session.of(session.id(), session.title(), session.titleUpdatedAt(), session.createdAt(), null);
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(
                    new Document(wire, messages.stream().map(LocalMessage::message).toList(), now));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A file name from the title: letters, digits, spaces and dashes kept, at most 60 characters. */
    public static String fileName(LocalSession session, Format format) {
        String base = session.title().replaceAll("[^\\p{L}\\p{N} _-]+", " ").replaceAll("\\s+", " ").strip();
        if (base.length() > 60) {
            base = base.substring(0, 60).strip();
        }
        return (base.isEmpty() ? "conversation" : base) + "." + format.extension();
    }

    private static String author(Role role) {
        return switch (role) {
            case USER -> "You";
            case ASSISTANT -> "Parley";
            case SYSTEM -> "System";
        };
    }

    private static String oneLine(String text) {
        return text == null ? "" : text.replaceAll("\\s+", " ").strip();
    }
}
