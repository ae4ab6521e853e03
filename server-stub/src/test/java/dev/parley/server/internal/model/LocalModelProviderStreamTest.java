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
import dev.parley.server.ModelStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class LocalModelProviderStreamTest {
    private static final String QUESTION = "What does the outbox do when the network drops mid-send?";

    private static CompletionRequest ask(String question) {
        return new CompletionRequest("parley-local", List.of(
                new ContextMessage(Role.SYSTEM, "Be brief."), new ContextMessage(Role.USER, question)));
    }

    private static Completion resultOf(ModelStream stream) throws Exception {
        return stream.result().get(30, TimeUnit.SECONDS);
    }

    @Test
    void piecesComeInOrderAndMakeTheReplyOfComplete() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, Duration.ofMillis(1), 0.0, new Random());
        List<String> pieces = new CopyOnWriteArrayList<>();

        Completion streamed = resultOf(model.stream(ask(QUESTION), pieces::add));
        Completion whole = model.complete(ask(QUESTION));

        assertThat(String.join("", pieces)).isEqualTo(whole.content()).isEqualTo(streamed.content());
        assertThat(pieces).hasSizeGreaterThan(10).isEqualTo(LocalModelProvider.pieces(whole.content()));
        assertThat(pieces.subList(0, pieces.size() - 1)).allSatisfy(piece ->
                assertThat(piece).matches("(?s)\\S+\\s+"));
        assertThat(streamed.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(streamed.inputTokens()).isEqualTo(whole.inputTokens()).isEqualTo(
                LocalModelProvider.countTokens("Be brief.") + LocalModelProvider.countTokens(QUESTION));
        assertThat(streamed.outputTokens()).isEqualTo(whole.outputTokens());
        assertThat(streamed.completionId()).startsWith("local-");
    }

    @Test
    void aStreamCutAtMaxTokensEndsWithTheTextOfCompleteAndFinishReasonLength() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, Duration.ofMillis(1), 0.0, new Random());
        CompletionRequest limited = new CompletionRequest("parley-local", ask(QUESTION).messages(), null, 9);
        List<String> pieces = new CopyOnWriteArrayList<>();

        Completion streamed = resultOf(model.stream(limited, pieces::add));
        Completion whole = model.complete(limited);

        assertThat(streamed.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(String.join("", pieces)).isEqualTo(streamed.content()).isEqualTo(whole.content());
        assertThat(streamed.outputTokens()).isEqualTo(whole.outputTokens()).isLessThanOrEqualTo(9);
        assertThat(pieces).hasSizeGreaterThan(1);
    }

    @Test
    void piecesAreWordsWithTheirWhitespaceAndNeverSplitASurrogatePair() {
        assertThat(LocalModelProvider.pieces("a\uD83D\uDE00 b\n\n\uD83D\uDE80c  d"))
                .containsExactly("a\uD83D\uDE00 ", "b\n\n", "\uD83D\uDE80c  ", "d");
        assertThat(LocalModelProvider.pieces("  leading words ")).containsExactly("  leading ", "words ");
        assertThat(LocalModelProvider.pieces("   ")).containsExactly("   ");
        assertThat(LocalModelProvider.pieces("")).isEmpty();
    }

    @Test
    void streamedEmojiArriveWhole() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, 0.0, new Random());
        List<String> pieces = new CopyOnWriteArrayList<>();

        Completion streamed = resultOf(model.stream(ask("\uD83D\uDE00\uD83D\uDE80 rockets \uD83D\uDE80"), pieces::add));

        assertThat(streamed.content()).contains("\uD83D\uDE80 rockets");
        assertThat(pieces).allSatisfy(piece -> {
            assertThat(Character.isLowSurrogate(piece.charAt(0))).as("starts with a low surrogate: %s", piece)
                    .isFalse();
            assertThat(Character.isHighSurrogate(piece.charAt(piece.length() - 1)))
                    .as("ends with a high surrogate: %s", piece).isFalse();
        });
    }

    @Test
    void tokenDelaySeparatesEveryTwoPieces() throws Exception {
        Duration delay = Duration.ofMillis(15);
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, delay, 0.0, new Random());
        List<Long> arrivals = new CopyOnWriteArrayList<>();

        resultOf(model.stream(ask("hi"), piece -> arrivals.add(System.nanoTime())));

        assertThat(arrivals).hasSizeGreaterThan(5);
        for (int i = 1; i < arrivals.size(); i++) {
            assertThat(Duration.ofNanos(arrivals.get(i) - arrivals.get(i - 1))).as("gap before piece %d", i)
                    .isGreaterThanOrEqualTo(delay);
        }
    }

    @Test
    void latencyComesBeforeTheFirstPieceAndStreamReturnsAtOnce() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ofMillis(200), 0.0, new Random());
        List<Long> arrivals = new CopyOnWriteArrayList<>();

        long started = System.nanoTime();
        ModelStream stream = model.stream(ask("hi"), piece -> arrivals.add(System.nanoTime()));
        long returned = System.nanoTime();
        Completion completion = resultOf(stream);

        assertThat(arrivals).isNotEmpty();
        assertThat(arrivals.get(0)).as("the first piece came after the returned call").isGreaterThan(returned);
        assertThat(Duration.ofNanos(arrivals.get(0) - started)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        assertThat(completion.elapsedMs()).isGreaterThanOrEqualTo(200);
    }

    /** 500 replies pacing their words at once run on the provider's few scheduler threads, not one thread each. */
    @Test
    void fiveHundredConcurrentStreamsFinishWithoutAThreadEach() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ofMillis(5), Duration.ofMillis(3), 0.0,
                new Random());
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<List<String>> received = new ArrayList<>();
        List<ModelStream> streams = new ArrayList<>();
        int before = Thread.activeCount();

        for (int i = 0; i < 500; i++) {
            List<String> pieces = new CopyOnWriteArrayList<>();
            received.add(pieces);
            streams.add(model.stream(ask("question number " + i), piece -> {
                threads.add(Thread.currentThread().getName());
                pieces.add(piece);
            }));
        }
        int during = Thread.activeCount();
        for (int i = 0; i < 500; i++) {
            Completion completion = streams.get(i).result().get(60, TimeUnit.SECONDS);
            assertThat(String.join("", received.get(i))).isEqualTo(completion.content())
                    .isEqualTo(LocalModelProvider.reply("question number " + i));
        }

        assertThat(threads).hasSizeLessThanOrEqualTo(LocalModelProvider.SCHEDULER_THREADS)
                .allSatisfy(name -> assertThat(name).startsWith("parley-local-model-"));
        assertThat(during - before).as("threads started for 500 streams")
                .isLessThanOrEqualTo(LocalModelProvider.SCHEDULER_THREADS);
    }

    @Test
    void cancelMidwayStopsWithThePartialTextAndItsTokens() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, Duration.ofMillis(40), 0.0, new Random());
        List<String> pieces = new CopyOnWriteArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        String whole = model.complete(ask(QUESTION)).content();

        ModelStream stream = model.stream(ask(QUESTION), piece -> {
            pieces.add(piece);
            three.countDown();
        });
        assertThat(three.await(10, TimeUnit.SECONDS)).isTrue();
        stream.cancel();
        int atCancel = pieces.size();
        Completion stopped = stream.result().getNow(null);

        assertThat(stopped).as("completed by cancel()").isNotNull();
        assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOPPED);
        assertThat(stopped.content()).isEqualTo(String.join("", pieces)).isNotEmpty();
        assertThat(whole).startsWith(stopped.content()).isNotEqualTo(stopped.content());
        assertThat(stopped.outputTokens()).isEqualTo(LocalModelProvider.countTokens(stopped.content()));
        assertThat(stopped.inputTokens()).isEqualTo(
                LocalModelProvider.countTokens("Be brief.") + LocalModelProvider.countTokens(QUESTION));

        // A later stream of the same pace has gone past several token delays: still no piece after the cancel.
        resultOf(model.stream(ask("later"), piece -> { }));
        assertThat(pieces).hasSize(atCancel);
        stream.cancel(); // idempotent
        assertThat(stream.result().get()).isSameAs(stopped);
    }

    @Test
    void cancelDuringTheLatencyStopsWithNoText() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ofSeconds(30), 0.0, new Random());
        List<String> pieces = new CopyOnWriteArrayList<>();

        ModelStream stream = model.stream(ask("hi"), pieces::add);
        assertThat(stream.result()).as("still waiting the latency").isNotDone();
        stream.cancel();

        Completion stopped = stream.result().getNow(null);
        assertThat(stopped.content()).isEmpty();
        assertThat(stopped.outputTokens()).isZero();
        assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOPPED);
        assertThat(pieces).isEmpty();
    }

    @Test
    void sinkThatCancelsKeepsThePieceItReceived() throws Exception {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, 0.0, new Random());
        List<String> pieces = new CopyOnWriteArrayList<>();
        ModelStream[] self = new ModelStream[1];
        CountDownLatch started = new CountDownLatch(1);

        self[0] = model.stream(ask(QUESTION), piece -> {
            awaitQuietly(started);
            pieces.add(piece);
            if (pieces.size() == 2) {
                self[0].cancel();
            }
        });
        started.countDown();
        Completion stopped = resultOf(self[0]);

        assertThat(pieces).hasSize(2);
        assertThat(stopped.content()).isEqualTo(String.join("", pieces));
        assertThat(stopped.finishReason()).isEqualTo(FinishReason.STOPPED);
    }

    @Test
    void simulatedFailureFailsTheStreamWithoutPieces() {
        LocalModelProvider failing = new LocalModelProvider(Duration.ZERO, Duration.ofMillis(1), 1.0, new Random(3));
        List<String> pieces = new CopyOnWriteArrayList<>();

        ModelStream stream = failing.stream(ask("hi"), pieces::add);

        assertThatThrownBy(() -> stream.result().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ModelException.class)
                .satisfies(e -> assertThat(((ModelException) e).code()).isEqualTo(ErrorCode.UPSTREAM_ERROR));
        assertThat(pieces).isEmpty();
    }

    @Test
    void sinkFailureEndsTheStreamWithIt() {
        LocalModelProvider model = new LocalModelProvider(Duration.ZERO, Duration.ofMillis(1), 0.0, new Random());
        IllegalStateException refused = new IllegalStateException("sink is full");
        List<String> pieces = new CopyOnWriteArrayList<>();

        ModelStream stream = model.stream(ask("hi"), piece -> {
            pieces.add(piece);
            throw refused;
        });

        assertThatThrownBy(() -> stream.result().get(10, TimeUnit.SECONDS)).hasCause(refused);
        assertThat(pieces).hasSize(1);
    }

    @Test
    void negativeTokenDelayIsRefusedNamingTheOption() {
        assertThatThrownBy(() -> new LocalModelProvider(Duration.ZERO, Duration.ofMillis(-1), 0.0, new Random()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--local-model-token-ms");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException(new TimeoutException("the test did not start"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
