package dev.parley.desktop.models;

import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.ProviderSettings;
import dev.parley.desktop.settings.Settings;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelProviders;
import java.time.Duration;
import dev.parley.protocol.ModelIds;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models the embedded server offers, made from what the user set up: the built-in offline model first (its id
 * {@code parley-local} unchanged, so older conversations keep it), then the local servers that answer on this
 * machine ({@code ollama/…}, {@code lmstudio/…}), then each provider added in Settings ({@code openrouter/…}) with
 * its key from {@link ProviderKeys}. Thread-safe; {@link #build} blocks on the keyring, so call it off the FX
 * thread.
 */
public final class EmbeddedModels {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedModels.class);
    /** The longest a model may stay silent (before its first word, then between two): a local model can be slow. */
    static final Duration MODEL_TIMEOUT = Duration.ofSeconds(120);

    private final ProviderKeys keys;
    private final Duration builtInTokenDelay;

    /** @param builtInTokenDelay the pause between the built-in model's pieces (a slow model, to watch replies grow) */
    public EmbeddedModels(ProviderKeys keys, Duration builtInTokenDelay) {
        this.keys = keys;
        this.builtInTokenDelay = builtInTokenDelay;
    }

    /**
     * The models for {@code settings} and the local servers {@code found} answering. A provider that listed no
     * model yet is left out. The caller owns the result and closes it once the server no longer uses it. Never
     * fails for one provider: a provider whose
     * settings cannot be used (a name taken twice, an address or models that are not usable, a key that cannot be
     * read) is left out, and {@link Built#problems()} says so in words; the built-in model is always there.
     */
    public Built build(Settings settings, List<LocalServers.Found> found) {
        Map<String, ModelProvider> named = new LinkedHashMap<>();
        Set<String> taken = new HashSet<>();
        List<String> problems = new ArrayList<>();
        for (LocalServers.Found server : found) {
            add(named, taken, problems, server.where().name(), server.where().label(), server.where().baseUrl(),
                    server.models(), () -> null);
        }
        for (ProviderSettings p : settings.providers()) {
            add(named, taken, problems, p.name(), p.name(), p.baseUrl(), p.models(),
                    () -> keys.get(p.name()).orElse(null));
        }
        ModelProvider builtIn = ModelProviders.builtIn(builtInTokenDelay);
        try {
            LOG.info("embedded server models: built-in{}{}", named.isEmpty() ? "" : ", ",
                    String.join(", ", named.keySet()));
            return new Built(ModelProviders.combined(builtIn, named), problems);
        } catch (RuntimeException e) {
            named.values().forEach(ModelProvider::close);
            LOG.warn("the embedded server's providers could not be combined; only the built-in model is offered", e);
            problems.add("Only the built-in model is offered: " + e.getMessage());
            return new Built(builtIn, problems);
        }
    }

    /** Adds one provider to {@code named}, or says in {@code problems} why it is left out. */
    private static void add(Map<String, ModelProvider> named, Set<String> taken, List<String> problems, String name,
                            String label, String baseUrl, List<String> models, Supplier<String> key) {
        String lower = name == null ? "" : name.toLowerCase(Locale.ROOT);
        if (!ModelProviders.isProviderName(name) || !taken.add(lower)) {
            problems.add(label + " is left out: its name is not usable or is taken by another provider.");
            return;
        }
        List<String> listable = models.stream().filter(id -> ModelIds.isValid(name + "/" + id)).toList();
        if (listable.isEmpty()) {
            if (!models.isEmpty()) {
                problems.add(label + " is left out: none of its models has an id Parley can list.");
            }
            return;
        }
        try {
            named.put(name, ModelProviders.openAiCompatible(baseUrl, listable, key.get(), MODEL_TIMEOUT));
        } catch (RuntimeException e) {
            LOG.warn("provider {} is left out: {}", name, e.getMessage());
            problems.add(label + " is left out: " + e.getMessage());
        }
    }

    /**
     * A provider for the embedded server, and what was left out of it; {@link #close()} releases the provider and
     * those it is made of.
     */
    public record Built(ModelProvider provider, List<String> problems) implements AutoCloseable {
        public Built {
            problems = List.copyOf(problems);
        }

        /** A provider with nothing left out. */
        public Built(ModelProvider provider) {
            this(provider, List.of());
        }

        @Override
        public void close() {
            provider.close();
        }
    }
}
