package dev.parley.desktop.viewmodel;

import dev.parley.client.ChatClient;
import dev.parley.client.ChatParameters;
import dev.parley.client.ClientException;
import dev.parley.client.LocalSession;
import dev.parley.protocol.Limits;
import java.util.Objects;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/**
 * One conversation's own settings: its system prompt (synced to the user's other devices, last edit wins, like the
 * title; no message is sent again) and its temperature and longest reply (this device's, overriding the defaults of
 * Settings; blank keeps the default). Loads and saves off the UI thread; properties are used on the UI thread only.
 */
public final class ChatSettingsViewModel {
    private final ChatClient client;
    private final UiExecutor ui;
    private final LocalSession session;
    private final StringProperty systemPrompt = new SimpleStringProperty("");
    private final StringProperty temperature = new SimpleStringProperty("");
    private final StringProperty maxTokens = new SimpleStringProperty("");
    private final StringProperty defaults;
    private final StringProperty error = new SimpleStringProperty("");
    private final BooleanProperty loaded = new SimpleBooleanProperty();
    private final BooleanProperty done = new SimpleBooleanProperty();
    private String loadedPrompt = "";

    /** @param defaults the defaults from Settings, to say what a blank field means */
    public ChatSettingsViewModel(ChatClient client, UiExecutor ui, LocalSession session, ChatParameters defaults) {
        this.client = client;
        this.ui = ui;
        this.session = session;
        this.defaults = new SimpleStringProperty(describe(defaults));
    }

    /** Reads the conversation's prompt and parameters as stored now. */
    public void load() {
        ui.run(() -> new Loaded(client.session(session.id()).map(LocalSession::systemPrompt).orElse(null),
                client.chatParameters(session.id())), read -> {
            loadedPrompt = read.prompt() == null ? "" : read.prompt();
            systemPrompt.set(loadedPrompt);
            temperature.set(read.parameters().temperature() == null ? ""
                    : ChatParameterText.temperature(read.parameters().temperature()));
            maxTokens.set(read.parameters().maxTokens() == null ? "" : read.parameters().maxTokens().toString());
            loaded.set(true);
        }, e -> error.set("The conversation's settings could not be read: " + e.getMessage()));
    }

    private record Loaded(String prompt, ChatParameters parameters) {
    }

    /** The first problem with the inputs, or empty. */
    public String validate() {
        String prompt = systemPrompt.get() == null ? "" : systemPrompt.get();
        if (prompt.length() > Limits.MAX_SYSTEM_PROMPT_CHARS) {
            return "The system prompt is " + String.format("%,d", prompt.length()) + " characters; at most "
                    + String.format("%,d", Limits.MAX_SYSTEM_PROMPT_CHARS) + " are kept.";
        }
        String parameters = ChatParameterText.problem(temperature.get(), maxTokens.get());
        return parameters == null ? "" : parameters;
    }

    /** Saves: the prompt only if it changed (so an unchanged one is not queued), and the parameters. */
    public void save() {
        String problem = validate();
        error.set(problem);
        if (!problem.isEmpty() || !loaded.get()) {
            return;
        }
        String prompt = systemPrompt.get() == null ? "" : systemPrompt.get().strip();
        boolean promptChanged = !Objects.equals(prompt, loadedPrompt.strip());
        ChatParameters parameters = new ChatParameters(ChatParameterText.temperatureOf(temperature.get()),
                ChatParameterText.maxTokensOf(maxTokens.get()));
        ui.run(() -> {
            if (promptChanged) {
                client.setSystemPrompt(session.id(), prompt);
            }
            client.setChatParameters(session.id(), parameters);
            return null;
        }, saved -> done.set(true), e -> error.set(e instanceof ClientException ? e.getMessage()
                : "The conversation's settings could not be saved: " + e.getMessage()));
    }

    private static String describe(ChatParameters defaults) {
        String t = defaults.temperature() == null ? "the model's own"
                : ChatParameterText.temperature(defaults.temperature());
        String n = defaults.maxTokens() == null ? "the model's own" : String.format("%,d tokens", defaults.maxTokens());
        return "Blank uses the defaults of Settings: temperature " + t + ", longest reply " + n + ".";
    }

    public String title() {
        return session.title();
    }

    public StringProperty systemPromptProperty() {
        return systemPrompt;
    }

    public StringProperty temperatureProperty() {
        return temperature;
    }

    public StringProperty maxTokensProperty() {
        return maxTokens;
    }

    /** What blank fields mean, in words. */
    public ReadOnlyStringProperty defaultsProperty() {
        return defaults;
    }

    public ReadOnlyStringProperty errorProperty() {
        return error;
    }

    /** True once the stored values are shown; Save waits for it. */
    public ReadOnlyBooleanProperty loadedProperty() {
        return loaded;
    }

    /** Becomes true once saved; the dialog closes then. */
    public ReadOnlyBooleanProperty doneProperty() {
        return done;
    }
}
