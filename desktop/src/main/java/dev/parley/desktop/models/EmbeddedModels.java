package dev.parley.desktop.models;

import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.ProviderSettings;
import dev.parley.desktop.settings.Settings;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelProviders;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models the embedded server offers, made from what the user set up: the built-in offline model first (its id
 * {@code parley-local} unchanged, so older conversations keep it), then the local servers that answer on this
 * machine ({@code ollama/…}, {@code lmstudio/…}), then each provider added in Settings ({@code openrouter/…}) with
 * its key from {@link ProviderKeys}. Thread-safe; {@link #build} blocks on the local servers' answers and the
 * keyring, so call it off the FX thread.
 */
public final class EmbeddedModels {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedModels.class);
    /** The longest a model may stay silent (before its first word, then between two): a local model can be slow. */
    static final Duration MODEL_TIMEOUT = Duration.ofSeconds(120);

    private final ProviderKeys keys;
    private final LocalServers localServers;
    private final Duration builtInTokenDelay;

    /** @param builtInTokenDelay the pause between the built-in model's pieces (a slow model, to watch replies grow) */
    public EmbeddedModels(ProviderKeys keys, LocalServers localServers, Duration builtInTokenDelay) {
        this.keys = keys;
        this.localServers = localServers;
        this.builtInTokenDelay = builtInTokenDelay;
    }

    /**
     * The models for {@code settings} with the local servers that answer now. A provider that listed no model yet
     * is left out. The caller owns the result and closes it once the server no longer uses it.
     */
    public Built build(Settings settings) {
        return build(settings, localServers.find());
    }

    /** As {@link #build(Settings)}, with local servers already found. */
    public Built build(Settings settings, List<LocalServers.Found> found) {
        Map<String, ModelProvider> named = new LinkedHashMap<>();
        try {
            for (LocalServers.Found server : found) {
                named.put(server.where().name(), ModelProviders.openAiCompatible(server.where().baseUrl(),
                        server.models(), null, MODEL_TIMEOUT));
            }
            for (ProviderSettings p : settings.providers()) {
                if (!p.models().isEmpty() && !named.containsKey(p.name())) {
                    named.put(p.name(), ModelProviders.openAiCompatible(p.baseUrl(), p.models(),
                            keys.get(p.name()).orElse(null), MODEL_TIMEOUT));
                }
            }
            LOG.info("embedded server models: built-in{}{}", named.isEmpty() ? "" : ", ",
                    String.join(", ", named.keySet()));
            return new Built(ModelProviders.combined(ModelProviders.builtIn(builtInTokenDelay), named));
        } catch (RuntimeException e) {
            named.values().forEach(ModelProvider::close);
            throw e;
        }
    }

    /** A provider for the embedded server; {@link #close()} releases it and the providers it is made of. */
    public record Built(ModelProvider provider) implements AutoCloseable {
        @Override
        public void close() {
            provider.close();
        }
    }
}
