package dev.parley.server.internal.chat;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StorableTextTest {
    @Test
    void wellFormedTextIsKeptAsIs() {
        String text = "plain, emoji 😀, flags 🇵🇹, CJK 漢字";

        assertThat(ChatService.storable(text)).isSameAs(text);
    }

    @Test
    void unpairedSurrogatesAndNulBecomeReplacementCharacters() {
        assertThat(ChatService.storable("cut \ud83d here")).isEqualTo("cut \ufffd here");
        assertThat(ChatService.storable("\ude00 first")).isEqualTo("\ufffd first");
        assertThat(ChatService.storable("ends \ud83d")).isEqualTo("ends \ufffd");
        assertThat(ChatService.storable("nul\u0000byte 😀")).isEqualTo("nul\ufffdbyte 😀");
    }
}
