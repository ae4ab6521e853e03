package dev.parley.client.internal.history;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.ClientException;
import dev.parley.client.ImportListener;
import dev.parley.client.ImportSummary;
import dev.parley.client.SyncState;
import dev.parley.client.internal.Conversations;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.client.internal.LocalMessages;
import dev.parley.client.internal.LocalSessions;
import dev.parley.client.internal.MessageRow;
import dev.parley.client.internal.SessionRow;
import dev.parley.client.internal.Settings;
import dev.parley.protocol.Message;
import dev.parley.protocol.Session;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Imports an export into the local store (SPEC §4.1, §6). The file is read twice. The first read checks all of it
 * and writes nothing, so a malformed file imports nothing. The second writes it, a group of whole conversations per
 * transaction, so the store's other users wait for one group at most, and a cancel keeps whole conversations.
 *
 * <p>Rows are written as any other unsent row: the signed-in account's {@code pending}, or signed out nobody's
 * {@code local}, adopted at the next sign-in; the push loop takes them to the server. A row already stored is left as
 * it is, so a second import adds nothing, and a conversation deleted here stays deleted. Not thread-safe; one per
 * import.
 */
public final class HistoryImport {
    /** Messages per transaction, about a tenth of a second of writing. */
    private static final int GROUP_MESSAGES = 2_000;

    private final LocalDatabase db;
    private final String owner;
    private final ObjectMapper json;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();
    private final Settings settings = new Settings();

    /** @param owner the account the rows are written for, {@code null} signed out */
    public HistoryImport(LocalDatabase db, String owner, ObjectMapper json) {
        this.db = db;
        this.owner = owner;
        this.json = json;
    }

    /**
     * Imports {@code file}; blocks until done or cancelled.
     *
     * @throws ClientException {@code bad_request} with the reason when the file is not an export Parley reads; then
     *                         nothing was written
     */
    public ImportSummary run(Path file, ImportListener listener) {
        int[] found = {0};
        String source = read(file, TokenCounter.NONE, (bytes, total) -> listener.checking(bytes, total), c -> {
            found[0]++;
            return !listener.cancelled();
        });
        if (listener.cancelled()) {
            return new ImportSummary(source, found[0], 0, 0, 0, 0, 0, 0, true);
        }
        Tally tally = new Tally(source, found[0]);
        listener.importing(0, found[0]);
        List<ImportedConversation> group = new ArrayList<>();
        int[] groupMessages = {0};
        read(file, TokenCounter.create(), (bytes, total) -> { }, conversation -> {
            group.add(conversation);
            groupMessages[0] += conversation.messages().size();
            if (groupMessages[0] >= GROUP_MESSAGES) {
                write(group, tally);
                group.clear();
                groupMessages[0] = 0;
                listener.importing(tally.done, found[0]);
                if (listener.cancelled()) {
                    tally.cancelled = true;
                    return false;
                }
            }
            return true;
        });
        if (!tally.cancelled && !group.isEmpty()) {
            write(group, tally);
            listener.importing(tally.done, found[0]);
        }
        return tally.summary();
    }

    private String read(Path file, TokenCounter tokens, HistoryReader.Progress progress,
                        HistoryReader.Visitor visitor) {
        try {
            return new HistoryReader(json, tokens).read(file, progress, visitor);
        } catch (HistoryFormatException e) {
            throw new ClientException("bad_request", e.getMessage(), false, e);
        }
    }

    /** Running totals of the write. */
    private static final class Tally {
        final String source;
        final int inFile;
        int done;
        int added;
        int skipped;
        long messagesAdded;
        long messagesHere;
        long nodesSkipped;
        long notes;
        boolean cancelled;

        Tally(String source, int inFile) {
            this.source = source;
            this.inFile = inFile;
        }

        ImportSummary summary() {
            return new ImportSummary(source, inFile, added, messagesAdded, messagesHere, skipped, nodesSkipped, notes,
                    cancelled);
        }
    }

    private void write(List<ImportedConversation> group, Tally tally) {
        db.inTransaction(c -> {
            for (ImportedConversation conversation : group) {
                writeOne(c, conversation, tally);
            }
            return null;
        });
    }

    private void writeOne(Connection c, ImportedConversation conversation, Tally tally) throws SQLException {
        tally.done++;
        tally.nodesSkipped += conversation.nodesSkipped();
        tally.notes += conversation.notes();
        Session session = conversation.session();
        Optional<SessionRow> stored = sessions.find(c, session.id());
        if (stored.isPresent() && (stored.get().deletedAt() != null || !Objects.equals(stored.get().owner(), owner))) {
            tally.skipped++;
            return;
        }
        List<Message> rows = conversation.messages();
        Map<String, MessageRow> here = stored.isPresent()
                ? messages.findAll(c, rows.stream().map(Message::id).toList()) : Map.of();
        List<Message> missing = rows.stream().filter(m -> !here.containsKey(m.id())).toList();
        tally.messagesHere += rows.size() - missing.size();
        if (missing.isEmpty()) {
            return;
        }
        SyncState state = owner == null ? SyncState.LOCAL : SyncState.PENDING;
        long seq = settings.reserveOutboxSeqs(c, missing.size() + (stored.isPresent() ? 0 : 1));
        if (stored.isEmpty()) {
            Message newest = rows.stream().max((a, b) -> a.messageTimestamp().compareTo(b.messageTimestamp()))
                    .orElseThrow();
            sessions.put(c, new SessionRow(session.id(), owner, session.title(), session.titleUpdatedAt(),
                    session.systemPrompt(), session.systemPromptUpdatedAt(), session.createdAt(), null,
                    conversation.lastActivityAt(), Conversations.preview(newest.content()), state, seq++, null, null));
            tally.added++;
        }
        List<MessageRow> toWrite = new ArrayList<>(missing.size());
        for (Message m : missing) {
            toWrite.add(new MessageRow(m, owner, state, null, false, seq++, null, null));
        }
        messages.putAll(c, toWrite);
        tally.messagesAdded += toWrite.size();
    }
}
