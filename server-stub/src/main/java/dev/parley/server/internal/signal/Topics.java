package dev.parley.server.internal.signal;

/** The topics of {@link ChangeSignals}, in one place so that announcers and watchers agree. */
public final class Topics {
    private Topics() {
    }

    /** A reply being generated for the user message {@code messageId}: its text grew, or it ended. */
    public static String reply(String messageId) {
        return "reply:" + messageId;
    }

    /**
     * The rows of user {@code userId} changed (their change clock moved), or a generation of theirs started (SPEC
     * §5.5). On PostgreSQL the change clock announces it itself (migration V8), with this same topic.
     */
    public static String user(String userId) {
        return "user:" + userId;
    }
}
