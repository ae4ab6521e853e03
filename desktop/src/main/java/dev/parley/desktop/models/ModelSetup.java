package dev.parley.desktop.models;

import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.ProviderSettings;
import dev.parley.desktop.settings.Settings;
import dev.parley.server.ConnectionCheck;
import dev.parley.server.ModelProviders;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What Settings can do about models. With the embedded server: find the local servers, test a provider, keep its
 * key, and give the server a new set of models without a restart. With a remote server, none of that: its models
 * are the server's. Thread-safe; every method but {@link #embedded()} and {@link #keysLocation()} blocks on the
 * network or the keyring, so call them off the FX thread.
 */
public final class ModelSetup {
    /** How long "Test connection" waits for a provider's model list. */
    static final Duration CHECK_WITHIN = Duration.ofSeconds(15);

    private final ProviderKeys keys;
    private final LocalServers localServers;
    private final EmbeddedModels models;
    private final Consumer<EmbeddedModels.Built> use;
    /** What the embedded server was last given; guarded by this. */
    private InUse inUse;
    private List<String> startProblems = List.of();

    /** The part of the settings the embedded server's models are made of, with the local servers found. */
    private record InUse(List<ProviderSettings> providers, List<LocalServers.Found> found) {
    }

    private ModelSetup(ProviderKeys keys, LocalServers localServers, EmbeddedModels models,
                       Consumer<EmbeddedModels.Built> use) {
        this.keys = keys;
        this.localServers = localServers;
        this.models = models;
        this.use = use;
    }

    /** The embedded server's setup: {@code use} hands the server a new set of models, which it then owns. */
    public static ModelSetup embedded(ProviderKeys keys, LocalServers localServers, EmbeddedModels models,
                                      Consumer<EmbeddedModels.Built> use) {
        return new ModelSetup(Objects.requireNonNull(keys), Objects.requireNonNull(localServers),
                Objects.requireNonNull(models), Objects.requireNonNull(use));
    }

    /** A remote server's: nothing to set up here. */
    public static ModelSetup remote() {
        return new ModelSetup(null, null, null, null);
    }

    /** Whether the models are this app's to set up (the embedded server) rather than a remote server's. */
    public boolean embedded() {
        return models != null;
    }

    /** Where API keys are kept, in words; empty for a remote server. */
    public String keysLocation() {
        return embedded() ? keys.where() : "";
    }

    /** The names a provider cannot take: those the local servers' models are listed under. */
    public List<String> reservedNames() {
        return embedded() ? localServers.names() : List.of();
    }

    /** The local servers answering now, with their models; none for a remote server. */
    public List<LocalServers.Found> findLocalServers() {
        return embedded() ? localServers.find() : List.of();
    }

    /** Asks {@code baseUrl} for its models with {@code apiKey} (may be blank); never throws for upstream trouble. */
    public ConnectionCheck check(String baseUrl, String apiKey) {
        return ModelProviders.check(baseUrl, apiKey == null || apiKey.isBlank() ? null : apiKey.strip(),
                CHECK_WITHIN);
    }

    /** Keeps and forgets API keys as Settings saves: {@code added} name → key, then {@code removed} names. */
    public void saveKeys(Map<String, String> added, Collection<String> removed) {
        requireEmbedded();
        removed.forEach(keys::remove);
        added.forEach(keys::put);
    }

    /**
     * Records that the embedded server was started with the models of {@code settings} and {@code found}, with
     * {@code problems} (what had to be left out, in words) for the window to show.
     */
    public synchronized void started(Settings settings, List<LocalServers.Found> found, List<String> problems) {
        inUse = new InUse(settings.providers(), List.copyOf(found));
        startProblems = List.copyOf(problems);
    }

    /** What start-up had to leave out of the embedded server's models, in words; empty when nothing. */
    public synchronized List<String> startProblems() {
        return startProblems;
    }

    /**
     * Gives the embedded server the models of {@code settings} and of {@code found}, without a restart; nothing
     * when they are what it has and no key changed. Returns what had to be left out, in words (empty: nothing).
     */
    public synchronized List<String> apply(Settings settings, List<LocalServers.Found> found, boolean keysChanged) {
        requireEmbedded();
        InUse next = new InUse(settings.providers(), List.copyOf(found));
        if (!keysChanged && next.equals(inUse)) {
            return List.of();
        }
        EmbeddedModels.Built built = models.build(settings, found);
        use.accept(built);
        inUse = next;
        return built.problems();
    }

    private void requireEmbedded() {
        if (!embedded()) {
            throw new IllegalStateException("a remote server's models are set up on that server");
        }
    }
}
