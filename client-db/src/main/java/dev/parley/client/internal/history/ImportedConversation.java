package dev.parley.client.internal.history;

import dev.parley.protocol.Message;
import dev.parley.protocol.Session;
import java.time.Instant;
import java.util.List;

/**
 * One conversation of an export as Parley rows: the session and its messages, every branch, each after the row it
 * follows (so the outbox pushes a question before its replies), all of origin {@code import}.
 *
 * @param lastActivityAt the time of its newest message, which orders it in the sidebar
 * @param nodesSkipped   parts of the export's conversation that are not messages to show
 * @param notes          non-text parts kept as a note
 */
record ImportedConversation(Session session, List<Message> messages, Instant lastActivityAt, long nodesSkipped,
                            long notes) {
}
