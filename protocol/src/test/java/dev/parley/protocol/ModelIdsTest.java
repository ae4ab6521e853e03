package dev.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Model ids are 1 to 200 characters of letters, digits and ._:/@+- (the ids real providers use). */
class ModelIdsTest {

    @ParameterizedTest
    @ValueSource(strings = {"parley-local", "openai/gpt-4o-mini", "llama3.1:8b", "meta-llama/llama-3.1-8b-instruct",
            "anthropic/claude-3.5-sonnet:beta", "qwen2.5-coder:7b-instruct-q4_K_M", "org@model+v2"})
    void acceptsTheIdsOfRealProviders(String id) {
        assertThat(ModelIds.isValid(id)).isTrue();
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" gpt-4o", "gpt-4o ", "gpt 4o", "gpt-4o\n", "gpt\t4o", "gpt-4o,mini", "gpt-4o\u00a0"})
    void rejectsEmptyIdsAndIdsWithWhitespaceOrCommas(String id) {
        assertThat(ModelIds.isValid(id)).isFalse();
    }

    @Test
    void acceptsAnIdOfExactlyTheLimitAndRejectsOneMore() {
        assertThat(ModelIds.isValid("m".repeat(Limits.MAX_MODEL_CHARS))).isTrue();
        assertThat(ModelIds.isValid("m".repeat(Limits.MAX_MODEL_CHARS + 1))).isFalse();
    }

    @Test
    void ruleNamesTheLimit() {
        assertThat(ModelIds.RULE).contains(Integer.toString(Limits.MAX_MODEL_CHARS));
    }
}
