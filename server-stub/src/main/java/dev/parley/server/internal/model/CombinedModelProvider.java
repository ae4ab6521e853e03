package dev.parley.server.internal.model;

import dev.parley.protocol.ModelIds;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several model providers offered as one (SPEC §5.2): each model is listed under its provider's name,
 * {@code NAME/MODEL} ({@code ollama/llama3.1:8b}, {@code openrouter/openai/gpt-4o-mini}), in the order the providers
 * were added and, within one, in its own order; the default is the first provider's default. A request is routed by
 * the part of its model id before the first {@code /} and reaches that provider with the rest, so the upstream sees
 * its own model id.
 *
 * <p>Immutable once built and thread-safe when its providers are; calls run on the caller's thread and the chosen
 * provider's. It owns none of its providers: whoever made them closes them.
 */
public final class CombinedModelProvider implements ModelProvider {
    private static final Logger LOG = LoggerFactory.getLogger(CombinedModelProvider.class);

    private final Map<String, ModelProvider> providers;
    private final List<ModelInfo> models;
    private final Set<String> offeredIds;
    private final String defaultModel;

    private CombinedModelProvider(Map<String, ModelProvider> providers, List<ModelInfo> models, String defaultModel) {
        this.providers = providers;
        this.models = models;
        this.offeredIds = models.stream().map(ModelInfo::id).collect(Collectors.toUnmodifiableSet());
        this.defaultModel = defaultModel;
    }

    /** A builder with no provider yet; not thread-safe. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public List<ModelInfo> models() {
        return models;
    }

    @Override
    public String defaultModel() {
        return defaultModel;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException when {@code request} names no model of {@link #models()}
     */
    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        Route route = route(request);
        return route.provider().complete(route.request());
    }

    /**
     * {@inheritDoc} Delegates to the provider the model belongs to, so it returns at once when that one does.
     *
     * @throws IllegalArgumentException when {@code request} names no model of {@link #models()}
     */
    @Override
    public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
        Route route = route(request);
        return route.provider().stream(route.request(), pieces);
    }

    private Route route(CompletionRequest request) {
        Objects.requireNonNull(request, "request");
        String model = request.model();
        int slash = model == null ? -1 : model.indexOf('/');
        ModelProvider provider = slash < 0 ? null : providers.get(model.substring(0, slash));
        if (provider == null || !offeredIds.contains(model)) {
            throw new IllegalArgumentException("unknown model '" + model + "' (offered: "
                    + String.join(", ", models.stream().map(ModelInfo::id).toList()) + ")");
        }
        return new Route(provider, new CompletionRequest(model.substring(slash + 1), request.messages()));
    }

    private record Route(ModelProvider provider, CompletionRequest request) {
    }

    /** Collects named providers in display order, refusing a bad or repeated name at once. Not thread-safe. */
    public static final class Builder {
        private final Map<String, ModelProvider> providers = new LinkedHashMap<>();
        private final Map<String, String> lowerCaseNames = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Adds {@code provider}, its models to be listed as {@code name/MODEL}.
         *
         * @param name 1 to 40 letters, digits, {@code -} or {@code _}; not one added before, whatever its case
         * @throws IllegalArgumentException naming {@code --provider} when the name is unusable or repeated
         */
        public Builder add(String name, ModelProvider provider) {
            OpenAiCompatibleProvider.checkProviderName(name);
            Objects.requireNonNull(provider, "provider");
            String before = lowerCaseNames.putIfAbsent(name.toLowerCase(Locale.ROOT), name);
            if (before != null) {
                throw new IllegalArgumentException("--provider names " + (before.equals(name)
                        ? "'" + name + "' twice" : "'" + before + "' and '" + name + "', which differ only in case")
                        + "; each provider needs a name of its own");
            }
            providers.put(name, provider);
            return this;
        }

        /**
         * The combined provider. A model whose prefixed id is no longer a model id (over
         * {@value dev.parley.protocol.Limits#MAX_MODEL_CHARS} characters) is left out with a warning.
         *
         * @throws IllegalArgumentException when no provider was added, or one is left with no model
         */
        public CombinedModelProvider build() {
            if (providers.isEmpty()) {
                throw new IllegalArgumentException("--provider: at least one provider is needed");
            }
            List<ModelInfo> models = new ArrayList<>();
            for (Map.Entry<String, ModelProvider> entry : providers.entrySet()) {
                String name = entry.getKey();
                int before = models.size();
                for (ModelInfo info : entry.getValue().models()) {
                    String id = name + "/" + info.id();
                    if (ModelIds.isValid(id)) {
                        models.add(new ModelInfo(id, info.name().equals(info.id()) ? id
                                : info.name() + " (" + name + ")"));
                    } else {
                        LOG.warn("provider {}: model '{}' is left out: as '{}' it would not be a model id ({})", name,
                                info.id(), id, ModelIds.RULE);
                    }
                }
                if (models.size() == before) {
                    throw new IllegalArgumentException("--provider " + name + " offers no model Parley can list as "
                            + name + "/MODEL");
                }
            }
            Map.Entry<String, ModelProvider> first = providers.entrySet().iterator().next();
            String firstDefault = first.getKey() + "/" + first.getValue().defaultModel();
            String defaultModel = models.stream().anyMatch(info -> info.id().equals(firstDefault)) ? firstDefault
                    : models.get(0).id();
            return new CombinedModelProvider(Map.copyOf(providers), List.copyOf(models), defaultModel);
        }
    }
}
