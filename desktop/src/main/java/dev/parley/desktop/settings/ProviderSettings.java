package dev.parley.desktop.settings;

import java.util.List;

/**
 * One OpenAI-compatible provider the user added in Settings. Immutable. Its API key is kept apart, in
 * {@link ProviderKeys}, under its name.
 *
 * @param name    what its models are listed under ({@code openrouter} gives {@code openrouter/openai/gpt-4o-mini});
 *                1 to 40 letters, digits, {@code -} or {@code _}
 * @param preset  which kind of provider it was added as
 * @param baseUrl the API root, such as {@code https://openrouter.ai/api/v1}
 * @param models  the model ids it listed when last asked, so that the app starts offline with them; never null
 */
public record ProviderSettings(String name, ProviderPreset preset, String baseUrl, List<String> models) {
    public ProviderSettings {
        preset = preset == null ? ProviderPreset.CUSTOM : preset;
        models = models == null ? List.of() : List.copyOf(models);
    }
}
