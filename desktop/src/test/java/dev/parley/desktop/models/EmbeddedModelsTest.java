package dev.parley.desktop.models;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.ProviderPreset;
import dev.parley.desktop.settings.ProviderSettings;
import dev.parley.desktop.settings.Settings;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded server's models from the settings: a provider that cannot be used is left out, said in words, and
 * never keeps the app from starting; the built-in model is always first, under its own id.
 */
class EmbeddedModelsTest {
    @TempDir
    Path dir;

    @Test
    void unusableProvidersAreLeftOutAndTheRestOffered() throws Exception {
        Files.writeString(dir.resolve("provider-keys.json"), "{ not json"); // a hand edit gone wrong
        ProviderKeys keys = ProviderKeys.open(dir, "file");
        EmbeddedModels models = new EmbeddedModels(keys, Duration.ZERO);
        Settings settings = new Settings(null, null, false, List.of(
                new ProviderSettings("groq", ProviderPreset.GROQ, "https://api.groq.com/openai/v1",
                        List.of("llama-3.3-70b-versatile")),
                new ProviderSettings("Groq", ProviderPreset.CUSTOM, "http://127.0.0.1:9/v1", List.of("other")),
                new ProviderSettings("broken", ProviderPreset.CUSTOM, "ftp://nowhere", List.of("m")),
                new ProviderSettings("not a name", ProviderPreset.CUSTOM, "http://127.0.0.1:9/v1", List.of("m")),
                new ProviderSettings("untested", ProviderPreset.CUSTOM, "http://127.0.0.1:9/v1", List.of())),
                null, null);

        try (EmbeddedModels.Built built = models.build(settings, List.of(new LocalServers.Found(
                new LocalServers.Candidate("ollama", "Ollama", "http://127.0.0.1:11434/v1"),
                List.of("llama3.1:8b"))))) {
            assertThat(built.provider().models()).extracting(ModelInfo::id).containsExactly(
                    "parley-local", "ollama/llama3.1:8b", "groq/llama-3.3-70b-versatile");
            assertThat(built.provider().defaultModel()).isEqualTo("parley-local");
            assertThat(built.problems()).hasSize(3).allSatisfy(p -> assertThat(p).contains("is left out"));
            assertThat(built.problems()).anySatisfy(p -> assertThat(p).startsWith("Groq is left out"))
                    .anySatisfy(p -> assertThat(p).startsWith("broken is left out"))
                    .anySatisfy(p -> assertThat(p).startsWith("not a name is left out"));
        }
    }
}
