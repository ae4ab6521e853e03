package dev.parley.desktop.settings;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
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
        ProviderKeys keys = ProviderKeys.open(dir, null, () -> {
            throw new IllegalStateException("no usable keyring: No available keyring backend found");
        }, Duration.ofSeconds(5));

        keys.put("custom", KEY);

        assertThat(keys.where()).isEqualTo("a file only you can read (provider-keys.json)");
        assertThat(ProviderKeys.open(dir, "file").get("custom")).contains(KEY);
    }

    @Test
    void aKeyringThatDoesNotAnswerInTimeLeavesTheKeysInTheFile() {
        CountDownLatch never = new CountDownLatch(1);
        ProviderKeys keys = ProviderKeys.open(dir, null, () -> {
            try {
                never.await(); // a keyring waiting for an unlock prompt nobody answers
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("interrupted");
        }, Duration.ofMillis(200));

        keys.put("groq", KEY);

        assertThat(keys.where()).contains("provider-keys.json");
        assertThat(ProviderKeys.open(dir, "file").get("groq")).contains(KEY);
    }

    @Test
    void withAKeyringAKeyTheFileHeldIsStillFoundAndMovesToTheKeyringWhenSavedAgain() {
        ProviderKeys.open(dir, "file").put("openrouter", "sk-kept-while-there-was-no-keyring");
        MemoryKeyring keyring = new MemoryKeyring();
        ProviderKeys keys = ProviderKeys.open(dir, null, () -> keyring, Duration.ofSeconds(5));

        assertThat(keys.where()).isEqualTo("the system keyring");
        assertThat(keys.get("openrouter")).contains("sk-kept-while-there-was-no-keyring");

        keys.put("openrouter", KEY);

        assertThat(keyring.keys).containsEntry("openrouter", KEY);
        assertThat(ProviderKeys.open(dir, "file").get("openrouter")).as("no copy left in the file").isEmpty();
        keys.remove("openrouter");
        assertThat(keys.get("openrouter")).isEmpty();
    }

    /** A keyring in memory: the test never touches the real one of the machine it runs on. */
    private static final class MemoryKeyring implements ProviderKeys {
        final Map<String, String> keys = new ConcurrentHashMap<>();

        @Override
        public Optional<String> get(String provider) {
            return Optional.ofNullable(keys.get(provider));
        }

        @Override
        public void put(String provider, String key) {
            keys.put(provider, key);
        }

        @Override
        public void remove(String provider) {
            keys.remove(provider);
        }

        @Override
        public String where() {
            return "the system keyring";
        }
    }
}
