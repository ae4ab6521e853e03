package dev.parley.desktop.viewmodel;

import dev.parley.desktop.models.LocalServers;
import dev.parley.desktop.settings.ProviderPreset;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

/**
 * The composer's model choice: the server's models grouped by provider (the part of the id before its first
 * {@code /}: {@code ollama/llama3.1:8b} is llama3.1:8b under Ollama; an id without one is built in), the model of
 * the conversation that is open (its newest message's), else the default from Settings, else the server's. A model
 * a conversation used that the server no longer offers is shown as unavailable, never silently replaced; sending
 * with it is refused in words ({@link #unavailableProblem()}). Used on the UI thread only.
 */
public final class ModelPicker {
    /** One line of the list: a group's heading, or a model. */
    public record Choice(String id, String label, String group, boolean heading, boolean available) {
        static Choice heading(String group) {
            return new Choice(null, group, group, true, true);
        }
    }

    private final ObservableList<ModelInfo> models = FXCollections.observableArrayList();
    private final ObservableList<Choice> choices = FXCollections.observableArrayList();
    private final ObservableList<ModelInfo> modelsView = FXCollections.unmodifiableObservableList(models);
    private final ObservableList<Choice> choicesView = FXCollections.unmodifiableObservableList(choices);
    private final ObjectProperty<String> model = new SimpleObjectProperty<>();
    private String defaultModel;
    private String preferred;
    /** The open conversation's model, or {@code null} for a new one or one without a model yet. */
    private String conversationModel;

    ModelPicker() {
        model.addListener((obs, old, now) -> rebuild(now));
    }

    /** The server's list arrived (at start, or after Settings changed the embedded server's models). */
    void offered(ModelsResponse response) {
        models.setAll(response.models());
        defaultModel = response.defaultModel();
        String keep = model.get();
        // A model the open conversation used stays, shown as unavailable; any other missing one is replaced.
        String next = keep == null || (!offers(keep) && !keep.equals(conversationModel)) ? initial() : keep;
        if (Objects.equals(next, keep)) {
            rebuild(keep);
        } else {
            model.set(next);
        }
    }

    /** The default model from Settings; chosen now unless a conversation's model is shown. */
    void preferred(String id) {
        preferred = id;
        if (conversationModel == null && id != null && offers(id)) {
            model.set(id);
        }
    }

    /** A conversation opened whose newest model is {@code id} (empty: none yet, or a new chat). */
    void conversationOpened(Optional<String> id) {
        conversationModel = id.orElse(null);
        model.set(conversationModel != null ? conversationModel : initial());
    }

    /** The user picked {@code id} in the list; a heading ({@code null}) changes nothing. */
    public void choose(String id) {
        if (id != null) {
            model.set(id);
        }
    }

    /** Why the chosen model cannot be sent to, in words, or {@code null} when it can. */
    public String unavailableProblem() {
        return unavailableProblem(model.get());
    }

    /** Why {@code id} cannot be sent to, or {@code null} when it can. */
    private String unavailableProblem(String id) {
        if (available(id)) {
            return null;
        }
        return "The model " + id + " is not available now (its provider is not running or was removed in"
                + " Settings). Pick another model for this conversation.";
    }

    /** Whether {@code id} can be sent to: offered now, or not known to be gone (no list yet, or none named). */
    boolean available(String id) {
        return id == null || models.isEmpty() || offers(id);
    }

    private String initial() {
        if (preferred != null && offers(preferred)) {
            return preferred;
        }
        return defaultModel;
    }

    private boolean offers(String id) {
        return models.stream().anyMatch(m -> m.id().equals(id));
    }

    /** Lists the models under their groups' headings, in the server's order, and {@code chosen} if it is missing. */
    private void rebuild(String chosen) {
        Map<String, List<Choice>> groups = new LinkedHashMap<>();
        for (ModelInfo info : models) {
            int slash = info.id().indexOf('/');
            String group = slash < 0 ? "Built in" : groupName(info.id().substring(0, slash));
            String label = slash < 0 ? info.name() : info.id().substring(slash + 1);
            groups.computeIfAbsent(group, g -> new ArrayList<>()).add(new Choice(info.id(), label, group, false,
                    true));
        }
        List<Choice> list = new ArrayList<>();
        if (chosen != null && !offers(chosen) && !models.isEmpty()) {
            list.add(Choice.heading("Not available now"));
            list.add(new Choice(chosen, chosen + " (unavailable)", "Not available now", false, false));
        }
        groups.forEach((group, entries) -> {
            list.add(Choice.heading(group));
            list.addAll(entries);
        });
        if (!list.equals(choices)) {
            choices.setAll(list);
        }
    }

    /**
     * How a provider's name reads as a heading: a local server's or a preset's label for its own name
     * ({@code lmstudio} is LM Studio), any other name as it is.
     */
    static String groupName(String provider) {
        return LocalServers.DEFAULT.stream().filter(c -> c.name().equals(provider))
                .map(LocalServers.Candidate::label).findFirst()
                .or(() -> Arrays.stream(ProviderPreset.values()).filter(p -> p != ProviderPreset.CUSTOM
                        && p.defaultName().equals(provider)).map(ProviderPreset::label).findFirst())
                .orElse(provider);
    }

    /** The models the server offers, in its order. */
    public ObservableList<ModelInfo> models() {
        return modelsView; // made once: a view listens to its list only weakly
    }

    /** The grouped list the composer shows. */
    public ObservableList<Choice> choices() {
        return choicesView;
    }

    /** The chosen model's id; {@code null} until the server's list is known. */
    public ObjectProperty<String> modelProperty() {
        return model;
    }
}
