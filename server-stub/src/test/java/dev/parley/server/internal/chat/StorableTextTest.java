package dev.parley.server.internal.chat;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StorableTextTest {
    @Test
    void wellFormedTextIsKeptAsIs() {
        String text = "plain, emoji 😀, flags 🇵🇹, CJK 漢字";

        assertThat(ExchangeWriter.storable(text)).isSameAs(text);
    }

    @Test
    void unpairedSurrogatesAndNulBecomeReplacementCharacters() {
        assertThat(ExchangeWriter.storable("cut \ud83d here")).isEqualTo("cut \ufffd here");
        assertThat(ExchangeWriter.storable("\ude00 first")).isEqualTo("\ufffd first");
        assertThat(ExchangeWriter.storable("ends \ud83d")).isEqualTo("ends \ufffd");
        assertThat(ExchangeWriter.storable("nul\u0000byte 😀")).isEqualTo("nul\ufffdbyte 😀");
    }
}
