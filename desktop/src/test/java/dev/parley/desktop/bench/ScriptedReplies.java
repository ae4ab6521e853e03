package dev.parley.desktop.bench;

import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import dev.parley.server.internal.model.LocalModelProvider;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A streaming model that answers each call with the next reply scripted for it, one piece every {@code period} on
 * average (at a fixed rate: a late piece is followed by the next at once, so the rate holds). The pieces come on one
 * daemon thread of this model's own and are handed on without waiting. Thread-safe.
 */
final class ScriptedReplies implements ModelProvider, AutoCloseable {

    /**
     * One reply as the model is to stream it.
     *
     * @param pieces           its text, cut into the pieces handed over one by one; never empty
     * @param beforeFirstPiece runs on the model's thread the moment before the first piece is handed over
     */
    record Script(List<String> pieces, Runnable beforeFirstPiece) {
        Script {
            pieces = List.copyOf(pieces);
            if (pieces.isEmpty()) {
                throw new IllegalArgumentException("a scripted reply needs at least one piece");
            }
        }

        String text() {
            return String.join("", pieces);
        }
    }

    private final long periodNanos;
    private final Queue<Script> scripts = new ConcurrentLinkedQueue<>();
    private final ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ui-stream-model");
        t.setDaemon(true);
        return t;
    });

    ScriptedReplies(Duration period) {
        this.periodNanos = period.toNanos();
    }

    /** The reply to the next call the server makes (scripts are used in the order given). */
    void next(Script script) {
        scripts.add(script);
    }

    @Override
    public List<ModelInfo> models() {
        return List.of(new ModelInfo(ModelsResponse.LOCAL_MODEL_ID, "ui-stream (scripted)"));
    }

    @Override
    public String defaultModel() {
        return ModelsResponse.LOCAL_MODEL_ID;
    }

    @Override
    public ModelStream stream(CompletionRequest request, Consumer<String> sink) {
        Script script = scripts.poll();
        Paced paced = new Paced(script, sink, request);
        if (script == null) {
            paced.result.completeExceptionally(new ModelException(ErrorCode.UPSTREAM_ERROR,
                    "the ui-stream model has no reply scripted for this call"));
        } else {
            paced.ticks = pacer.scheduleAtFixedRate(paced::step, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        }
        return paced;
    }

    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        try {
            return stream(request, piece -> { }).result().join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof ModelException model) {
                throw model;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        pacer.shutdownNow();
    }

    /** One reply being streamed; its state is guarded by itself. */
    private static final class Paced implements ModelStream {
        private final Script script;
        private final Consumer<String> sink;
        private final CompletionRequest request;
        private final CompletableFuture<Completion> result = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final long started = System.nanoTime();
        private volatile ScheduledFuture<?> ticks;
        private int next;

        Paced(Script script, Consumer<String> sink, CompletionRequest request) {
            this.script = script;
            this.sink = sink;
            this.request = request;
        }

        synchronized void step() {
            if (result.isDone()) {
                stopTicking(); // ended (stopped) before the ticks were known
                return;
            }
            if (next == 0) {
                script.beforeFirstPiece().run();
            }
            String piece = script.pieces().get(next++);
            text.append(piece);
            sink.accept(piece);
            if (next == script.pieces().size()) {
                end(FinishReason.STOP);
            }
        }

        private void stopTicking() {
            ScheduledFuture<?> scheduled = ticks;
            if (scheduled != null) {
                scheduled.cancel(false);
            }
        }

        @Override
        public CompletableFuture<Completion> result() {
            return result;
        }

        @Override
        public synchronized void cancel() {
            if (!result.isDone()) {
                end(FinishReason.STOPPED);
            }
        }

        /** Completes with the text so far; the caller holds the lock. */
        private void end(FinishReason reason) {
            stopTicking();
            long inputTokens = request.messages().stream()
                    .mapToLong(m -> LocalModelProvider.countTokens(m.content())).sum();
            String reply = text.toString();
            result.complete(new Completion(reply, inputTokens, LocalModelProvider.countTokens(reply),
                    "ui-stream-" + UUID.randomUUID(), (System.nanoTime() - started) / 1_000_000, reason));
        }
    }
}
