package dev.parley.desktop.viewmodel;

import dev.parley.desktop.models.LocalServers;
import dev.parley.desktop.models.ModelSetup;
import dev.parley.desktop.settings.ProviderPreset;
import dev.parley.desktop.settings.ProviderSettings;
import dev.parley.server.ConnectionCheck;
import dev.parley.server.ModelProviders;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

/**
 * The models section of Settings: the built-in model, the local servers found on this machine (asked when Settings
 * opens), and the OpenAI-compatible providers the user added, with a form to add one — preset, name, base URL, API
 * key, "Test connection" (which lists its models or says what is wrong) — and Remove. Keys typed here are held
 * until Settings saves them ({@link #keysToSave()}); they are never part of the settings. With a remote server the
 * section only says that the models are the server's. Properties are used on the UI thread only.
 */
public final class ProvidersViewModel {
    private final ModelSetup setup;
    private final UiExecutor ui;
    private final ObservableList<ProviderSettings> providers = FXCollections.observableArrayList();
    private final ObservableList<String> localServers = FXCollections.observableArrayList();
    private final StringProperty localStatus = new SimpleStringProperty("");
    private final ObjectProperty<ProviderPreset> preset = new SimpleObjectProperty<>(ProviderPreset.OPENROUTER);
    private final StringProperty name = new SimpleStringProperty("");
    private final StringProperty baseUrl = new SimpleStringProperty("");
    private final StringProperty apiKey = new SimpleStringProperty("");
    private final StringProperty testResult = new SimpleStringProperty("");
    private final BooleanProperty testOk = new SimpleBooleanProperty();
    private final BooleanProperty testing = new SimpleBooleanProperty();
    private final BooleanProperty canAdd = new SimpleBooleanProperty();
    private final Map<String, String> keysToSave = new LinkedHashMap<>();
    private final Set<String> keysToForget = new LinkedHashSet<>();
    /** The local servers found when Settings opened, for the embedded server to use when it saves; null until then. */
    private List<LocalServers.Found> found;
    /** The models the last successful test listed, for the inputs it was made with. */
    private List<String> testedModels = List.of();
    private String testedFor = "";

    public ProvidersViewModel(ModelSetup setup, UiExecutor ui, List<ProviderSettings> current) {
        this.setup = setup;
        this.ui = ui;
        providers.setAll(current);
        preset.addListener((obs, old, now) -> fillFromPreset(now));
        name.addListener((obs, old, now) -> updateCanAdd());
        baseUrl.addListener((obs, old, now) -> inputsChanged());
        apiKey.addListener((obs, old, now) -> inputsChanged());
        fillFromPreset(preset.get());
    }

    /** Whether the models are set up here (the embedded server) rather than on a remote server. */
    public boolean embedded() {
        return setup.embedded();
    }

    /** Where keys are kept, in words, for the form's hint. */
    public String keysLocation() {
        return setup.keysLocation();
    }

    /** Looks for Ollama and LM Studio on this machine (off the UI thread) and lists what answers. */
    public void findLocalServers() {
        if (!setup.embedded()) {
            return;
        }
        localStatus.set("Looking for Ollama and LM Studio on this computer…");
        ui.run(setup::findLocalServers, servers -> {
            found = List.copyOf(servers);
            localServers.setAll(servers.stream().map(ProvidersViewModel::describe).toList());
            localStatus.set(servers.isEmpty()
                    ? "No Ollama or LM Studio is running on this computer (they are found on their usual ports)."
                    : "");
        }, e -> localStatus.set("Could not look for local servers: " + e.getMessage()));
    }

    private static String describe(LocalServers.Found server) {
        return server.where().label() + " — " + count(server.models()) + ": " + firstFive(server.models());
    }

    /** "1 model", "3 models". */
    private static String count(List<String> models) {
        return models.size() + (models.size() == 1 ? " model" : " models");
    }

    /** The first five ids, then "…" when there are more. */
    private static String firstFive(List<String> models) {
        return String.join(", ", models.stream().limit(5).toList()) + (models.size() > 5 ? ", …" : "");
    }

    /** Asks the provider in the form for its models (off the UI thread); the result shows in the form. */
    public void testConnection() {
        String problem = urlProblem(baseUrl.get());
        if (problem == null && preset.get().needsKey() && (apiKey.get() == null || apiKey.get().isBlank())) {
            problem = preset.get().label() + " needs an API key: paste yours above, then test again.";
        }
        if (problem != null) {
            testResult.set(problem);
            testOk.set(false);
            return;
        }
        String url = baseUrl.get().strip();
        String key = apiKey.get() == null ? "" : apiKey.get().strip();
        String inputs = url + "\n" + key;
        testing.set(true);
        testResult.set("Testing…");
        ui.run(() -> setup.check(url, key), check -> {
            testing.set(false);
            if (!inputs.equals(currentInputs())) {
                return; // edited meanwhile: this answer is about other inputs
            }
            boolean ok = check.outcome() == ConnectionCheck.Outcome.OK;
            testOk.set(ok);
            testedModels = ok ? check.modelIds() : List.of();
            testedFor = ok ? inputs : "";
            testResult.set(ok ? connected(check.modelIds()) : check.message());
            updateCanAdd();
        }, e -> {
            testing.set(false);
            testOk.set(false);
            testResult.set("The test could not run: " + e.getMessage());
        });
    }

    private static String connected(List<String> models) {
        return "Connected: " + count(models) + " (" + firstFive(models) + ").";
    }

    /** Adds the tested provider of the form; its key is saved with the settings. Nothing unless {@link #canAdd}. */
    public void add() {
        if (!canAdd.get()) {
            return;
        }
        String chosen = name.get().strip();
        String key = apiKey.get() == null ? "" : apiKey.get().strip();
        providers.add(new ProviderSettings(chosen, preset.get(), WebAddress.normalized(baseUrl.get()), testedModels));
        keysToForget.remove(chosen);
        if (!key.isEmpty()) {
            keysToSave.put(chosen, key);
        } else {
            keysToForget.add(chosen); // a key an earlier provider of this name left must not be sent here
        }
        apiKey.set("");
        testResult.set("Added " + chosen + ". Save to use its models.");
        fillFromPreset(preset.get());
    }

    /** Removes {@code provider}; its key is forgotten when the settings are saved. */
    public void remove(ProviderSettings provider) {
        if (providers.remove(provider)) {
            keysToSave.remove(provider.name());
            keysToForget.add(provider.name());
            updateCanAdd();
        }
    }

    /** The providers as they will be saved. */
    public List<ProviderSettings> providersToSave() {
        return List.copyOf(providers);
    }

    /** Keys typed for providers added now, by provider name; held in memory until saved. */
    public Map<String, String> keysToSave() {
        return Map.copyOf(keysToSave);
    }

    /** Names whose keys are to be forgotten when saved. */
    public Set<String> keysToForget() {
        return Set.copyOf(keysToForget);
    }

    /**
     * The local servers found when Settings opened, or, when that look has not ended yet, found now (blocking: call
     * off the UI thread), so that saving never leaves them out.
     */
    List<LocalServers.Found> foundOrFindNow(List<LocalServers.Found> seen) {
        return seen != null ? seen : setup.findLocalServers();
    }

    /** The local servers found when Settings opened; {@code null} while it is still looking. */
    List<LocalServers.Found> found() {
        return found;
    }

    private void fillFromPreset(ProviderPreset chosen) {
        baseUrl.set(chosen.baseUrl());
        name.set(freeName(chosen.defaultName()));
        inputsChanged();
    }

    private String freeName(String wanted) {
        String candidate = wanted;
        for (int n = 2; nameProblem(candidate) != null && n < 100; n++) {
            candidate = wanted + "-" + n;
        }
        return candidate;
    }

    private void inputsChanged() {
        if (!currentInputs().equals(testedFor)) {
            testOk.set(false);
            testedModels = List.of();
            testedFor = "";
            testResult.set("");
        }
        updateCanAdd();
    }

    private String currentInputs() {
        return (baseUrl.get() == null ? "" : baseUrl.get().strip()) + "\n"
                + (apiKey.get() == null ? "" : apiKey.get().strip());
    }

    private void updateCanAdd() {
        canAdd.set(testOk.get() && !testedModels.isEmpty() && nameProblem(name.get()) == null);
    }

    /** Why {@code candidate} cannot name a new provider, or {@code null} when it can. */
    public String nameProblem(String candidate) {
        String n = candidate == null ? "" : candidate.strip();
        if (!ModelProviders.isProviderName(n)) {
            return "A provider's name is 1 to 40 letters, digits, - or _ (its models are listed as NAME/MODEL).";
        }
        String lower = n.toLowerCase(Locale.ROOT);
        if (setup.reservedNames().stream().anyMatch(r -> r.equalsIgnoreCase(lower))) {
            return "\"" + n + "\" is the name of a local server's models; choose another.";
        }
        if (providers.stream().anyMatch(p -> p.name().equalsIgnoreCase(lower))) {
            return "A provider named \"" + n + "\" is already added.";
        }
        return null;
    }

    /** Why {@code url} is no usable base URL, or {@code null}. */
    static String urlProblem(String url) {
        return WebAddress.problem(url, "The base URL", "https://openrouter.ai/api/v1",
                "Enter the provider's base URL, such as https://openrouter.ai/api/v1.");
    }

    public ObservableList<ProviderSettings> providers() {
        return FXCollections.unmodifiableObservableList(providers);
    }

    /** One line per local server found: "Ollama — 3 models: …". */
    public ObservableList<String> localServers() {
        return FXCollections.unmodifiableObservableList(localServers);
    }

    public ReadOnlyStringProperty localStatusProperty() {
        return localStatus;
    }

    public ObjectProperty<ProviderPreset> presetProperty() {
        return preset;
    }

    public StringProperty nameProperty() {
        return name;
    }

    public StringProperty baseUrlProperty() {
        return baseUrl;
    }

    public StringProperty apiKeyProperty() {
        return apiKey;
    }

    /** What the last test found, in words: the models, or what is wrong. */
    public ReadOnlyStringProperty testResultProperty() {
        return testResult;
    }

    public ReadOnlyBooleanProperty testOkProperty() {
        return testOk;
    }

    public ReadOnlyBooleanProperty testingProperty() {
        return testing;
    }

    /** Whether the form's provider passed its test and has a free name. */
    public ReadOnlyBooleanProperty canAddProperty() {
        return canAdd;
    }
}
