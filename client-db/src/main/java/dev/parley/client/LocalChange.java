package dev.parley.client;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What one local commit changed, as the rows now stand, so that a view applies it instead of reading again.
 * Immutable.
 *
 * @param sessions        conversations written (a deleted one has {@code deletedAt} set)
 * @param messages        messages written, an unfinished reply included
 * @param removedMessages ids of messages no longer shown: an unfinished reply the outcome replaced or ended
 * @param wholesale       true when more changed than is listed (a download of history, a sign-in or sign-out):
 *                        read again what is shown
 */
public record LocalChange(List<LocalSession> sessions, List<LocalMessage> messages, Set<String> removedMessages,
                          boolean wholesale) {

    public LocalChange {
        sessions = List.copyOf(sessions);
        messages = List.copyOf(messages);
        removedMessages = Set.copyOf(removedMessages);
    }

    /** A change to conversations only. */
    public static LocalChange ofSessions(LocalSession... sessions) {
        return new LocalChange(List.of(sessions), List.of(), Set.of(), false);
    }

    /** Everything shown may have changed. */
    public static LocalChange everything() {
        return new LocalChange(List.of(), List.of(), Set.of(), true);
    }

    /** The conversations whose messages this change touches. */
    public Set<String> messageSessions() {
        Set<String> ids = new LinkedHashSet<>();
        messages.forEach(m -> ids.add(m.message().sessionId()));
        return ids;
    }
}
