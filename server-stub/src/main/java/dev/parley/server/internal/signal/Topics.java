package dev.parley.server.internal.signal;

/** The topics of {@link ChangeSignals}, in one place so that announcers and watchers agree. */
public final class Topics {
    private Topics() {
    }

    /** A reply being generated for the user message {@code messageId}: its text grew, or it ended. */
    public static String reply(String messageId) {
        return "reply:" + messageId;
    }
}
