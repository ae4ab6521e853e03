package dev.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StorableTextTest {
    @Test
    void wellFormedTextIsKeptAsIs() {
        String text = "plain, emoji 😀, flags 🇵🇹, CJK 漢字";

        assertThat(StorableText.of(text)).isSameAs(text);
    }

    @Test
    void unpairedSurrogatesAndNulBecomeReplacementCharacters() {
        assertThat(StorableText.of("cut \ud83d here")).isEqualTo("cut \ufffd here");
        assertThat(StorableText.of("\ude00 first")).isEqualTo("\ufffd first");
        assertThat(StorableText.of("ends \ud83d")).isEqualTo("ends \ufffd");
        assertThat(StorableText.of("nul\u0000byte 😀")).isEqualTo("nul\ufffdbyte 😀");
    }
}
