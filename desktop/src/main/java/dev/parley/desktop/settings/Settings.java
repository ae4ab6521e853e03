package dev.parley.desktop.settings;

import java.util.List;

/**
 * What the user chose in Settings. Immutable. API keys are never here: they are in {@link ProviderKeys}.
 *
 * @param serverUrl    the server to use, or {@code null} for the embedded one
 * @param defaultModel the model preselected in the composer, or {@code null} for the server's default
 * @param dark         the dark theme instead of the light one
 * @param providers    the OpenAI-compatible providers the embedded server offers, in display order; never null
 * @param temperature  the sampling temperature of a chat that sets none, or {@code null} for the model's own
 * @param maxTokens    the reply length limit of a chat that sets none, or {@code null} for the model's own
 */
public record Settings(String serverUrl, String defaultModel, boolean dark, List<ProviderSettings> providers,
                       Double temperature, Integer maxTokens) {
    /** A first run: embedded server, the server's default model, light theme, the built-in model only. */
    public static final Settings DEFAULTS = new Settings(null, null, false);

    public Settings {
        providers = providers == null ? List.of() : List.copyOf(providers); // a file of an earlier release has none
    }

    /** Settings with no provider and the model's own parameters. */
    public Settings(String serverUrl, String defaultModel, boolean dark) {
        this(serverUrl, defaultModel, dark, List.of(), null, null);
    }

    public boolean embedded() {
        return serverUrl == null;
    }

    public Settings withDark(boolean dark) {
        return new Settings(serverUrl, defaultModel, dark, providers, temperature, maxTokens);
    }
}
