package dev.parley.protocol;

import java.util.regex.Pattern;

/**
 * The form of a model id (SPEC §5.0 {@code model}, §5.2): 1 to {@link Limits#MAX_MODEL_CHARS} characters of
 * letters, digits and {@code ._:/@+-}, which covers the ids of OpenRouter ({@code openai/gpt-4o-mini}), Ollama
 * ({@code llama3.1:8b}) and the other OpenAI-compatible servers. The server refuses chat requests naming anything
 * else, so a provider must not offer anything else either. Stateless and thread-safe.
 */
public final class ModelIds {
    /** What a valid id looks like, in words, for error messages. */
    public static final String RULE =
            "1 to " + Limits.MAX_MODEL_CHARS + " characters of letters, digits and ._:/@+-";
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9._:/@+\\-]+");

    private ModelIds() {
    }

    /** True when {@code id} is a usable model id; {@code null}, empty and padded ids are not. */
    public static boolean isValid(String id) {
        return id != null && !id.isEmpty() && id.length() <= Limits.MAX_MODEL_CHARS && MODEL.matcher(id).matches();
    }
}
