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
 * @param pathsChanged    conversations whose shown path changed as a whole — another version chosen
 *                        ({@link ChatClient#showVersion}), a regenerate or an edit begun — so that messages below the
 *                        fork left the path: a view showing one of them reads {@link ChatClient#path} again rather
 *                        than applying {@code messages}
 */
public record LocalChange(List<LocalSession> sessions, List<LocalMessage> messages, Set<String> removedMessages,
                          boolean wholesale, Set<String> pathsChanged) {

    public LocalChange {
        sessions = List.copyOf(sessions);
        messages = List.copyOf(messages);
        removedMessages = Set.copyOf(removedMessages);
        pathsChanged = Set.copyOf(pathsChanged);
    }

    /** A change that leaves every path as it was, apart from what {@code messages} adds to its end. */
    public LocalChange(List<LocalSession> sessions, List<LocalMessage> messages, Set<String> removedMessages,
                       boolean wholesale) {
        this(sessions, messages, removedMessages, wholesale, Set.of());
    }

    /** A change to conversations only. */
    public static LocalChange ofSessions(LocalSession... sessions) {
        return new LocalChange(List.of(sessions), List.of(), Set.of(), false);
    }

    /** Everything shown may have changed. */
    public static LocalChange everything() {
        return new LocalChange(List.of(), List.of(), Set.of(), true);
    }

    /** The path of {@code sessionId} changed as a whole (see {@link #pathsChanged}). */
    public static LocalChange ofPath(String sessionId) {
        return new LocalChange(List.of(), List.of(), Set.of(), false, Set.of(sessionId));
    }

    /** This change, telling besides that the path of {@code sessionId} changed as a whole. */
    public LocalChange withPathChanged(String sessionId) {
        Set<String> paths = new LinkedHashSet<>(pathsChanged);
        paths.add(sessionId);
        return new LocalChange(sessions, messages, removedMessages, wholesale, paths);
    }

    /** The conversations whose messages this change touches, those whose path changed included. */
    public Set<String> messageSessions() {
        Set<String> ids = new LinkedHashSet<>();
        messages.forEach(m -> ids.add(m.message().sessionId()));
        ids.addAll(pathsChanged);
        return ids;
    }
}
