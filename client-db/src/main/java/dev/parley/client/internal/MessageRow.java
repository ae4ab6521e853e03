package dev.parley.client.internal;

import dev.parley.client.LocalMessage;
import dev.parley.client.SyncState;
import dev.parley.protocol.Message;

/** A row of the local {@code messages} table. Immutable; the {@code with…} methods return changed copies. */
public record MessageRow(Message message, String owner, SyncState syncState, String errorCode, boolean retryable,
                         Long outboxSeq, String rejectCode, String rejectReason) {

    public String id() {
        return message.id();
    }

    public boolean failed() {
        return message.errorMessage() != null;
    }

    public LocalMessage toLocal() {
        return new LocalMessage(message, syncState, errorCode, retryable, rejectReason);
    }

    public MessageRow withSync(SyncState state, Long seq, String code, String reason) {
        return new MessageRow(message, owner, state, errorCode, retryable, seq, code, reason);
    }

    public MessageRow withOwner(String newOwner) {
        return new MessageRow(message, newOwner, syncState, errorCode, retryable, outboxSeq, rejectCode, rejectReason);
    }

    public MessageRow withMessage(Message newMessage, String newErrorCode, boolean newRetryable) {
        return new MessageRow(newMessage, owner, syncState, newErrorCode, newRetryable, outboxSeq, rejectCode,
                rejectReason);
    }
}
