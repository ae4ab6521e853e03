package dev.parley.chaos;

import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import dev.parley.server.internal.model.LocalModelProvider;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The built-in local model with seeded trouble. Each call waits a random latency; a streamed reply then comes word
 * by word, a random token delay apart (so that a generation is live long enough for connections to drop, streams
 * to re-attach, stops and server restarts to come in the middle). A share of calls fail with
 * {@code upstream_error}, {@code upstream_timeout} or {@code rate_limited}: half of them before the first word,
 * half after a few words (a model that dies mid-reply). Failures can be switched off for the final drain.
 * Thread-safe.
 */
public final class FlakyModel implements ModelProvider {
    private static final ErrorCode[] FAILURES = {ErrorCode.UPSTREAM_ERROR, ErrorCode.UPSTREAM_TIMEOUT,
            ErrorCode.RATE_LIMITED};
    /** A mid-reply failure comes after at most this many words. */
    private static final int MAX_WORDS_BEFORE_FAILURE = 8;

    private final LocalModelProvider model = new LocalModelProvider(Duration.ZERO, 0.0, new SplittableRandom(0));
    private final SplittableRandom random;
    private final FaultLog log;
    private final int maxLatencyMs;
    private final int minTokenMs;
    private final int maxTokenMs;
    private volatile double failRate;

    /**
     * @param maxLatencyMs the longest wait before a reply (or its first word)
     * @param minTokenMs   the shortest delay between two words of a streamed reply
     * @param maxTokenMs   the longest delay between two words of a streamed reply
     */
    public FlakyModel(long seed, double failRate, int maxLatencyMs, int minTokenMs, int maxTokenMs, FaultLog log) {
        if (minTokenMs < 0 || maxTokenMs < minTokenMs) {
            throw new IllegalArgumentException("token delays must be 0 <= min <= max, not " + minTokenMs + " and "
                    + maxTokenMs);
        }
        this.random = new SplittableRandom(seed);
        this.failRate = failRate;
        this.maxLatencyMs = maxLatencyMs;
        this.minTokenMs = minTokenMs;
        this.maxTokenMs = maxTokenMs;
        this.log = log;
    }

    public void failRate(double failRate) {
        this.failRate = failRate;
    }

    @Override
    public List<ModelInfo> models() {
        return model.models();
    }

    @Override
    public String defaultModel() {
        return model.defaultModel();
    }

    /** What one call will do, drawn under one lock so that a seed gives the same sequence of plans. */
    private record Plan(int latencyMs, int tokenMs, boolean fails, int wordsBeforeFailure, ErrorCode code) {
    }

    private Plan plan() {
        synchronized (random) {
            int latency = maxLatencyMs <= 0 ? 0 : random.nextInt(maxLatencyMs);
            int token = minTokenMs + random.nextInt(maxTokenMs - minTokenMs + 1);
            boolean fails = random.nextDouble() < failRate;
            int words = random.nextBoolean() ? 0 : 1 + random.nextInt(MAX_WORDS_BEFORE_FAILURE);
            return new Plan(latency, token, fails, words, FAILURES[random.nextInt(FAILURES.length)]);
        }
    }

    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        Plan plan = plan();
        try {
            Thread.sleep(plan.latencyMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelException(ErrorCode.UPSTREAM_TIMEOUT, "the model call was interrupted", null, e);
        }
        if (plan.fails()) {
            throw failure(plan);
        }
        return model.complete(request);
    }

    @Override
    public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
        Plan plan = plan();
        LocalModelProvider local = new LocalModelProvider(Duration.ofMillis(plan.latencyMs()),
                Duration.ofMillis(plan.tokenMs()), 0.0, new SplittableRandom(0));
        FlakyStream stream = new FlakyStream(plan, pieces);
        stream.attach(local.stream(request, stream::piece));
        return stream;
    }

    private ModelException failure(Plan plan) {
        log.record(FaultLog.MODEL_FAILURE);
        return new ModelException(plan.code(), "the model failed (injected by the chaos run)",
                plan.code() == ErrorCode.RATE_LIMITED ? 1L : null, null);
    }

    /**
     * The local model's stream with the planned failure: after {@code wordsBeforeFailure} words the next is held
     * back, the local stream is cancelled and the result fails. A stop ({@link #cancel()}) before that ends it as
     * the local stream does: with the words handed over so far.
     */
    private final class FlakyStream implements ModelStream {
        private final Plan plan;
        private final Consumer<String> sink;
        private final CompletableFuture<Completion> result = new CompletableFuture<>();
        // Guarded by this.
        private ModelStream inner;
        private int words;
        private boolean failed;

        FlakyStream(Plan plan, Consumer<String> sink) {
            this.plan = plan;
            this.sink = sink;
        }

        synchronized void attach(ModelStream local) {
            inner = local;
            local.result().whenComplete((completion, failure) -> {
                if (failure != null) {
                    result.completeExceptionally(failure);
                } else {
                    result.complete(completion);
                }
            });
            if (failed) {
                local.cancel(); // the failure came before the local stream was known here
            }
        }

        /** One word from the local model, on its scheduler thread. */
        void piece(String word) {
            boolean failNow;
            ModelStream toCancel = null;
            synchronized (this) {
                if (failed) {
                    return;
                }
                failNow = plan.fails() && words >= plan.wordsBeforeFailure();
                if (failNow) {
                    failed = true;
                    toCancel = inner;
                } else {
                    words++;
                }
            }
            if (!failNow) {
                sink.accept(word);
                return;
            }
            result.completeExceptionally(failure(plan));
            if (toCancel != null) {
                toCancel.cancel();
            }
        }

        @Override
        public CompletableFuture<Completion> result() {
            return result;
        }

        @Override
        public void cancel() {
            ModelStream local;
            synchronized (this) {
                local = inner;
            }
            if (local != null && !result.isDone()) {
                local.cancel();
            }
        }
    }
}
