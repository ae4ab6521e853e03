package dev.parley.server.internal.model;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.random.RandomGenerator;

/**
 * The built-in offline model: a deterministic responder with real token counts (cl100k_base), an optional latency
 * and an optional failure rate for demos and fault tests. Thread-safe when the random source is.
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

    private final Duration latency;
    private final double failRate;
    private final RandomGenerator random;

    /**
     * @param latency  added before every reply (zero for none)
     * @param failRate probability in [0, 1] that a call fails with {@code upstream_error}
     * @param random   decides simulated failures
     */
    public LocalModelProvider(Duration latency, double failRate, RandomGenerator random) {
        if (latency.isNegative()) {
            throw new IllegalArgumentException("--local-model-latency-ms must be >= 0, not " + latency.toMillis());
        }
        if (!(failRate >= 0.0 && failRate <= 1.0)) {
            throw new IllegalArgumentException("--local-model-fail-rate must be between 0.0 and 1.0, not " + failRate);
        }
        this.latency = latency;
        this.failRate = failRate;
        this.random = random;
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
        if (failRate > 0 && random.nextDouble() < failRate) {
            throw new ModelException(ErrorCode.UPSTREAM_ERROR, "the local model failed (simulated failure)");
        }
        List<ContextMessage> prompt = request.messages();
        String question = prompt.get(prompt.size() - 1).content();
        String reply = reply(question);
        long inputTokens = 0;
        for (ContextMessage message : prompt) {
            inputTokens += countTokens(message.content());
        }
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;
        return new Completion(reply, inputTokens, countTokens(reply), "local-" + UUID.randomUUID(), elapsedMs);
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
}
