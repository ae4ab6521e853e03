package dev.parley.client;

/**
 * Hears what changes in the client. Every method is called on the client's single event thread, in order, never
 * on the caller's thread; implementations hand work to their UI thread and return quickly.
 */
public interface ChatListener {

    /**
     * One local commit changed these rows. The default tells {@link #messagesChanged} for each conversation whose
     * messages changed and {@link #sessionsChanged} once, for listeners that read again rather than apply.
     */
    default void changed(LocalChange change) {
        change.messageSessions().forEach(this::messagesChanged);
        sessionsChanged();
    }

    /** Messages of {@code sessionId} were added or changed (see {@link #changed}). */
    default void messagesChanged(String sessionId) {
    }

    /** The list of conversations may have changed (see {@link #changed}). */
    default void sessionsChanged() {
    }

    /**
     * An exchange began on this device: one just sent, edited, regenerated, sent again, or resumed after a restart
     * to finish a reply left unfinished. Add an {@link ExchangeListener} to see its reply grow; key the growing
     * reply by {@link Exchange#replyId()}.
     */
    default void exchangeStarted(Exchange exchange) {
    }

    /** The sync status changed. */
    default void syncStatusChanged(SyncStatus status) {
    }

    /** Signed in ({@code account} non-null) or signed out ({@code null}). */
    default void accountChanged(Account account) {
    }

    /** The live sync's state changed (SPEC §6 Live sync). */
    default void liveStateChanged(LiveState state) {
    }

    /**
     * A reply another device is having written in the conversation {@link ChatClient#showing shown} grew, or
     * ended ({@link RemoteReply#ended()}). Keyed by {@link RemoteReply#replyId()}; the stored rows replace it when
     * a pull brings them.
     */
    default void remoteReply(RemoteReply reply) {
    }
}
