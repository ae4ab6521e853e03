package dev.parley.client;

/**
 * Hears what changes in the client. Every method is called on the client's single event thread, in order, never
 * on the caller's thread; implementations hand work to their UI thread and return quickly.
 */
public interface ChatListener {

    /** Messages of {@code sessionId} were added or changed. */
    default void messagesChanged(String sessionId) {
    }

    /** The list of conversations changed (a new one, a rename, a delete, new activity). */
    default void sessionsChanged() {
    }

    /** The sync status changed. */
    default void syncStatusChanged(SyncStatus status) {
    }

    /** Signed in ({@code account} non-null) or signed out ({@code null}). */
    default void accountChanged(Account account) {
    }
}
