package dev.parley.client.internal.history;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * Token counts of imported text, from the tokenizer of the model that wrote it: {@code o200k_base} for the models
 * of ChatGPT since GPT-4o, {@code cl100k_base} for GPT-3.5 and GPT-4 and for text without a model. An export
 * states no counts, and a row's statistics need them. Thread-safe.
 */
final class TokenCounter {
    /** Counts nothing: the check pass of an import, which only reads. */
    static final TokenCounter NONE = new TokenCounter(null);

    private final EncodingRegistry registry;

    private TokenCounter(EncodingRegistry registry) {
        this.registry = registry;
    }

    static TokenCounter create() {
        return new TokenCounter(Encodings.newLazyEncodingRegistry());
    }

    long count(String text, String model) {
        if (registry == null || text.isEmpty()) {
            return 0;
        }
        return encodingFor(model).countTokensOrdinary(text);
    }

    private Encoding encodingFor(String model) {
        boolean older = model == null || model.startsWith("gpt-3") || model.equals("gpt-4")
                || model.startsWith("gpt-4-") || model.startsWith("text-");
        return registry.getEncoding(older ? EncodingType.CL100K_BASE : EncodingType.O200K_BASE);
    }
}
