package dev.parley.client.testing;

import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.internal.model.LocalModelProvider;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local model under two names ({@value ModelsResponse#LOCAL_MODEL_ID} and {@value #OTHER_MODEL}), keeping every
 * request it is given and failing the next calls when told to. Each reply took {@value #ELAPSED_MS} ms, so that
 * generation time adds up to something. Thread-safe.
 */
public final class RecordingModel implements ModelProvider {
    public static final String OTHER_MODEL = "parley-local-other";
    public static final long ELAPSED_MS = 40;

    private final LocalModelProvider local = new LocalModelProvider(Duration.ZERO, 0.0, new Random(1));
    private final List<CompletionRequest> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger failures = new AtomicInteger();

    /** The requests the model was given, oldest first. */
    public List<CompletionRequest> requests() {
        return List.copyOf(requests);
    }

    /** The newest request; fails the test when there is none. */
    public CompletionRequest lastRequest() {
        if (requests.isEmpty()) {
            throw new AssertionError("the model was never called");
        }
        return requests.get(requests.size() - 1);
    }

    /** The next {@code calls} calls fail as an upstream error (retryable). */
    public void failNext(int calls) {
        failures.set(calls);
    }

    @Override
    public List<ModelInfo> models() {
        return List.of(new ModelInfo(ModelsResponse.LOCAL_MODEL_ID, "Parley local"),
                new ModelInfo(OTHER_MODEL, "Parley local, other name"));
    }

    @Override
    public String defaultModel() {
        return ModelsResponse.LOCAL_MODEL_ID;
    }

    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        requests.add(request);
        if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new ModelException(ErrorCode.UPSTREAM_ERROR, "the model failed (the test asked it to)", true, null,
                    null);
        }
        Completion reply = local.complete(request);
        return new Completion(reply.content(), reply.inputTokens(), reply.outputTokens(), reply.completionId(),
                ELAPSED_MS, reply.finishReason());
    }
}
