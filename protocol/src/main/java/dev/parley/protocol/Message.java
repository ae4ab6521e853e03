package dev.parley.protocol;

import java.time.Instant;

/**
 * One chat message on the wire (SPEC §5.0). {@code totalTokens} is computed by the server and ignored on input;
 * a non-null {@code errorMessage} marks a failed message;
 * {@code finishReason} says how an assistant reply ended; {@code parentId} is the message this one follows in its
 * conversation's tree (SPEC §4.3): for a reply its user message, for a user message the reply it follows, and
 * {@code null} for a first turn or a row stored before branches existed; {@code origin} says whether the row was
 * written through Parley or imported ({@code null} means {@link Origin#CHAT}). Optional fields may be {@code null}.
 */
public record Message(
        String id,
        String sessionId,
        Role role,
        String content,
        String model,
        Long inputTokens,
        Long outputTokens,
        Long totalTokens,
        String userMessageId,
        Instant messageTimestamp,
        Long elapsedMs,
        String errorMessage,
        String completionId,
        FinishReason finishReason,
        String parentId,
        Origin origin) {

    /** A message written through Parley: every row a chat produces. */
    public Message(String id, String sessionId, Role role, String content, String model, Long inputTokens,
                   Long outputTokens, Long totalTokens, String userMessageId, Instant messageTimestamp,
                   Long elapsedMs, String errorMessage, String completionId, FinishReason finishReason,
                   String parentId) {
        this(id, sessionId, role, content, model, inputTokens, outputTokens, totalTokens, userMessageId,
                messageTimestamp, elapsedMs, errorMessage, completionId, finishReason, parentId, null);
    }

    /** A message outside any branch: rows written before branches, and tests that do not care. */
    public Message(String id, String sessionId, Role role, String content, String model, Long inputTokens,
                   Long outputTokens, Long totalTokens, String userMessageId, Instant messageTimestamp,
                   Long elapsedMs, String errorMessage, String completionId, FinishReason finishReason) {
        this(id, sessionId, role, content, model, inputTokens, outputTokens, totalTokens, userMessageId,
                messageTimestamp, elapsedMs, errorMessage, completionId, finishReason, null);
    }

    /** A message without a finish reason: every user row, and replies stored before the field existed. */
    public Message(String id, String sessionId, Role role, String content, String model, Long inputTokens,
                   Long outputTokens, Long totalTokens, String userMessageId, Instant messageTimestamp,
                   Long elapsedMs, String errorMessage, String completionId) {
        this(id, sessionId, role, content, model, inputTokens, outputTokens, totalTokens, userMessageId,
                messageTimestamp, elapsedMs, errorMessage, completionId, null, null);
    }

    /** True when the message is history imported from another app (SPEC §4.1): it never counts in daily usage. */
    public boolean imported() {
        return origin == Origin.IMPORT;
    }

    /** True when the message failed (its reply was not produced). */
    public boolean failed() {
        return errorMessage != null;
    }

    /** A builder of a message with this id, session and role; every other field starts {@code null}. */
    public static Builder builder(String id, String sessionId, Role role) {
        return new Builder().id(id).sessionId(sessionId).role(role);
    }

    /** A builder holding every field of this message, to change a few by name. */
    public Builder toBuilder() {
        return new Builder().id(id).sessionId(sessionId).role(role).content(content).model(model)
                .inputTokens(inputTokens).outputTokens(outputTokens).totalTokens(totalTokens)
                .userMessageId(userMessageId).messageTimestamp(messageTimestamp).elapsedMs(elapsedMs)
                .errorMessage(errorMessage).completionId(completionId).finishReason(finishReason).parentId(parentId)
                .origin(origin);
    }

    /** Builds a {@link Message} field by field. Not thread-safe; {@link #build} checks nothing beyond the record. */
    public static final class Builder {
        private String id;
        private String sessionId;
        private Role role;
        private String content;
        private String model;
        private Long inputTokens;
        private Long outputTokens;
        private Long totalTokens;
        private String userMessageId;
        private Instant messageTimestamp;
        private Long elapsedMs;
        private String errorMessage;
        private String completionId;
        private FinishReason finishReason;
        private String parentId;
        private Origin origin;

        private Builder() {
        }

        public Builder id(String value) {
            id = value;
            return this;
        }

        public Builder sessionId(String value) {
            sessionId = value;
            return this;
        }

        public Builder role(Role value) {
            role = value;
            return this;
        }

        public Builder content(String value) {
            content = value;
            return this;
        }

        public Builder model(String value) {
            model = value;
            return this;
        }

        public Builder inputTokens(Long value) {
            inputTokens = value;
            return this;
        }

        public Builder outputTokens(Long value) {
            outputTokens = value;
            return this;
        }

        public Builder totalTokens(Long value) {
            totalTokens = value;
            return this;
        }

        /** Sets all three token counts: {@code input}, {@code output} and their sum. */
        public Builder tokens(long input, long output) {
            return inputTokens(input).outputTokens(output).totalTokens(input + output);
        }

        public Builder userMessageId(String value) {
            userMessageId = value;
            return this;
        }

        public Builder messageTimestamp(Instant value) {
            messageTimestamp = value;
            return this;
        }

        public Builder elapsedMs(Long value) {
            elapsedMs = value;
            return this;
        }

        public Builder errorMessage(String value) {
            errorMessage = value;
            return this;
        }

        public Builder completionId(String value) {
            completionId = value;
            return this;
        }

        public Builder finishReason(FinishReason value) {
            finishReason = value;
            return this;
        }

        public Builder parentId(String value) {
            parentId = value;
            return this;
        }

        public Builder origin(Origin value) {
            origin = value;
            return this;
        }

        public Message build() {
            return new Message(id, sessionId, role, content, model, inputTokens, outputTokens, totalTokens,
                    userMessageId, messageTimestamp, elapsedMs, errorMessage, completionId, finishReason, parentId,
                    origin);
        }
    }
}
