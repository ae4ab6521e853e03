package dev.parley.client.internal;

import dev.parley.client.SyncState;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import dev.parley.protocol.SyncPage;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Merges a page of the server's history into the local store, by id. The server's copy of a message wins (a
 * success there is final, a purge there is a delete), except over a local success not yet pushed. For a session,
 * a delete always wins, and the title and the system prompt each win when their own time ({@code titleUpdatedAt},
 * {@code systemPromptUpdatedAt}) is newer (last writer wins per field); a local change not yet pushed is kept for
 * its push. A message's place in its conversation's tree ({@code parentId}) comes with it: a local row without one
 * (stored before branches) takes the server's, and a server that sends none leaves the local one as it is. A
 * question may have several replies; each merges by its own id.
 */
final class HistoryMerge {
    private HistoryMerge() {
    }

    static int merge(Connection c, String owner, SyncPage page, LocalSessions sessions, LocalMessages messages)
            throws SQLException {
        Set<String> knownSessions = new HashSet<>();
        for (Session s : page.sessions()) {
            mergeSession(c, owner, s, sessions);
            knownSessions.add(s.id());
        }
        // A page holds hundreds of messages: read the local copies with one query, write with one statement.
        Map<String, MessageRow> locals = messages.findAll(c, page.messages().stream().map(Message::id).toList());
        List<MessageRow> merged = new ArrayList<>(page.messages().size());
        for (Message m : page.messages()) {
            if (knownSessions.add(m.sessionId()) && sessions.find(c, m.sessionId()).isEmpty()) {
                // A message can arrive before its session's newest row; keep the foreign key whole.
                sessions.put(c, new SessionRow(m.sessionId(), owner, "New chat", null, m.messageTimestamp(), null,
                        m.messageTimestamp(), "", SyncState.SYNCED, null, null, null));
            }
            MessageRow row = mergeMessage(owner, m, Optional.ofNullable(locals.get(m.id())));
            if (row != null) {
                merged.add(row);
            }
        }
        messages.putAll(c, merged);
        new FailedReplies().deleteAll(c, page.messages().stream().filter(m -> m.role() == Role.ASSISTANT)
                .map(Message::id).toList());
        return page.sessions().size() + page.messages().size();
    }

    private static void mergeSession(Connection c, String owner, Session s, LocalSessions sessions)
            throws SQLException {
        Instant activity = s.lastMessageTimestamp() != null ? s.lastMessageTimestamp() : s.createdAt();
        String preview = s.lastMessagePreview() == null ? "" : s.lastMessagePreview();
        String serverPrompt = SessionRow.promptOrNull(s.systemPrompt());
        Optional<SessionRow> local = sessions.find(c, s.id());
        if (local.isEmpty()) {
            sessions.put(c, new SessionRow(s.id(), owner, s.title(), s.titleUpdatedAt(), serverPrompt,
                    s.systemPromptUpdatedAt(), s.createdAt(), s.deletedAt(), activity, preview, SyncState.SYNCED,
                    null, null, null));
            return;
        }
        SessionRow row = local.get();
        boolean unsent = row.syncState() == SyncState.PENDING || row.syncState() == SyncState.REJECTED;
        // Each field on its own: an unsent local edit stands unless the server's is newer.
        String title = row.title();
        Instant titleAt = row.titleUpdatedAt();
        if (!unsent || isNewer(s.titleUpdatedAt(), row.titleUpdatedAt())) {
            title = s.title();
            titleAt = s.titleUpdatedAt();
        }
        String prompt = row.systemPrompt();
        Instant promptAt = row.systemPromptUpdatedAt();
        // A server that never had a prompt for this session (or does not keep prompts) says nothing about it.
        if (unsent ? isNewer(s.systemPromptUpdatedAt(), promptAt) : s.systemPromptUpdatedAt() != null) {
            prompt = serverPrompt;
            promptAt = s.systemPromptUpdatedAt();
        }
        Instant deletedAt = row.deletedAt() != null ? row.deletedAt() : s.deletedAt();
        SessionRow merged = new SessionRow(row.id(), owner, title, titleAt, prompt, promptAt, row.createdAt(),
                deletedAt, activity.isAfter(row.lastActivityAt()) ? activity : row.lastActivityAt(),
                activity.isAfter(row.lastActivityAt()) || !unsent ? preview : row.preview(),
                row.syncState(), row.outboxSeq(), row.rejectCode(), row.rejectReason());
        // Nothing left to push when the server already holds what the local row would send.
        boolean settled = !unsent || (s.deletedAt() != null)
                || (Objects.equals(title, s.title()) && row.deletedAt() == null
                && (promptAt == null || Objects.equals(prompt, serverPrompt)));
        sessions.put(c, settled && unsent ? merged.withSync(SyncState.SYNCED, null, null, null) : merged);
    }

    /** The row to store for {@code m}, or {@code null} to keep the local one. */
    private static MessageRow mergeMessage(String owner, Message m, Optional<MessageRow> local) {
        if (local.isPresent() && local.get().syncState() == SyncState.PENDING && !local.get().failed()
                && m.errorMessage() != null) {
            return null; // answered here since: the push will turn the server's failed copy into this success
        }
        Message placed = m.parentId() == null && local.isPresent() && local.get().message().parentId() != null
                ? m.toBuilder().parentId(local.get().message().parentId()).build() : m;
        MessageRow row = local.map(r -> r.withMessage(placed, m.errorMessage() == null ? null : r.errorCode(),
                        m.errorMessage() != null && r.retryable()))
                .orElseGet(() -> new MessageRow(placed, owner, SyncState.SYNCED, m.errorMessage() == null ? null : "failed",
                        m.errorMessage() != null, null, null, null));
        return row.withSync(SyncState.SYNCED, null, null, null);
    }

    private static boolean isNewer(Instant candidate, Instant current) {
        return candidate != null && (current == null || candidate.isAfter(current));
    }
}
