package dev.parley.server.internal.model;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingResult;
import com.knuddels.jtokkit.api.EncodingType;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * The built-in offline model: a deterministic responder with real token counts (cl100k_base), an optional latency
 * and an optional failure rate for demos and fault tests. Thread-safe when the random source is.
 *
 * <p>{@link #stream} hands the reply over word by word (a word with the whitespace after it), the first piece after
 * the latency and each next one {@code tokenDelay} later. Every stream of every instance runs on one shared pool of
 * {@value #SCHEDULER_THREADS} daemon threads that only schedules pieces, so thousands of replies streaming at once
 * hold no thread each; a piece sink must therefore hand the piece on quickly and never block. {@link #complete}
 * waits the latency on the caller's thread and answers the same text whole, without the token delay.
 *
 * <p>A request's {@link CompletionRequest#maxTokens() maxTokens} is honoured as a real model does: a reply longer
 * than that many tokens (cl100k_base) is cut there and ends with {@link FinishReason#LENGTH}. Its temperature changes
 * nothing: the replies are deterministic.
 */
public final class LocalModelProvider implements ModelProvider {
    private static final Encoding CL100K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
    private static final List<String> NOTES = List.of(
            "Everything you write here is kept on your machine first and synced when you sign in.",
            "Try **Shift+Enter** for a new line and **Enter** to send.",
            "Sign in to keep this conversation on every device.",
            "A failed message can be sent again with *Try again*; it is never counted twice.",
            "Point Parley at an OpenAI-compatible server for real answers.",
            "Conversations can be exported as Markdown or JSON.");

    static final int SCHEDULER_THREADS = 2;
    /** Paces the pieces of every local stream; its threads only run the short steps of {@link LocalStream}. */
    private static final ScheduledThreadPoolExecutor SCHEDULER = scheduler();

    private final Duration latency;
    private final Duration tokenDelay;
    private final double failRate;
    private final RandomGenerator random;

    /**
     * A provider whose streams hand over all pieces at once, after the latency.
     *
     * @see #LocalModelProvider(Duration, Duration, double, RandomGenerator)
     */
    public LocalModelProvider(Duration latency, double failRate, RandomGenerator random) {
        this(latency, Duration.ZERO, failRate, random);
    }

    /**
     * @param latency    added before every reply, and before the first piece of a stream (zero for none)
     * @param tokenDelay between two pieces of a stream ({@code --local-model-token-ms}); zero hands them over at once
     * @param failRate   probability in [0, 1] that a call fails with {@code upstream_error}
     * @param random     decides simulated failures; drawn on the calling thread of {@link #complete} and
     *                   {@link #stream}
     * @throws IllegalArgumentException when a setting is out of range; the message names its option
     */
    public LocalModelProvider(Duration latency, Duration tokenDelay, double failRate, RandomGenerator random) {
        if (latency.isNegative()) {
            throw new IllegalArgumentException("--local-model-latency-ms must be >= 0, not " + latency.toMillis());
        }
        if (tokenDelay.isNegative()) {
            throw new IllegalArgumentException("--local-model-token-ms must be >= 0, not " + tokenDelay.toMillis());
        }
        if (!(failRate >= 0.0 && failRate <= 1.0)) {
            throw new IllegalArgumentException("--local-model-fail-rate must be between 0.0 and 1.0, not " + failRate);
        }
        this.latency = latency;
        this.tokenDelay = tokenDelay;
        this.failRate = failRate;
        this.random = Objects.requireNonNull(random, "random");
    }

    @Override
    public List<ModelInfo> models() {
        return List.of(new ModelInfo(ModelsResponse.LOCAL_MODEL_ID, "Parley local (offline)"));
    }

    @Override
    public String defaultModel() {
        return ModelsResponse.LOCAL_MODEL_ID;
    }

    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        long started = System.nanoTime();
        if (!latency.isZero()) {
            try {
                Thread.sleep(latency.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ModelException(ErrorCode.UPSTREAM_TIMEOUT, "the local model was interrupted", null, e);
            }
        }
        if (failsThisTime()) {
            throw simulatedFailure();
        }
        Reply reply = replyTo(request);
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;
        return new Completion(reply.text(), inputTokens(request), countTokens(reply.text()),
                "local-" + UUID.randomUUID(), elapsedMs, reply.end());
    }

    /**
     * {@inheritDoc}
     *
     * <p>Returns at once. The pieces, and the completion of {@link ModelStream#result()}, come on the provider's
     * shared scheduler threads; their concatenation is the reply {@link #complete} gives for the same prompt.
     * {@link ModelStream#cancel()} waits for a piece being handed over, then no other follows.
     */
    @Override
    public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
        Objects.requireNonNull(pieces, "pieces");
        Reply reply = replyTo(request);
        LocalStream stream = new LocalStream(pieces(reply.text()), reply.end(), pieces, inputTokens(request),
                failsThisTime());
        stream.start();
        return stream;
    }

    /**
     * {@code text} cut into words, each with the whitespace that follows it (whitespace before the first word goes
     * with it). Cuts fall between code points, so a surrogate pair is never split; the pieces concatenated are
     * {@code text}.
     */
    static List<String> pieces(String text) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        int i = skipWhitespace(text, 0);
        while (i < text.length()) {
            while (i < text.length() && !Character.isWhitespace(text.codePointAt(i))) {
                i += Character.charCount(text.codePointAt(i));
            }
            i = skipWhitespace(text, i);
            pieces.add(text.substring(start, i));
            start = i;
        }
        if (start < text.length()) {
            pieces.add(text.substring(start)); // text that is all whitespace
        }
        return pieces;
    }

    private static int skipWhitespace(String text, int from) {
        int i = from;
        while (i < text.length() && Character.isWhitespace(text.codePointAt(i))) {
            i += Character.charCount(text.codePointAt(i));
        }
        return i;
    }

    private boolean failsThisTime() {
        return failRate > 0 && random.nextDouble() < failRate;
    }

    private static ModelException simulatedFailure() {
        return new ModelException(ErrorCode.UPSTREAM_ERROR, "the local model failed (simulated failure)");
    }

    /** A reply's text and why it ends there: complete, or cut off at the request's token limit. */
    private record Reply(String text, FinishReason end) {
    }

    /** The reply to {@code request}: the whole answer, or its first {@code maxTokens} tokens when it has more. */
    private static Reply replyTo(CompletionRequest request) {
        String whole = reply(question(request));
        Integer maxTokens = request.maxTokens();
        if (maxTokens == null) {
            return new Reply(whole, FinishReason.STOP);
        }
        EncodingResult head = CL100K.encodeOrdinary(whole, maxTokens);
        if (!head.isTruncated()) {
            return new Reply(whole, FinishReason.STOP);
        }
        String cut = CL100K.decode(head.getTokens());
        // A token may end inside a character (an emoji is several): the cut then ends before that character.
        while (!cut.isEmpty() && (!whole.startsWith(cut) || countTokens(cut) > maxTokens)) {
            cut = cut.substring(0, cut.offsetByCodePoints(cut.length(), -1));
        }
        return new Reply(cut, FinishReason.LENGTH);
    }

    private static String question(CompletionRequest request) {
        List<ContextMessage> prompt = request.messages();
        return prompt.get(prompt.size() - 1).content();
    }

    private static long inputTokens(CompletionRequest request) {
        long tokens = 0;
        for (ContextMessage message : request.messages()) {
            tokens += countTokens(message.content());
        }
        return tokens;
    }

    /** Tokens of {@code text} in cl100k_base. */
    public static int countTokens(String text) {
        return CL100K.countTokensOrdinary(text);
    }

    static String reply(String question) {
        String trimmed = question.strip();
        String quoted = trimmed.codePointCount(0, trimmed.length()) > 200
                ? trimmed.substring(0, trimmed.offsetByCodePoints(0, 200)) + "…" : trimmed;
        int words = trimmed.isEmpty() ? 0 : trimmed.split("\\s+").length;
        String note = NOTES.get(Math.floorMod(trimmed.hashCode(), NOTES.size()));
        return "I'm Parley's built-in offline model, so I can't think, but I read you:\n\n> "
                + quoted.replace("\n", "\n> ")
                + "\n\nThat is " + words + (words == 1 ? " word" : " words") + " and "
                + countTokens(trimmed) + " tokens. " + note;
    }

    private static ScheduledThreadPoolExecutor scheduler() {
        AtomicInteger count = new AtomicInteger();
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(SCHEDULER_THREADS, task -> {
            Thread thread = new Thread(task, "parley-local-model-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        scheduler.setRemoveOnCancelPolicy(true); // a stopped reply leaves no task behind
        return scheduler;
    }

    /**
     * One local reply being streamed. Each step (the first piece after the latency, each next one after the token
     * delay) is a task on {@link #SCHEDULER} that schedules the next, so a stream's pieces come one at a time and
     * in order, whichever scheduler thread runs them. The lock on this object makes handing over a piece and
     * {@link #cancel()} exclusive: the text of a stopped reply is exactly what the sink received.
     */
    private final class LocalStream implements ModelStream {
        private final List<String> pieces;
        /** Why the reply ends after its last piece: {@code stop}, or {@code length} when it was cut off. */
        private final FinishReason end;
        private final Consumer<String> sink;
        private final long inputTokens;
        private final boolean fails;
        private final long startedNanos = System.nanoTime();
        private final String completionId = "local-" + UUID.randomUUID();
        private final CompletableFuture<Completion> result = new CompletableFuture<>();
        // Guarded by this.
        private final StringBuilder sent = new StringBuilder();
        private int next;
        private boolean ended;
        private ScheduledFuture<?> step;

        LocalStream(List<String> pieces, FinishReason end, Consumer<String> sink, long inputTokens, boolean fails) {
            this.pieces = pieces;
            this.end = end;
            this.sink = sink;
            this.inputTokens = inputTokens;
            this.fails = fails;
        }

        @Override
        public CompletableFuture<Completion> result() {
            return result;
        }

        synchronized void start() {
            // Held while scheduling, so that a step that runs at once sees the field set.
            step = SCHEDULER.schedule(this::firstStep, latency.toNanos(), TimeUnit.NANOSECONDS);
        }

        private void firstStep() {
            synchronized (this) {
                if (ended) {
                    return;
                }
                if (fails) {
                    ended = true;
                }
            }
            if (fails) {
                result.completeExceptionally(simulatedFailure());
            } else {
                nextSteps();
            }
        }

        /** Hands over the next piece (all of them, without a token delay) and schedules the one after. */
        private void nextSteps() {
            Object outcome;
            synchronized (this) {
                try {
                    outcome = handOver();
                } catch (RuntimeException e) {
                    // A scheduled task's exception would vanish into its future and leave the result open forever.
                    ended = true;
                    outcome = e;
                }
            }
            // Completed outside the lock: whatever runs on completion must not hold up cancel() or other steps.
            if (outcome instanceof Completion completion) {
                result.complete(completion);
            } else if (outcome instanceof RuntimeException failure) {
                result.completeExceptionally(failure);
            }
        }

        /** Under the lock: a {@link Completion} or a sink's exception when the stream ends, else {@code null}. */
        private Object handOver() {
            while (!ended) {
                if (next == pieces.size()) {
                    return finish(end);
                }
                String piece = pieces.get(next++);
                sent.append(piece); // before the sink sees it: a sink that cancels keeps the piece in the text
                try {
                    sink.accept(piece);
                } catch (RuntimeException e) {
                    if (ended) {
                        return null;
                    }
                    ended = true;
                    return e;
                }
                if (ended) {
                    return null; // the sink cancelled the stream
                }
                if (next == pieces.size()) {
                    return finish(end);
                }
                if (!tokenDelay.isZero()) {
                    step = SCHEDULER.schedule(this::nextSteps, tokenDelay.toNanos(), TimeUnit.NANOSECONDS);
                    return null;
                }
            }
            return null;
        }

        private Completion finish(FinishReason reason) {
            ended = true;
            String text = sent.toString();
            long elapsedMs = (System.nanoTime() - startedNanos) / 1_000_000;
            return new Completion(text, inputTokens, countTokens(text), completionId, elapsedMs, reason);
        }

        @Override
        public void cancel() {
            Completion stopped;
            synchronized (this) {
                if (ended) {
                    return;
                }
                step.cancel(false);
                stopped = finish(FinishReason.STOPPED);
            }
            result.complete(stopped);
        }
    }
}
