package dev.parley.chaos;

import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.internal.model.LocalModelProvider;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The built-in local model with seeded trouble: each call waits a random latency, and a share of calls fail with
 * {@code upstream_error}, {@code upstream_timeout} or {@code rate_limited}. Failures can be switched off for the
 * final drain. Thread-safe.
 */
public final class FlakyModel implements ModelProvider {
    private static final ErrorCode[] FAILURES = {ErrorCode.UPSTREAM_ERROR, ErrorCode.UPSTREAM_TIMEOUT,
            ErrorCode.RATE_LIMITED};

    private final LocalModelProvider model = new LocalModelProvider(Duration.ZERO, 0.0, new SplittableRandom(0));
    private final SplittableRandom random;
    private final FaultLog log;
    private final int maxLatencyMs;
    private volatile double failRate;

    public FlakyModel(long seed, double failRate, int maxLatencyMs, FaultLog log) {
        this.random = new SplittableRandom(seed);
        this.failRate = failRate;
        this.maxLatencyMs = maxLatencyMs;
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

    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        int latency;
        boolean fail;
        ErrorCode code;
        synchronized (random) {
            latency = maxLatencyMs <= 0 ? 0 : random.nextInt(maxLatencyMs);
            fail = random.nextDouble() < failRate;
            code = FAILURES[random.nextInt(FAILURES.length)];
        }
        try {
            Thread.sleep(latency);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelException(ErrorCode.UPSTREAM_TIMEOUT, "the model call was interrupted", null, e);
        }
        if (fail) {
            log.record(FaultLog.MODEL_FAILURE);
            throw new ModelException(code, "the model failed (injected by the chaos run)",
                    code == ErrorCode.RATE_LIMITED ? 1L : null, null);
        }
        return model.complete(request);
    }
}
