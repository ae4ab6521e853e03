package dev.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatParameters;
import dev.parley.client.SyncState;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Json;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import dev.parley.protocol.Session;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an exchange reads from the store and writes back. The chat request (sent, or tried again): the conversation's
 * system prompt first, within the context limit, and the temperature and reply length each from the chat, else from
 * the client's defaults. The outcome: a conversation whose server copy lacks its system prompt stays queued.
 */
class ExchangeRecordsTest {
    /** Before any message a test writes now. */
    private static final Instant EARLIER = Instant.now().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.MILLIS);

    @TempDir
    Path dir;

    LocalDatabase db;
    TokenStore tokens;
    Events events;
    Conversations conversations;
    ExchangeRecords records;
    ExchangeRequests requests;
    String sessionId;

    @BeforeEach
    void open() {
        db = LocalDatabase.open(dir.resolve("parley-client.db"));
        events = new Events();
        tokens = new TokenStore(dir, Json.newMapper());
        conversations = new Conversations(db, tokens, () -> UUID.randomUUID().toString(),
                Clock.systemUTC(), events, () -> { });
        records = new ExchangeRecords(db, conversations, () -> UUID.randomUUID().toString(), Clock.systemUTC());
        requests = new ExchangeRequests(db, conversations);
        sessionId = conversations.newSession("Long talk").id();
    }

    @AfterEach
    void close() {
        events.close();
        db.close();
    }

    @Test
    void theSystemPromptIsTheFirstContextEntryAndCountsAgainstTheContextLimit() {
        writeEarlierMessages(120);
        conversations.setSystemPrompt(sessionId, "You answer in one sentence.");

        ChatRequest withPrompt = requestForANewMessage();
        conversations.setSystemPrompt(sessionId, "");
        ChatRequest withoutPrompt = requestForANewMessage();

        assertThat(withPrompt.context()).hasSize(Limits.MAX_CONTEXT_MESSAGES);
        assertThat(withPrompt.context().get(0))
                .isEqualTo(new ContextMessage(Role.SYSTEM, "You answer in one sentence."));
        assertThat(withPrompt.context().get(1).content()).isEqualTo("earlier 21"); // the oldest drop out first
        assertThat(withPrompt.context().get(99).content()).isEqualTo("earlier 119");
        assertThat(withoutPrompt.context()).hasSize(Limits.MAX_CONTEXT_MESSAGES)
                .noneMatch(m -> m.role() == Role.SYSTEM);
        assertThat(withoutPrompt.context().get(0).content()).isEqualTo("earlier 20");
    }

    @Test
    void aTriedAgainMessageIsSentWithThePromptAsItIsNow() {
        writeEarlierMessages(2);
        MessageRow sent = records.write(sessionId, "a question", null, null).row();
        records.failed(sent, null, "offline", "No answer", true, SyncState.LOCAL, null);
        conversations.setSystemPrompt(sessionId, "Set after the first try.");

        MessageRow retried = records.retry(sent.id()).row();
        ChatRequest request = requests.chatRequest(retried, null);

        assertThat(request.messageId()).isEqualTo(sent.id());
        assertThat(request.context()).extracting(ContextMessage::content)
                .containsExactly("Set after the first try.", "earlier 0", "earlier 1");
    }

    @Test
    void aChatsOwnParametersWinFieldByFieldOverTheClientDefaults() {
        requests.defaultParameters(new ChatParameters(1.0, 512));
        conversations.setChatParameters(sessionId, new ChatParameters(0.2, null));
        ChatRequest own = requestForANewMessage();

        conversations.setChatParameters(sessionId, ChatParameters.NONE);
        ChatRequest defaults = requestForANewMessage();

        requests.defaultParameters(ChatParameters.NONE);
        ChatRequest model = requestForANewMessage();

        assertThat(own.temperature()).isEqualTo(0.2);
        assertThat(own.maxTokens()).isEqualTo(512);
        assertThat(defaults.temperature()).isEqualTo(1.0);
        assertThat(defaults.maxTokens()).isEqualTo(512);
        assertThat(model.temperature()).isNull();
        assertThat(model.maxTokens()).isNull();
    }

    @Test
    void aChatsParametersAreKeptAcrossReopeningAndNotPartOfWhatIsPushed() {
        conversations.setChatParameters(sessionId, new ChatParameters(0.7, 2048));
        String id = sessionId;
        SessionRow before = db.inTransaction(c -> new LocalSessions().find(c, id)).orElseThrow();
        close();
        open();

        ChatParameters reopened = db.inTransaction(c -> new LocalSessions().parameters(c, id));
        SessionRow after = db.inTransaction(c -> new LocalSessions().find(c, id)).orElseThrow();
        assertThat(reopened).isEqualTo(new ChatParameters(0.7, 2048));
        assertThat(after.toWire()).isEqualTo(before.toWire());
        assertThat(after.syncState()).isEqualTo(SyncState.LOCAL);
    }

    @Test
    void aConversationTheExchangeCreatedOnTheServerWithoutItsPromptStaysQueuedForItsPush() {
        tokens.save(new AuthResponse(new AuthResponse.User("u1", "ada@example.com"), "access", "refresh",
                Instant.now().plusSeconds(600)));
        String signedIn = conversations.newSession("Poems").id();
        conversations.setSystemPrompt(signedIn, "You write only haiku.");
        String plain = conversations.newSession("Plain").id();

        SessionRow withPrompt = answerPersisted(signedIn);
        SessionRow withoutPrompt = answerPersisted(plain);

        assertThat(withPrompt.syncState()).as("the prompt is still to be pushed").isEqualTo(SyncState.PENDING);
        assertThat(withPrompt.toWire().systemPrompt()).isEqualTo("You write only haiku.");
        assertThat(withoutPrompt.syncState()).as("the exchange created all of it").isEqualTo(SyncState.SYNCED);
    }

    /** Sends a message of {@code session} and stores the server's answer: stored, session created without a prompt. */
    private SessionRow answerPersisted(String session) {
        MessageRow row = records.write(session, "a question", null, "u1").row();
        SessionRow local = db.inTransaction(c -> new LocalSessions().find(c, session)).orElseThrow();
        Message user = row.message().toBuilder().model("parley-local").tokens(3, 0).build();
        Message reply = Message.builder(UUID.randomUUID().toString(), session, Role.ASSISTANT).content("An answer.")
                .model("parley-local").tokens(0, 4).userMessageId(row.id())
                .messageTimestamp(row.message().messageTimestamp()).build();
        Session created = new Session(session, local.title(), local.titleUpdatedAt(), null, null, local.createdAt(),
                null, 2L, 7L, "parley-local", "An answer.", reply.messageTimestamp());
        records.answered(row, null, new ChatResponse(user, reply, created, true, false));
        return db.inTransaction(c -> new LocalSessions().find(c, session)).orElseThrow();
    }

    /** Answered exchanges "earlier 0" … "earlier n-1", oldest first, all before any new message. */
    private void writeEarlierMessages(int n) {
        db.inTransaction(c -> {
            LocalMessages messages = new LocalMessages();
            for (int i = 0; i < n; i++) {
                Role role = i % 2 == 0 ? Role.USER : Role.ASSISTANT;
                Message m = Message.builder(String.format("m%04d", i), sessionId, role).content("earlier " + i)
                        .model("parley-local").tokens(role == Role.USER ? 3 : 0, role == Role.USER ? 0 : 5)
                        .messageTimestamp(EARLIER.plusSeconds(i))
                        .parentId(i == 0 ? null : String.format("m%04d", i - 1)).build();
                messages.put(c, new MessageRow(m, null, SyncState.LOCAL, null, false, null, null, null));
            }
            return null;
        });
    }

    private ChatRequest requestForANewMessage() {
        MessageRow row = records.write(sessionId, "the next question", null, null).row();
        ChatRequest request = requests.chatRequest(row, null);
        records.failed(row, null, "offline", "No answer", true, SyncState.LOCAL, null); // out of the next one's context
        return request;
    }
}
