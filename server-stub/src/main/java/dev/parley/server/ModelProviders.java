package dev.parley.server;

import dev.parley.server.internal.model.CombinedModelProvider;
import dev.parley.server.internal.model.LocalModelProvider;
import dev.parley.server.internal.model.OpenAiCompatibleProvider;
import dev.parley.server.internal.model.UpstreamCheck;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * The model providers an application that embeds the server makes from its user's settings (SPEC §5.2, §7): the
 * built-in offline model, any OpenAI-compatible server, several of them as one, and the check of a server the user
 * is setting up. Hand the result to {@link ServerConfig.Builder#modelProvider} at start, or to
 * {@link ParleyServer#useModels} while the server runs.
 *
 * <p>Every method may be called from any thread. Ownership: the caller owns every provider made here and closes it
 * ({@link ModelProvider#close()}) when nothing uses it any more; for one a running server was given and then
 * replaced, that is when {@link ParleyServer#useModels}'s future completes. A {@link #combined} provider owns its
 * members: closing it closes them. Nothing here ever logs or returns an API key.
 */
public final class ModelProviders {
    private ModelProviders() {
    }

    /**
     * The built-in offline model, {@code parley-local}: deterministic replies with real token counts, streamed word by
     * word. Holds no resource of its own; closing it does nothing.
     *
     * @param tokenDelay the pause between two words of a streamed reply; {@link Duration#ZERO} sends them at once
     * @throws IllegalArgumentException when {@code tokenDelay} is negative
     */
    public static ModelProvider builtIn(Duration tokenDelay) {
        Objects.requireNonNull(tokenDelay, "tokenDelay");
        return new LocalModelProvider(Duration.ZERO, tokenDelay, 0.0, new Random());
    }

    /**
     * An OpenAI-compatible server ({@code POST {baseUrl}/chat/completions}) whose models are known already, such as
     * the ones a {@link #check} listed; makes no network call now. It has an HTTP client of its own, which
     * {@link ModelProvider#close()} releases.
     *
     * @param baseUrl  the API root, e.g. {@code http://127.0.0.1:11434/v1}
     * @param modelIds the models to offer, in display order, the first the default; never empty
     * @param apiKey   the bearer key, or {@code null} or blank for a server that needs none
     * @param timeout  the longest wait for the start of an answer, and then for each next piece of it
     * @throws IllegalArgumentException when a setting is unusable; the message names it
     */
    public static ModelProvider openAiCompatible(String baseUrl, List<String> modelIds, String apiKey,
                                                 Duration timeout) {
        return OpenAiCompatibleProvider.fromSettings(baseUrl, modelIds, apiKey, timeout);
    }

    /**
     * Asks the OpenAI-compatible server at {@code baseUrl} for its model list ({@code GET {baseUrl}/models}) once,
     * to tell a user whether it can be used: it answers, takes the key, lists models. Blocks the calling thread for
     * at most {@code timeout}, so call it off a UI thread. Never throws for the server's trouble, nor for an address
     * or key that cannot be used: the {@link ConnectionCheck} says what was found, in words the user can act on.
     *
     * @param apiKey the key to try, or {@code null} or blank for none
     * @throws IllegalArgumentException when {@code timeout} is not more than 0 and at most an hour
     */
    public static ConnectionCheck check(String baseUrl, String apiKey, Duration timeout) {
        return UpstreamCheck.run(baseUrl, apiKey, timeout);
    }

    /**
     * Whether {@code name} can name a provider of {@link #combined}: 1 to 40 letters, digits, {@code -} or
     * {@code _}, as it becomes part of model ids ({@code ollama/llama3.1:8b}).
     */
    public static boolean isProviderName(String name) {
        return OpenAiCompatibleProvider.isProviderName(name);
    }

    /**
     * The built-in model and named providers offered as one. The built-in model is listed first under its own id
     * ({@code parley-local}), so conversations it answered keep a model that exists; then each named provider's
     * models as {@code NAME/MODEL} ({@code ollama/llama3.1:8b}), in the map's order (a
     * {@link java.util.LinkedHashMap} keeps a chosen one). The default model is the built-in one's. A request goes to the provider its model id names,
     * and the upstream sees its own id, without the prefix.
     *
     * <p>Takes ownership of every member: closing the combined provider closes each of them once, so do not close
     * them yourself, nor put one into two combined providers that live at once. When this throws, they stay yours.
     *
     * @param named provider names (1 to 40 letters, digits, {@code -} or {@code _}, distinct whatever their case) to
     *              providers; may be empty
     * @throws IllegalArgumentException when a name is unusable or two differ only in case
     */
    public static ModelProvider combined(ModelProvider builtIn, Map<String, ModelProvider> named) {
        Objects.requireNonNull(builtIn, "builtIn");
        Objects.requireNonNull(named, "named");
        Map<String, String> lowerCase = new HashMap<>();
        for (String name : named.keySet()) {
            if (!OpenAiCompatibleProvider.isProviderName(name)) {
                throw new IllegalArgumentException("'" + name + "' cannot name a provider: a name is 1 to 40 letters,"
                        + " digits, - or _, as it becomes part of model ids such as ollama/llama3.1:8b");
            }
            String before = lowerCase.putIfAbsent(name.toLowerCase(Locale.ROOT), name);
            if (before != null) {
                throw new IllegalArgumentException("the provider names '" + before + "' and '" + name + "' differ"
                        + " only in case; give each provider a name of its own");
            }
        }
        CombinedModelProvider.Builder builder = CombinedModelProvider.builder().addUnprefixed(builtIn)
                .closingMembers();
        named.forEach(builder::add);
        return builder.build();
    }
}
