package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The composer's model list: grouped by provider, the conversation's own model, and a model that disappeared. */
class ModelPickerTest {
    private static final ModelsResponse OFFERED = new ModelsResponse(List.of(
            new ModelInfo("parley-local", "Parley local (offline)"),
            new ModelInfo("ollama/llama3.1:8b", "ollama/llama3.1:8b"),
            new ModelInfo("ollama/qwen2.5:7b", "ollama/qwen2.5:7b"),
            new ModelInfo("openrouter/openai/gpt-4o-mini", "openrouter/openai/gpt-4o-mini")), "parley-local");

    private final ModelPicker picker = new ModelPicker();

    private List<String> lines() {
        return picker.choices().stream().map(c -> (c.heading() ? "# " : "") + c.label()).toList();
    }

    @Test
    void modelsAreListedUnderTheirProvidersInTheServersOrder() {
        picker.offered(OFFERED);

        assertThat(lines()).containsExactly("# Built in", "Parley local (offline)", "# Ollama", "llama3.1:8b",
                "qwen2.5:7b", "# OpenRouter", "openai/gpt-4o-mini");
        assertThat(picker.modelProperty().get()).isEqualTo("parley-local");
        assertThat(picker.unavailableProblem()).isNull();
    }

    @Test
    void theDefaultFromSettingsIsChosenForANewChatAndTheConversationsOwnModelWhenOneOpens() {
        picker.offered(OFFERED);
        picker.preferred("ollama/qwen2.5:7b");
        assertThat(picker.modelProperty().get()).isEqualTo("ollama/qwen2.5:7b");

        picker.conversationOpened(Optional.of("openrouter/openai/gpt-4o-mini"));
        assertThat(picker.modelProperty().get()).isEqualTo("openrouter/openai/gpt-4o-mini");

        picker.conversationOpened(Optional.empty());
        assertThat(picker.modelProperty().get()).isEqualTo("ollama/qwen2.5:7b");
    }

    @Test
    void aModelThatDisappearedIsShownAsUnavailableNotReplaced() {
        picker.offered(OFFERED);
        picker.conversationOpened(Optional.of("lmstudio/mistral-7b"));

        assertThat(picker.modelProperty().get()).isEqualTo("lmstudio/mistral-7b");
        assertThat(lines()).startsWith("# Not available now", "lmstudio/mistral-7b (unavailable)");
        assertThat(picker.choices().get(1).available()).isFalse();
        assertThat(picker.unavailableProblem()).contains("lmstudio/mistral-7b", "not available now");

        picker.choose("ollama/llama3.1:8b");
        assertThat(picker.unavailableProblem()).isNull();
        assertThat(lines()).doesNotContain("lmstudio/mistral-7b (unavailable)");
    }

    @Test
    void aModelThatGoesAwayWhileItsConversationIsOpenStaysChosenAndUnavailable() {
        picker.offered(OFFERED);
        picker.conversationOpened(Optional.of("ollama/llama3.1:8b"));

        picker.offered(new ModelsResponse(List.of(new ModelInfo("parley-local", "Parley local (offline)")),
                "parley-local"));

        assertThat(picker.modelProperty().get()).isEqualTo("ollama/llama3.1:8b");
        assertThat(picker.unavailableProblem()).contains("ollama/llama3.1:8b");
        assertThat(lines()).containsExactly("# Not available now", "ollama/llama3.1:8b (unavailable)",
                "# Built in", "Parley local (offline)");
    }

    @Test
    void aHeadingIsNotAModel() {
        picker.offered(OFFERED);
        picker.choose(null);

        assertThat(picker.modelProperty().get()).isEqualTo("parley-local");
    }
}
