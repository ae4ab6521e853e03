package dev.parley.server.testing;

import dev.parley.protocol.FinishReason;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A streaming model the test drives piece by piece: each reply it is asked for becomes a {@link Reply} the test
 * takes with {@link #awaitReply()}, then feeds ({@link Reply#emit}), ends ({@link Reply#finish}) or fails. A
 * cancelled reply ends as the real providers do: with its text so far and {@link FinishReason#STOPPED}.
 */
public final class PacedModel implements ModelProvider {
    private final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    private final AtomicInteger calls = new AtomicInteger();

    /** One reply being generated. Thread-safe. */
    public static final class Reply {
        private final Consumer<String> pieces;
        private final StringBuilder text = new StringBuilder();
        private final CompletableFuture<Completion> result = new CompletableFuture<>();
        private final CountDownLatch cancelled = new CountDownLatch(1);
        public final CompletionRequest request;

        private Reply(CompletionRequest request, Consumer<String> pieces) {
            this.request = request;
            this.pieces = pieces;
        }

        public synchronized Reply emit(String piece) {
            if (!result.isDone()) {
                text.append(piece);
                pieces.accept(piece);
            }
            return this;
        }

        /** The model finishes the reply by itself; its output tokens are one per character, to be exact. */
        public synchronized void finish() {
            finish(FinishReason.STOP);
        }

        /** The model ends the reply for {@code reason} (e.g. {@link FinishReason#LENGTH}: the token limit). */
        public synchronized void finish(FinishReason reason) {
            result.complete(new Completion(text.toString(), 7, text.length(), "paced", 3, reason));
        }

        public void fail(ModelException failure) {
            result.completeExceptionally(failure);
        }

        /** True once the server cancelled this reply (a stop), waiting up to {@code seconds}. */
        public boolean awaitCancelled(long seconds) throws InterruptedException {
            return cancelled.await(seconds, TimeUnit.SECONDS);
        }

        public boolean wasCancelled() {
            return cancelled.getCount() == 0;
        }

        private synchronized void cancel() {
            cancelled.countDown();
            result.complete(new Completion(text.toString(), 7, text.length(), "paced", 3, FinishReason.STOPPED));
        }
    }

    /** Model calls so far. */
    public int calls() {
        return calls.get();
    }

    /** The next reply the server asked for, waiting up to 10 s. */
    public Reply awaitReply() throws InterruptedException {
        Reply reply = replies.poll(10, TimeUnit.SECONDS);
        if (reply == null) {
            throw new AssertionError("the model was not called");
        }
        return reply;
    }

    /** True when no reply was asked for and none is asked for within {@code millis}. */
    public boolean noReplyWithin(long millis) throws InterruptedException {
        return replies.poll(millis, TimeUnit.MILLISECONDS) == null;
    }

    @Override
    public List<ModelInfo> models() {
        return List.of(new ModelInfo(ModelsResponse.LOCAL_MODEL_ID, "paced"));
    }

    @Override
    public String defaultModel() {
        return ModelsResponse.LOCAL_MODEL_ID;
    }

    @Override
    public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
        calls.incrementAndGet();
        Reply reply = new Reply(request, pieces);
        replies.add(reply);
        return new ModelStream() {
            @Override
            public CompletableFuture<Completion> result() {
                return reply.result;
            }

            @Override
            public void cancel() {
                reply.cancel();
            }
        };
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
}
