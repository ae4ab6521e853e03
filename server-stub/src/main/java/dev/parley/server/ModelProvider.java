package dev.parley.server;

import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A language model the server answers with (SPEC §5.2). Implementations are thread-safe: the server calls
 * {@link #complete} and {@link #stream} from many threads at once, never while holding a database transaction.
 *
 * <p>Ownership: whoever makes a provider closes it, once nothing uses it any more (for a provider a running server
 * was given and then replaced, when {@link ParleyServer#useModels}'s future completes). The server never closes one.
 */
public interface ModelProvider extends AutoCloseable {

    /** The models this provider offers, in display order; never empty. */
    List<ModelInfo> models();

    /** The model used when a request names none; one of {@link #models()}. */
    String defaultModel();

    /**
     * Produces one reply.
     *
     * @throws ModelException when the model fails, times out or refuses; its code says which, and its
     *                        {@link ModelException#retryable() retryable} whether the same request can succeed later
     */
    Completion complete(CompletionRequest request) throws ModelException;

    /**
     * Starts one reply and hands its text to {@code pieces} as it is generated: in order, one call at a time, on a
     * thread of the provider's choosing; pieces never split a surrogate pair. A provider that streams from its
     * upstream returns at once. This default, for providers that only answer whole, calls {@link #complete} on the
     * caller's thread and hands over the reply as one piece; its stream is finished when returned, so there is
     * nothing left to cancel.
     */
    default ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
        CompletableFuture<Completion> result = new CompletableFuture<>();
        try {
            Completion completion = complete(request);
            pieces.accept(completion.content());
            result.complete(completion);
        } catch (ModelException | RuntimeException | Error e) {
            // An Error too: left uncaught it would end the generation's thread and leave the request unanswered.
            result.completeExceptionally(e);
        }
        return new ModelStream() {
            @Override
            public CompletableFuture<Completion> result() {
                return result;
            }

            @Override
            public void cancel() {
            }
        };
    }

    /**
     * Releases what the provider holds, such as an HTTP client's threads and idle connections; do not call it
     * afterwards. Idempotent. This default, for providers that hold nothing, does nothing.
     */
    @Override
    default void close() {
    }
}
