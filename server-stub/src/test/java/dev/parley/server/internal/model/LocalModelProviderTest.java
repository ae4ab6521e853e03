package dev.parley.server.internal.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Role;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LocalModelProviderTest {
    private static CompletionRequest ask(String... contents) {
        return new CompletionRequest("parley-local",
                java.util.Arrays.stream(contents).map(c -> new ContextMessage(Role.USER, c)).toList());
    }

    @Test
    void replyIsDeterministicForTheSameQuestion() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, 0.0, new Random());

        Completion first = model.complete(ask("What is an outbox?"));
        Completion second = model.complete(ask("What is an outbox?"));

        assertThat(first.content()).isEqualTo(second.content()).contains("What is an outbox?");
        assertThat(first.outputTokens()).isEqualTo(second.outputTokens());
    }

    @Test
    void tokenCountsAreRealCl100kCounts() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, 0.0, new Random());

        Completion reply = model.complete(ask("hello world", "Hello, world!"));

        // cl100k_base: "hello world" is 2 tokens, "Hello, world!" is 4.
        assertThat(LocalModelProvider.countTokens("hello world")).isEqualTo(2);
        assertThat(LocalModelProvider.countTokens("Hello, world!")).isEqualTo(4);
        assertThat(reply.inputTokens()).isEqualTo(6);
        assertThat(reply.outputTokens()).isEqualTo(LocalModelProvider.countTokens(reply.content()));
    }

    @Test
    void maxTokensCutsTheReplyThereWithFinishReasonLength() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, 0.0, new Random());
        CompletionRequest question = ask("What is an outbox?");
        Completion whole = model.complete(question);

        Completion cut = model.complete(new CompletionRequest("parley-local", question.messages(), null, 7));
        Completion roomy = model.complete(new CompletionRequest("parley-local", question.messages(), null,
                (int) whole.outputTokens()));

        assertThat(whole.outputTokens()).isGreaterThan(7);
        assertThat(cut.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(whole.content()).startsWith(cut.content());
        assertThat(cut.content()).isNotEmpty().hasSizeLessThan(whole.content().length());
        assertThat(cut.outputTokens()).isEqualTo(LocalModelProvider.countTokens(cut.content())).isBetween(6L, 7L);
        assertThat(cut.inputTokens()).isEqualTo(whole.inputTokens());
        assertThat(roomy.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(roomy.content()).isEqualTo(whole.content());
    }

    /** Emoji take several tokens each: a limit that falls inside one ends the reply before it, never inside it. */
    @Test
    void everyLimitCutsAtACharacterBoundaryWithinTheLimit() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, 0.0, new Random());
        CompletionRequest question = ask("\uD83D\uDC69\u200D\uD83D\uDC69\u200D\uD83D\uDC67 ñandú 漢字"
                + " 🏳️‍🌈");
        Completion whole = model.complete(question);

        for (int limit = 1; limit < whole.outputTokens(); limit++) {
            Completion cut = model.complete(new CompletionRequest("parley-local", question.messages(), 0.7, limit));
            assertThat(whole.content()).as("limit %d", limit).startsWith(cut.content());
            assertThat(cut.content()).as("limit %d", limit).doesNotContain("\uFFFD");
            assertThat(cut.outputTokens()).as("limit %d", limit).isLessThanOrEqualTo(limit);
            assertThat(cut.finishReason()).isEqualTo(FinishReason.LENGTH);
        }
    }

    @Test
    void failRateOneAlwaysFailsAndZeroNeverDoes() throws Exception {
        LocalModelProvider failing = new LocalModelProvider(Duration.ZERO, 1.0, new Random(7));
        LocalModelProvider healthy = new LocalModelProvider(Duration.ZERO, 0.0, new Random(7));

        assertThatThrownBy(() -> failing.complete(ask("hi")))
                .isInstanceOf(ModelException.class)
                .satisfies(e -> assertThat(((ModelException) e).code()).isEqualTo(ErrorCode.UPSTREAM_ERROR));
        for (int i = 0; i < 50; i++) {
            assertThat(healthy.complete(ask("hi " + i)).content()).isNotBlank();
        }
    }

    @Test
    void seededFailuresAreReproducible() {
        List<Boolean> first = outcomes(new LocalModelProvider(Duration.ZERO, 0.5, new Random(42)));
        List<Boolean> second = outcomes(new LocalModelProvider(Duration.ZERO, 0.5, new Random(42)));

        assertThat(first).isEqualTo(second).contains(true, false);
    }

    @Test
    void latencyDelaysTheReply() throws Exception {
        LocalModelProvider slow = new LocalModelProvider(Duration.ofMillis(50), 0.0, new Random());

        Completion reply = slow.complete(ask("take your time"));

        assertThat(reply.elapsedMs()).isGreaterThanOrEqualTo(50);
    }

    @Test
    void settingsOutOfRangeAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> new LocalModelProvider(Duration.ZERO, 1.5, new Random()))
                .hasMessageContaining("--local-model-fail-rate");
        assertThatThrownBy(() -> new LocalModelProvider(Duration.ofMillis(-1), 0.0, new Random()))
                .hasMessageContaining("--local-model-latency-ms");
    }

    private static List<Boolean> outcomes(LocalModelProvider model) {
        return java.util.stream.IntStream.range(0, 40).mapToObj(i -> {
            try {
                model.complete(ask("q" + i));
                return true;
            } catch (ModelException e) {
                return false;
            }
        }).toList();
    }
}
