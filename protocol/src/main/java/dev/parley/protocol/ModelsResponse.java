package dev.parley.protocol;

import java.util.List;

/** Body of {@code GET /api/models}. */
public record ModelsResponse(List<ModelInfo> models, String defaultModel) {

    /** One model the server can answer with. */
    public record ModelInfo(String id, String name) {
    }

    /** The id of the built-in offline model. */
    public static final String LOCAL_MODEL_ID = "parley-local";
}
