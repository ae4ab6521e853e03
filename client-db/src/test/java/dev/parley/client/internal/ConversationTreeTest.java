package dev.parley.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.LocalMessage;
import dev.parley.client.PathMessage;
import dev.parley.client.SyncState;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The path a conversation shows (SPEC §4.3): the newest leaf's branch unless this device chose a version; siblings
 * oldest first; a reply without a parent id follows its user message; several first turns are versions of a root.
 */
class ConversationTreeTest {
    private static final Instant T0 = Instant.parse("2026-05-01T10:00:00Z");

    @Test
    void thePathFollowsTheBranchHoldingTheNewestMessage() {
        // q1 ─ r1 ─ q2 ─ r2          (r1 older, but its branch holds the newest message, r2)
        //   └─ r1b                   (regenerated later than r1, earlier than r2)
        ConversationTree tree = tree(Map.of(),
                user("q1", null, 0), reply("r1", "q1", 1), user("q2", "r1", 2), reply("r2", "q2", 10),
                reply("r1b", "q1", 5));

        assertThat(tree.path()).extracting(PathMessage::id).containsExactly("q1", "r1", "q2", "r2");
        PathMessage second = tree.path().get(1);
        assertThat(second.siblingIds()).containsExactly("r1", "r1b");
        assertThat(second.version()).isEqualTo(1);
        assertThat(second.versions()).isEqualTo(2);
        assertThat(second.previousVersion()).isEmpty();
        assertThat(second.nextVersion()).contains("r1b");
    }

    @Test
    void aChoiceOfThisDeviceWinsAndThePathRunsOnToTheNewestLeafBeneathIt() {
        ConversationTree tree = tree(Map.of("q1", "r1"),
                user("q1", null, 0), reply("r1", "q1", 1), user("q2", "r1", 2), reply("r2", "q2", 3),
                user("q2b", "r1", 4), reply("r2b", "q2b", 5), reply("r1b", "q1", 9));

        assertThat(tree.path()).extracting(PathMessage::id).containsExactly("q1", "r1", "q2b", "r2b");
        assertThat(tree.path().get(2).version()).as("q2b is the second of two questions after r1").isEqualTo(2);
    }

    @Test
    void aReplyStoredWithoutAParentFollowsItsUserMessageAndEditedFirstTurnsAreRootVersions() {
        Message legacy = Message.builder("r1", "s", Role.ASSISTANT).content("a").userMessageId("q1")
                .messageTimestamp(T0.plusSeconds(1)).build();
        ConversationTree tree = tree(Map.of(), user("q1", null, 0), local(legacy), user("q1b", null, 7));

        assertThat(tree.path()).extracting(PathMessage::id).containsExactly("q1b");
        assertThat(tree.path().get(0).siblingIds()).containsExactly("q1", "q1b");
        assertThat(tree.ancestors("r1")).extracting(LocalMessage::id).containsExactly("q1");
        ConversationTree chosen = tree(Map.of(BranchChoices.key("s", null), "q1"), user("q1", null, 0),
                local(legacy), user("q1b", null, 7));
        assertThat(chosen.path()).extracting(PathMessage::id).containsExactly("q1", "r1");
    }

    @Test
    void aLongConversationIsWalkedWithoutRecursion() {
        LocalMessage[] line = new LocalMessage[20_000];
        for (int i = 0; i < line.length; i++) {
            line[i] = user("m" + i, i == 0 ? null : "m" + (i - 1), i);
        }
        ConversationTree tree = tree(Map.of(), line);
        assertThat(tree.path()).hasSize(line.length);
        assertThat(tree.ancestors("m19999")).hasSize(19_999);
    }

    private static ConversationTree tree(Map<String, String> choices, LocalMessage... messages) {
        return new ConversationTree("s", List.of(messages), choices);
    }

    private static LocalMessage user(String id, String parent, int second) {
        return local(Message.builder(id, "s", Role.USER).content(id).parentId(parent)
                .messageTimestamp(T0.plusSeconds(second)).build());
    }

    private static LocalMessage reply(String id, String question, int second) {
        return local(Message.builder(id, "s", Role.ASSISTANT).content(id).userMessageId(question).parentId(question)
                .messageTimestamp(T0.plusSeconds(second)).build());
    }

    private static LocalMessage local(Message m) {
        return new LocalMessage(m, SyncState.SYNCED, null, false, null);
    }
}
