package dev.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class MessageBuilderTest {
    private static final Instant AT = Instant.parse("2026-12-02T10:15:30.123Z");

    @Test
    void toBuilderKeepsEveryFieldAndChangesOnlyTheOnesNamed() {
        Message reply = new Message("r1", "s1", Role.ASSISTANT, "hello", "parley-local", 3L, 5L, 8L, "u1", AT, 42L,
                null, "cmpl-1", FinishReason.LENGTH);

        assertThat(reply.toBuilder().build()).isEqualTo(reply);
        Message stopped = reply.toBuilder().content("hel").finishReason(FinishReason.STOPPED).build();
        assertThat(stopped).isEqualTo(new Message("r1", "s1", Role.ASSISTANT, "hel", "parley-local", 3L, 5L, 8L, "u1",
                AT, 42L, null, "cmpl-1", FinishReason.STOPPED));
    }

    @Test
    void builderStartsFromIdSessionAndRoleAndSetsTokensTogether() {
        Message user = Message.builder("u1", "s1", Role.USER).content("hi").messageTimestamp(AT).tokens(2, 0).build();

        assertThat(user).isEqualTo(new Message("u1", "s1", Role.USER, "hi", null, 2L, 0L, 2L, null, AT, null, null,
                null, null));
    }
}
