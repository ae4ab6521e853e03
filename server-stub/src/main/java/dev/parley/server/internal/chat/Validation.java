package dev.parley.server.internal.chat;

import dev.parley.protocol.Ids;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelIds;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import java.time.Instant;

/**
 * Checks of incoming rows at the edge. Each method returns {@code null} when the value is fine, else a plain
 * sentence naming the field and the rule, suitable for a 400 or a rejected row's reason.
 */
final class Validation {
    private Validation() {
    }

    static String id(String value, String field) {
        if (value == null) {
            return field + " is required";
        }
        return Ids.isValid(value) ? null : field + " must be a lower-case UUIDv7 string";
    }

    /** Text stored as given: any Unicode except NUL, which PostgreSQL cannot hold, and unpaired surrogates. */
    static String text(String value, String field, int maxChars, boolean required) {
        if (value == null) {
            return required ? field + " is required" : null;
        }
        if (value.length() > maxChars) {
            return field + " must be at most " + maxChars + " characters (got " + value.length() + ")";
        }
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == 0) {
                return field + " must not contain the NUL character";
            }
            if (Character.isHighSurrogate(ch) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(ch)) {
                return field + " is not valid Unicode (unpaired surrogate)";
            }
        }
        return null;
    }

    static String title(String value) {
        String problem = text(value, "title", Limits.MAX_TITLE_CHARS, true);
        if (problem != null) {
            return problem;
        }
        if (value.isBlank()) {
            return "title must not be empty";
        }
        return value.chars().anyMatch(Character::isISOControl) ? "title must not contain control characters" : null;
    }

    static String model(String value) {
        if (value == null) {
            return null;
        }
        return ModelIds.isValid(value) ? null : "model must be " + ModelIds.RULE;
    }

    static String count(Long value, String field, long max) {
        if (value == null) {
            return null;
        }
        return value < 0 || value > max ? field + " must be between 0 and " + max : null;
    }

    /** First problem of a pushed message row, or {@code null}. */
    static String message(Message m) {
        String problem = firstOf(
                id(m.id(), "id"),
                id(m.sessionId(), "sessionId"),
                m.role() == null ? "role is required (user, assistant or system)" : null,
                text(m.content(), "content", Limits.MAX_CONTENT_CHARS, true),
                model(m.model()),
                count(m.inputTokens(), "inputTokens", Limits.MAX_TOKENS),
                count(m.outputTokens(), "outputTokens", Limits.MAX_TOKENS),
                count(m.elapsedMs(), "elapsedMs", Limits.MAX_ELAPSED_MS),
                m.messageTimestamp() == null ? "messageTimestamp is required" : null,
                time(m.messageTimestamp(), "messageTimestamp"),
                text(m.errorMessage(), "errorMessage", Limits.MAX_ERROR_MESSAGE_CHARS, false),
                text(m.completionId(), "completionId", Limits.MAX_MODEL_CHARS, false),
                m.userMessageId() == null ? null : id(m.userMessageId(), "userMessageId"),
                parent(m.parentId(), m.id()));
        if (problem != null) {
            return problem;
        }
        if (m.role() == Role.ASSISTANT && m.inputTokens() != null && m.inputTokens() != 0) {
            return "assistant messages never carry inputTokens";
        }
        if (m.role() == Role.USER && m.outputTokens() != null && m.outputTokens() != 0) {
            return "user messages never carry outputTokens";
        }
        if (m.role() != Role.USER && m.errorMessage() != null) {
            return "only user messages can be failed (errorMessage set on a " + m.role().wire() + " message)";
        }
        if (m.role() != Role.ASSISTANT && m.userMessageId() != null) {
            return "userMessageId is only for assistant messages";
        }
        if (m.role() == Role.ASSISTANT && m.parentId() != null && !m.parentId().equals(m.userMessageId())) {
            return "a reply's parentId is the user message it answers (userMessageId)";
        }
        return null;
    }

    /** The parent of a row in its session's tree (SPEC §4.3): an id, never the row's own. */
    static String parent(String parentId, String ownId) {
        if (parentId == null) {
            return null;
        }
        String problem = id(parentId, "parentId");
        return problem != null ? problem : parentId.equals(ownId) ? "a message cannot follow itself (parentId)" : null;
    }

    /**
     * First problem of a pushed session row, or {@code null}. A system prompt is checked even when it comes without
     * its time (and so is not applied): a value no server can store is a client's bug, better seen at once.
     */
    static String session(Session s, Instant now) {
        return firstOf(
                id(s.id(), "id"),
                title(s.title()),
                s.createdAt() == null ? "createdAt is required" : null,
                time(s.createdAt(), "createdAt"),
                time(s.deletedAt(), "deletedAt"),
                titleTime(s.titleUpdatedAt(), now),
                systemPrompt(s.systemPrompt(), "systemPrompt"),
                editTime(s.systemPromptUpdatedAt(), "systemPromptUpdatedAt", now));
    }

    /** A per-chat system prompt: text like a message's, at most {@link Limits#MAX_SYSTEM_PROMPT_CHARS}. */
    static String systemPrompt(String value, String field) {
        return text(value, field, Limits.MAX_SYSTEM_PROMPT_CHARS, false);
    }

    /** A sampling temperature the model is asked for, or {@code null} for the model's own. */
    static String temperature(Double value) {
        if (value == null) {
            return null;
        }
        return value.isNaN() || value < Limits.MIN_TEMPERATURE || value > Limits.MAX_TEMPERATURE
                ? "temperature must be a number from " + Limits.MIN_TEMPERATURE + " to " + Limits.MAX_TEMPERATURE
                        + " (got " + value + ")"
                : null;
    }

    /** The most tokens the reply may have, or {@code null} for the model's own limit. */
    static String maxTokens(Integer value) {
        if (value == null) {
            return null;
        }
        return value < 1 || value > Limits.MAX_REPLY_TOKENS
                ? "maxTokens must be a whole number from 1 to " + Limits.MAX_REPLY_TOKENS + " (got " + value + ")"
                : null;
    }

    private static final Instant EARLIEST = Instant.EPOCH;
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999Z");

    /** Times are stored as epoch milliseconds; anything outside 1970–9999 is a client bug, not a date. */
    static String time(Instant value, String field) {
        if (value == null) {
            return null;
        }
        return value.isBefore(EARLIEST) || value.isAfter(LATEST)
                ? field + " must lie between 1970-01-01 and 9999-12-31" : null;
    }

    /**
     * A title time further ahead than the allowed skew cannot be ordered against other devices' renames (it would
     * win over every later one), so it is refused rather than clamped.
     */
    static String titleTime(Instant value, Instant now) {
        return editTime(value, "titleUpdatedAt", now);
    }

    /** The time of a last-writer-wins edit (a title, a system prompt): refused, not clamped, past the skew. */
    static String editTime(Instant value, String field, Instant now) {
        String problem = time(value, field);
        if (problem != null) {
            return problem;
        }
        return value != null && value.isAfter(now.plusMillis(Limits.MAX_CLOCK_SKEW_MILLIS))
                ? field + " lies in the future; check this device's clock" : null;
    }

    /** A client time more than the allowed skew in the future becomes the server's time. */
    static Instant clamp(Instant clientTime, Instant now) {
        if (clientTime == null) {
            return null;
        }
        return clientTime.isAfter(now.plusMillis(Limits.MAX_CLOCK_SKEW_MILLIS)) ? now : clientTime;
    }

    static String firstOf(String... problems) {
        for (String problem : problems) {
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }
}
