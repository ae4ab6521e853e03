package dev.parley.desktop.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.SyncState;
import dev.parley.desktop.export.ConversationExport.Format;
import dev.parley.protocol.Json;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConversationExportTest {
    private static final Instant T = Instant.parse("2026-11-26T09:30:00Z");
    private static final LocalSession SESSION = new LocalSession("s1", "Trip: Lisbon / Porto?", T, T, null, T, "",
            SyncState.SYNCED, null);
    private static final LocalMessage QUESTION = local(new Message("m1", "s1", Role.USER,
            "Plan **two** days\nin Lisbon", null, 7L, null, null, null, T, null, null, null));
    private static final LocalMessage ANSWER = local(new Message("m2", "s1", Role.ASSISTANT, "- Day 1: Alfama\n",
            "local-small", 7L, 5L, 12L, "m1", T.plusSeconds(2), 340L, null, "c1"));
    private static final LocalMessage UNANSWERED = local(new Message("m3", "s1", Role.USER, "And Porto?", null, null,
            null, null, null, T.plusSeconds(60), null, "No answer from the server.", null));

    private static LocalMessage local(Message m) {
        return new LocalMessage(m, SyncState.SYNCED, null, false, null);
    }

    @Test
    void markdownHasTheTitleEachMessageWithItsDetailsAndFailuresMarked() {
        String md = ConversationExport.markdown(SESSION, List.of(QUESTION, ANSWER, UNANSWERED), T, ZoneOffset.UTC);

        assertThat(md).isEqualTo("""
                # Trip: Lisbon / Porto?

                _Exported from Parley on 2026-11-26 09:30 · 3 messages_

                ## You · 2026-11-26 09:30

                Plan **two** days
                in Lisbon

                ## Parley · 2026-11-26 09:30 · local-small · 5 tokens · 340 ms

                - Day 1: Alfama

                ## You · 2026-11-26 09:31

                And Porto?

                > Not answered: No answer from the server.
                """);
    }

    @Test
    void jsonHoldsTheWireShapesAndReadsBackEqual() throws Exception {
        String json = ConversationExport.json(SESSION, List.of(QUESTION, ANSWER), T);

        ConversationExport.Document back = Json.newMapper().readValue(json, ConversationExport.Document.class);
        assertThat(back.session().id()).isEqualTo("s1");
        assertThat(back.session().title()).isEqualTo("Trip: Lisbon / Porto?");
        assertThat(back.messages()).containsExactly(QUESTION.message(), ANSWER.message());
        assertThat(back.exportedAt()).isEqualTo(T);
    }

    @Test
    void jsonKeepsEveryBranchWithItsParentAndMarkdownOnlyTheShownPath() throws Exception {
        Message first = ANSWER.message().toBuilder().parentId("m1").build();
        Message regenerated = Message.builder("m2b", "s1", Role.ASSISTANT).content("- Day 1: Belém\n")
                .model("local-large").tokens(7, 6).userMessageId("m1").parentId("m1")
                .messageTimestamp(T.plusSeconds(30)).elapsedMs(410L).build();
        Message followUp = Message.builder("m4", "s1", Role.USER).content("And day 2?").parentId("m2b")
                .messageTimestamp(T.plusSeconds(90)).build();
        List<LocalMessage> everyBranch = List.of(QUESTION, local(first), local(regenerated), local(followUp));
        List<LocalMessage> shownPath = List.of(QUESTION, local(regenerated), local(followUp));

        String json = ConversationExport.render(Format.JSON, SESSION, everyBranch, T, ZoneOffset.UTC);
        String md = ConversationExport.render(Format.MARKDOWN, SESSION, shownPath, T, ZoneOffset.UTC);

        ConversationExport.Document back = Json.newMapper().readValue(json, ConversationExport.Document.class);
        assertThat(back.messages()).extracting(Message::id).containsExactly("m1", "m2", "m2b", "m4");
        assertThat(back.messages()).extracting(Message::parentId).containsExactly(null, "m1", "m1", "m2b");
        assertThat(json).contains("\"parentId\" : \"m2b\"");
        assertThat(md).contains("3 messages").contains("Belém").contains("local-large · 6 tokens")
                .doesNotContain("Alfama");
    }

    @Test
    void fileNamesKeepTheTitlesWordsAndDropPathCharacters() {
        assertThat(ConversationExport.fileName(SESSION, Format.MARKDOWN)).isEqualTo("Trip Lisbon Porto.md");
        LocalSession dots = new LocalSession("s2", "../../etc/passwd", T, T, null, T, "", SyncState.SYNCED, null);
        assertThat(ConversationExport.fileName(dots, Format.JSON)).isEqualTo("etc passwd.json");
        LocalSession symbols = new LocalSession("s3", "???", T, T, null, T, "", SyncState.SYNCED, null);
        assertThat(ConversationExport.fileName(symbols, Format.JSON)).isEqualTo("conversation.json");
    }
}
