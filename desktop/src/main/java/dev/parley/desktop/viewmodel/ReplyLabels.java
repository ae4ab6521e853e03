package dev.parley.desktop.viewmodel;

import dev.parley.client.LocalMessage;
import dev.parley.protocol.Role;

/** The words under a reply that is not simply complete: being written, stopped, cut off by the length limit. */
public final class ReplyLabels {
    public static final String WRITING = "Writing…";
    public static final String WRITING_ELSEWHERE = "Writing on another device…";
    public static final String STOPPED = "■ Stopped";
    public static final String STOPPED_OFFLINE = "■ Stopped (the server is told when the connection is back)";
    public static final String CUT_OFF = "✂ Cut off: the reply reached its length limit";

    private ReplyLabels() {
    }

    /** The label of {@code message}, or {@code null} for a complete reply and for every user message. */
    public static String of(LocalMessage message) {
        if (message.message().role() != Role.ASSISTANT) {
            return null;
        }
        if (message.stopped()) {
            return message.unfinished() ? STOPPED_OFFLINE : STOPPED;
        }
        if (message.unfinished()) {
            return WRITING;
        }
        return message.cutOff() ? CUT_OFF : null;
    }
}
