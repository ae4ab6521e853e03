package dev.parley.client.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** The models the server offers, remembered from its last answer so that the list is there offline. Thread-safe. */
public final class ModelCatalogue {
    private static final String KEY = "models";

    private final ServerApi api;
    private final LocalDatabase db;
    private final ObjectMapper json;
    private final Settings settings = new Settings();

    public ModelCatalogue(ServerApi api, LocalDatabase db, ObjectMapper json) {
        this.api = api;
        this.db = db;
        this.json = json;
    }

    /** Asks the server (blocking on the network); offline, the list it gave last, else the built-in model. */
    public ModelsResponse models() {
        try {
            ModelsResponse fresh = api.models();
            String remembered = json.writeValueAsString(fresh);
            db.inTransaction(c -> {
                settings.put(c, KEY, remembered);
                return null;
            });
            return fresh;
        } catch (IOException | ServerError e) {
            Optional<String> cached = db.inTransaction(c -> settings.get(c, KEY));
            try {
                if (cached.isPresent()) {
                    return json.readValue(cached.get(), ModelsResponse.class);
                }
            } catch (IOException ignored) {
                // an unreadable copy: the built-in model below
            }
            return new ModelsResponse(List.of(new ModelInfo(ModelsResponse.LOCAL_MODEL_ID, "Parley local (offline)")),
                    ModelsResponse.LOCAL_MODEL_ID);
        }
    }
}
