package dev.parley.desktop.viewmodel;

import dev.parley.desktop.models.LocalServers;
import dev.parley.desktop.models.ModelSetup;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

/**
 * The Settings dialog: server (embedded or a URL), the embedded server's models ({@link ProvidersViewModel}), the
 * default model and chat parameters, theme, and where the data lives. Validates inline and saves off the UI thread:
 * API keys to {@link dev.parley.desktop.settings.ProviderKeys}, the rest to the settings file, then the embedded
 * server takes the new models without a restart. The theme, model, parameters and models take effect at once, a new
 * server at the next start (the open local store and its sign-in belong to the server it was opened with).
 * Properties are used on the UI thread only.
 */
public final class SettingsViewModel {
    /** The model choice that means "whatever the server suggests". */
    public static final String SERVER_DEFAULT = "Server default";

    private final SettingsStore store;
    private final UiExecutor ui;
    private final Settings saved;
    private final Consumer<Settings> onSaved;
    private final String dataDir;
    private final BooleanProperty embedded = new SimpleBooleanProperty();
    private final StringProperty serverUrl = new SimpleStringProperty("");
    private final StringProperty defaultModel = new SimpleStringProperty(SERVER_DEFAULT);
    private final BooleanProperty dark = new SimpleBooleanProperty();
    private final ObservableList<String> models = FXCollections.observableArrayList();
    private final StringProperty temperature = new SimpleStringProperty("");
    private final StringProperty maxTokens = new SimpleStringProperty("");
    private final ProvidersViewModel providers;
    private final ModelSetup setup;
    private final StringProperty error = new SimpleStringProperty("");
    /** What the last save had to leave out of the embedded server's models, in words; set off the UI thread. */
    private volatile List<String> problems = List.of();
    private final BooleanProperty done = new SimpleBooleanProperty();

    /**
     * @param current  the settings in use
     * @param models   the ids of the models the server offers
     * @param setup    what can be done about models here (the embedded server's, or nothing for a remote one)
     * @param onSaved  called on the UI thread with the new settings once they are on disk and in use
     */
    public SettingsViewModel(SettingsStore store, UiExecutor ui, Settings current, List<String> models,
                             Path dataDir, ModelSetup setup, Consumer<Settings> onSaved) {
        this.store = store;
        this.ui = ui;
        this.setup = setup;
        this.providers = new ProvidersViewModel(setup, ui, current.providers());
        temperature.set(current.temperature() == null ? "" : ChatParameterText.temperature(current.temperature()));
        maxTokens.set(current.maxTokens() == null ? "" : Integer.toString(current.maxTokens()));
        this.saved = current;
        this.onSaved = onSaved;
        this.dataDir = dataDir.toAbsolutePath().toString();
        embedded.set(current.embedded());
        serverUrl.set(current.embedded() ? "" : current.serverUrl());
        this.models.add(SERVER_DEFAULT);
        this.models.addAll(models);
        if (current.defaultModel() != null) {
            if (!this.models.contains(current.defaultModel())) {
                this.models.add(current.defaultModel()); // kept even when this server does not list it
            }
            defaultModel.set(current.defaultModel());
        }
        dark.set(current.dark());
    }

    /** The first problem with the inputs, or empty when they may be saved. */
    public String validate() {
        String parameters = ChatParameterText.problem(temperature.get(), maxTokens.get());
        if (parameters != null) {
            return parameters;
        }
        if (embedded.get()) {
            return "";
        }
        String problem = WebAddress.problem(serverUrl.get(), "The server's address", "https://parley.example.com",
                "Enter the server's address, such as https://parley.example.com, or choose the embedded server.");
        return problem == null ? "" : problem;
    }

    /** The settings the dialog shows now. Valid only when {@link #validate()} is empty. */
    public Settings settings() {
        String url = embedded.get() ? null : WebAddress.normalized(serverUrl.get());
        String model = defaultModel.get() == null || defaultModel.get().equals(SERVER_DEFAULT) ? null
                : defaultModel.get();
        return new Settings(url, model, dark.get(), providers.providersToSave(),
                ChatParameterText.temperatureOf(temperature.get()), ChatParameterText.maxTokensOf(maxTokens.get()));
    }

    /** Whether saving changes the server, which takes a restart to use. */
    public boolean serverChanged() {
        return validate().isEmpty() && !java.util.Objects.equals(settings().serverUrl(), saved.serverUrl());
    }

    public void save() {
        String problem = validate();
        error.set(problem);
        if (!problem.isEmpty()) {
            return;
        }
        Settings chosen = settings();
        Map<String, String> keys = providers.keysToSave();
        Set<String> forget = providers.keysToForget();
        List<LocalServers.Found> seen = providers.found();
        ui.run(() -> {
            List<String> left = List.of();
            if (setup.embedded()) {
                setup.saveKeys(keys, forget);
                // The embedded server takes the models now; a reply in flight goes on with the ones it began with.
                left = setup.apply(chosen, providers.foundOrFindNow(seen), !keys.isEmpty() || !forget.isEmpty());
            }
            store.save(chosen);
            problems = left;
            return chosen;
        }, written -> {
            onSaved.accept(written);
            done.set(true);
        }, e -> error.set("The settings could not be saved: " + (e.getMessage() == null ? e : e.getMessage())));
    }

    public BooleanProperty embeddedProperty() {
        return embedded;
    }

    public StringProperty serverUrlProperty() {
        return serverUrl;
    }

    public StringProperty defaultModelProperty() {
        return defaultModel;
    }

    /** The default temperature as typed; blank leaves it to the model. */
    public StringProperty temperatureProperty() {
        return temperature;
    }

    /** The default reply length limit as typed; blank leaves it to the model. */
    public StringProperty maxTokensProperty() {
        return maxTokens;
    }

    /** What the last save had to leave out of the embedded server's models, in words; empty when nothing. */
    public List<String> modelProblems() {
        return problems;
    }

    /** The models section. */
    public ProvidersViewModel providers() {
        return providers;
    }

    public BooleanProperty darkProperty() {
        return dark;
    }

    public ObservableList<String> models() {
        return FXCollections.unmodifiableObservableList(models);
    }

    public String dataDirectory() {
        return dataDir;
    }

    public ReadOnlyStringProperty errorProperty() {
        return error;
    }

    /** Becomes true once saved; the dialog closes then. */
    public ReadOnlyBooleanProperty doneProperty() {
        return done;
    }
}
