package dev.parley.client;

import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Message;

/**
 * A message as this device knows it: the wire form plus its sync state and, for a failed reply, the error code and
 * whether "Try again" makes sense. Immutable.
 *
 * @param message      the message; {@code message.errorMessage()} is the plain-language error of a failed reply
 * @param syncState    where the row stands with the server
 * @param errorCode    the error code of a failed reply (an SPEC §5 code, or {@code offline}), else {@code null}
 * @param retryable    whether sending again with the same id may succeed
 * @param rejectReason why the server refused the row, when {@code syncState} is {@link SyncState#REJECTED}
 * @param unfinished   true for a reply still being written (or stopped here while the server has not confirmed the
 *                     stop): its text is what has arrived so far; it is never pushed and never counted
 */
public record LocalMessage(Message message, SyncState syncState, String errorCode, boolean retryable,
                           String rejectReason, boolean unfinished) {

    /** The code used when no answer came back at all (offline, timeout, connection reset). */
    public static final String OFFLINE = "offline";

    /** A stored (finished) message. */
    public LocalMessage(Message message, SyncState syncState, String errorCode, boolean retryable,
                        String rejectReason) {
        this(message, syncState, errorCode, retryable, rejectReason, false);
    }

    public String id() {
        return message.id();
    }

    /** True when this user message got no reply. */
    public boolean failed() {
        return message.errorMessage() != null;
    }

    /** True for a reply the user stopped (stored so, or stopped here and not yet confirmed). */
    public boolean stopped() {
        return message.finishReason() == FinishReason.STOPPED;
    }

    /** True for a reply cut off by the token limit: shown as cut off, not as complete. */
    public boolean cutOff() {
        return message.finishReason() == FinishReason.LENGTH;
    }
}
