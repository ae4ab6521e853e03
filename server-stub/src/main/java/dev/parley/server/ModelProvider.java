package dev.parley.server;

import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.util.List;

/**
 * A language model the server answers with (SPEC §5.2). Implementations are thread-safe: the server calls
 * {@link #complete} from many request threads at once, never while holding a database transaction.
 */
public interface ModelProvider {

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
}
