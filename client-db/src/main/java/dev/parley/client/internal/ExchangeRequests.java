package dev.parley.client.internal;

import dev.parley.client.ChatParameters;
import dev.parley.client.LocalMessage;
import dev.parley.client.SyncState;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.RegenerateRequest;
import dev.parley.protocol.Role;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The requests an exchange sends: a chat's or a regenerate's, each with the context of its branch (the system
 * prompt first) and the chat's parameters, falling back to the client's defaults. Reads the store; writes nothing.
 * Thread-safe.
 */
public final class ExchangeRequests {
    private static final int CONTEXT_BYTES = 768 * 1024;

    private final LocalDatabase db;
    private final Conversations conversations;
    private final LocalSessions sessions = new LocalSessions();
    private volatile ChatParameters defaults = ChatParameters.NONE;

    public ExchangeRequests(LocalDatabase db, Conversations conversations) {
        this.db = db;
        this.conversations = conversations;
    }

    /**
     * Sets the parameters of every chat that leaves them to the client (in memory; the desktop sets them from its
     * settings). Any thread.
     */
    public void defaultParameters(ChatParameters parameters) {
        defaults = Objects.requireNonNull(parameters, "parameters");
    }

    /**
     * The request of a message under way (sent, or tried again): its parent, the id the client chose for its reply,
     * the {@link #context context} of its branch, and the chat's own temperature and reply length, each falling back
     * to the client's default. Read on the exchange's thread, not in the transaction that writes the message: the
     * caller of a send waits only for the write (the {@code enqueue} benchmark).
     */
    public ChatRequest chatRequest(MessageRow row, String replyId) {
        return chatRequest(row, replyId, row.message().model());
    }

    /** {@link #chatRequest(MessageRow, String)} asking {@code model} (a signed-out regenerate asks again so). */
    public ChatRequest chatRequest(MessageRow row, String replyId, String model) {
        return db.inTransaction(c -> {
            Message m = row.message();
            SessionRow session = sessions.find(c, m.sessionId()).orElseThrow();
            ChatParameters parameters = parameters(c, m.sessionId());
            String title = session.syncState() == SyncState.SYNCED ? null : session.title();
            return new ChatRequest(m.sessionId(), m.id(), m.content(), model, m.messageTimestamp(), title,
                    parameters.temperature(), parameters.maxTokens(), context(c, row, session), m.parentId(),
                    replyId);
        });
    }

    /**
     * The request of a regenerate (SPEC §5.4): the same context a send of the user message has — the path up to it,
     * the system prompt first — and the chat's parameters as they are now.
     */
    public RegenerateRequest regenerateRequest(MessageRow row, ExchangeRecords.Regeneration regeneration) {
        return db.inTransaction(c -> {
            Message m = row.message();
            SessionRow session = sessions.find(c, m.sessionId()).orElseThrow();
            ChatParameters parameters = parameters(c, m.sessionId());
            return new RegenerateRequest(m.sessionId(), m.id(), regeneration.replyId(), regeneration.model(),
                    parameters.temperature(), parameters.maxTokens(), context(c, row, session));
        });
    }

    /** The chat's own temperature and reply length, each one it leaves unset taken from the client's defaults. */
    private ChatParameters parameters(Connection c, String sessionId) throws SQLException {
        return sessions.parameters(c, sessionId).orElse(defaults);
    }

    /**
     * What the model is given before {@code row}: the conversation's system prompt, when it has one, then the
     * answered messages of the branch that leads to {@code row} (not every row: other versions are no part of it),
     * newest kept, within the context limit counting the prompt.
     */
    private List<ContextMessage> context(Connection c, MessageRow row, SessionRow session) throws SQLException {
        Message m = row.message();
        String prompt = session.systemPrompt();
        List<LocalMessage> line = conversations.tree(c, m.sessionId()).ancestors(row.id()).stream()
                .filter(e -> !e.failed() && !e.unfinished()).toList();
        int keep = Limits.MAX_CONTEXT_MESSAGES - (prompt == null ? 0 : 1);
        List<LocalMessage> earlier = line.subList(Math.max(0, line.size() - keep), line.size());
        List<ContextMessage> context = new ArrayList<>();
        int budget = CONTEXT_BYTES - m.content().getBytes(StandardCharsets.UTF_8).length
                - (prompt == null ? 0 : prompt.getBytes(StandardCharsets.UTF_8).length + 64);
        for (int i = earlier.size() - 1; i >= 0; i--) {
            Message previous = earlier.get(i).message();
            budget -= previous.content().getBytes(StandardCharsets.UTF_8).length + 64;
            if (budget < 0) {
                break; // the oldest messages drop out first
            }
            context.add(0, new ContextMessage(previous.role(), previous.content()));
        }
        if (prompt != null) {
            context.add(0, new ContextMessage(Role.SYSTEM, prompt));
        }
        return context;
    }
}
