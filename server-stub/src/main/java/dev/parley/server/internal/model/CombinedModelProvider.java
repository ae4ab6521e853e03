package dev.parley.server.internal.model;

import dev.parley.protocol.ModelIds;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several model providers offered as one (SPEC §5.2): each model is listed under its provider's name,
 * {@code NAME/MODEL} ({@code ollama/llama3.1:8b}, {@code openrouter/openai/gpt-4o-mini}), in the order the providers
 * were added and, within one, in its own order; the default is the first provider's default. A request is routed by
 * the part of its model id before the first {@code /} and reaches that provider with the rest, so the upstream sees
 * its own model id. One provider may be added without a name ({@link Builder#addUnprefixed}): its models keep their
 * own ids (the built-in {@code parley-local}, so that the conversations it answered keep a model that exists), and
 * an id that is one of them goes to it before any prefix is looked at.
 *
 * <p>Immutable once built and thread-safe when its providers are; calls run on the caller's thread and the chosen
 * provider's. By default it owns none of its providers: whoever made them closes them, and {@link #close()} does
 * nothing. Built with {@link Builder#closingMembers()}, it owns them: {@link #close()} closes each once.
 */
public final class CombinedModelProvider implements ModelProvider {
    private static final Logger LOG = LoggerFactory.getLogger(CombinedModelProvider.class);

    private final Map<String, ModelProvider> providers;
    /** The provider whose models keep their own ids, or {@code null}. */
    private final ModelProvider unprefixed;
    private final Set<String> unprefixedIds;
    private final List<ModelInfo> models;
    private final Set<String> offeredIds;
    private final String defaultModel;
    private final boolean ownsMembers;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CombinedModelProvider(Map<String, ModelProvider> providers, ModelProvider unprefixed,
                                  Set<String> unprefixedIds, List<ModelInfo> models, String defaultModel,
                                  boolean ownsMembers) {
        this.providers = providers;
        this.unprefixed = unprefixed;
        this.unprefixedIds = unprefixedIds;
        this.models = models;
        this.offeredIds = models.stream().map(ModelInfo::id).collect(Collectors.toUnmodifiableSet());
        this.defaultModel = defaultModel;
        this.ownsMembers = ownsMembers;
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

    /**
     * Closes the member providers, each once, when this one owns them ({@link Builder#closingMembers()}); else does
     * nothing. Idempotent.
     */
    @Override
    public void close() {
        if (!ownsMembers || !closed.compareAndSet(false, true)) {
            return;
        }
        Set<ModelProvider> members = Collections.newSetFromMap(new IdentityHashMap<>());
        if (unprefixed != null) {
            members.add(unprefixed);
        }
        members.addAll(providers.values());
        for (ModelProvider member : members) {
            try {
                member.close();
            } catch (RuntimeException e) {
                LOG.warn("a model provider failed to close: {}", e.toString());
            }
        }
    }

    private Route route(CompletionRequest request) {
        Objects.requireNonNull(request, "request");
        String model = request.model();
        if (model != null && unprefixedIds.contains(model)) {
            return new Route(unprefixed, request);
        }
        int slash = model == null ? -1 : model.indexOf('/');
        ModelProvider provider = slash < 0 ? null : providers.get(model.substring(0, slash));
        if (provider == null || !offeredIds.contains(model)) {
            throw new IllegalArgumentException("unknown model '" + model + "' (offered: "
                    + String.join(", ", models.stream().map(ModelInfo::id).toList()) + ")");
        }
        return new Route(provider, request.withModel(model.substring(slash + 1)));
    }

    private record Route(ModelProvider provider, CompletionRequest request) {
    }

    /** Collects named providers in display order, refusing a bad or repeated name at once. Not thread-safe. */
    public static final class Builder {
        /** The name under which the unprefixed provider keeps its place in the order; no provider name has it. */
        private static final String UNPREFIXED = "";
        private final Map<String, ModelProvider> providers = new LinkedHashMap<>();
        private final Map<String, String> lowerCaseNames = new LinkedHashMap<>();
        private boolean closingMembers;

        private Builder() {
        }

        /**
         * Adds {@code provider} with its models listed under their own ids, in this place of the order. An id of
         * its own goes to it, whatever a named provider's prefix would say; a named provider's model whose listed id
         * would be the same is left out, with a warning.
         *
         * @throws IllegalStateException when a provider was added unprefixed already
         */
        public Builder addUnprefixed(ModelProvider provider) {
            Objects.requireNonNull(provider, "provider");
            if (providers.containsKey(UNPREFIXED)) {
                throw new IllegalStateException("only one provider can keep its own model ids");
            }
            providers.put(UNPREFIXED, provider);
            return this;
        }

        /** Makes the combined provider own its members: its {@link CombinedModelProvider#close()} closes them. */
        public Builder closingMembers() {
            closingMembers = true;
            return this;
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
            ModelProvider unprefixed = providers.get(UNPREFIXED);
            Set<String> unprefixedIds = unprefixed == null ? Set.of()
                    : unprefixed.models().stream().map(ModelInfo::id).collect(Collectors.toUnmodifiableSet());
            List<ModelInfo> models = new ArrayList<>();
            for (Map.Entry<String, ModelProvider> entry : providers.entrySet()) {
                String name = entry.getKey();
                if (name.equals(UNPREFIXED)) {
                    models.addAll(unprefixed.models());
                    continue;
                }
                int before = models.size();
                for (ModelInfo info : entry.getValue().models()) {
                    String id = name + "/" + info.id();
                    if (unprefixedIds.contains(id)) {
                        LOG.warn("provider {}: model '{}' is left out: '{}' is the id of a model listed under its own"
                                + " id", name, info.id(), id);
                    } else if (ModelIds.isValid(id)) {
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
            String firstDefault = first.getKey().equals(UNPREFIXED) ? first.getValue().defaultModel()
                    : first.getKey() + "/" + first.getValue().defaultModel();
            // A named provider's default left out as another's id is not its default any more.
            boolean listed = models.stream().anyMatch(info -> info.id().equals(firstDefault))
                    && (first.getKey().equals(UNPREFIXED) || !unprefixedIds.contains(firstDefault));
            String defaultModel = listed ? firstDefault : models.get(0).id();
            Map<String, ModelProvider> named = new LinkedHashMap<>(providers);
            named.remove(UNPREFIXED);
            return new CombinedModelProvider(Map.copyOf(named), unprefixed, unprefixedIds, List.copyOf(models),
                    defaultModel, closingMembers);
        }
    }
}
