package dev.parley.bench;

import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A {@link ModelProvider} around another that records, for each streamed reply, when the server asked for it and
 * when each of its pieces came out of the model, on this JVM's {@link System#nanoTime()} clock — so a client in the
 * same JVM can tell the model's own time from the server's. Replies are told apart by their question (the last
 * prompt message), which a scenario makes unique. Thread-safe, like the model it wraps.
 */
final class TimedModel implements ModelProvider {

    /** One piece as the model produced it: the reply's length after it, and when it was handed to the server. */
    record Piece(int end, long nanos) {
    }

    /** The timing of one reply. Thread-safe: pieces are recorded on the model's threads, read on the client's. */
    static final class Reply {
        final long askedNanos;
        private final List<Piece> pieces = new ArrayList<>();
        private int length;

        Reply(long askedNanos) {
            this.askedNanos = askedNanos;
        }

        synchronized void produced(String piece, long nanos) {
            length += piece.length();
            pieces.add(new Piece(length, nanos));
        }

        /** The model's own time to its first piece, from the server asking; -1 while there is none. */
        synchronized long firstPieceNanos() {
            return pieces.isEmpty() ? -1 : pieces.get(0).nanos() - askedNanos;
        }

        synchronized List<Piece> pieces() {
            return List.copyOf(pieces);
        }
    }

    private final ModelProvider model;
    private final Map<String, Reply> replies = new ConcurrentHashMap<>();
    private final AtomicInteger asked = new AtomicInteger();

    TimedModel(ModelProvider model) {
        this.model = model;
    }

    /** The timing of the reply to {@code question}, forgotten here; {@code null} when the model never streamed it. */
    Reply take(String question) {
        return replies.remove(question);
    }

    /** Replies this model was asked to stream so far. */
    int asked() {
        return asked.get();
    }

    @Override
    public List<ModelInfo> models() {
        return model.models();
    }

    @Override
    public String defaultModel() {
        return model.defaultModel();
    }

    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        return model.complete(request);
    }

    @Override
    public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
        Reply reply = new Reply(System.nanoTime());
        asked.incrementAndGet();
        List<ContextMessage> prompt = request.messages();
        replies.put(prompt.get(prompt.size() - 1).content(), reply);
        return model.stream(request, piece -> {
            reply.produced(piece, System.nanoTime()); // before the server sees it: the piece exists from here
            pieces.accept(piece);
        });
    }
}
