package dev.parley.desktop.settings;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The owner-only key file: what a machine without a keyring keeps API keys in. */
class ProviderKeysTest {
    private static final String KEY = "sk-or-v1-a-key-nobody-sees-5521";

    @TempDir
    Path dir;

    @Test
    void keysAreKeptReadBackAndForgottenInAnOwnerOnlyFile() throws Exception {
        ProviderKeys keys = ProviderKeys.open(dir, "file");

        keys.put("openrouter", KEY);
        keys.put("groq", "gsk-second");

        Path file = dir.resolve("provider-keys.json");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        ProviderKeys reopened = ProviderKeys.open(dir, "file");
        assertThat(reopened.get("openrouter")).contains(KEY);
        assertThat(reopened.get("groq")).contains("gsk-second");
        assertThat(reopened.get("openai")).isEmpty();

        reopened.remove("openrouter");
        assertThat(ProviderKeys.open(dir, "file").get("openrouter")).isEmpty();
        assertThat(Files.readString(file)).doesNotContain(KEY).contains("gsk-second");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(keys.toString()).doesNotContain("gsk-second");
        assertThat(keys.where()).contains("only you can read");
    }

    @Test
    void withoutAKeyringTheFileIsUsed() {
        // This machine (and CI) runs no Secret Service: opening falls back to the file, quickly, without failing.
        ProviderKeys keys = ProviderKeys.open(dir, null);

        keys.put("custom", KEY);

        assertThat(keys.get("custom")).contains(KEY);
        assertThat(keys.where()).isIn("the system keyring", "a file only you can read (provider-keys.json)");
    }
}
