package dev.parley.server.internal.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
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
