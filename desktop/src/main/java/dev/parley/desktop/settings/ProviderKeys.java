package dev.parley.desktop.settings;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the API keys of the user's providers are kept, by provider name: the operating system's keyring where one
 * answers, else an owner-only file in the data directory. Keys are never in the settings file, never logged and
 * never exported; only the embedded server reads them, to call the provider. Implementations are thread-safe and
 * block on I/O: call them off the FX thread.
 */
public interface ProviderKeys {

    /** The key saved for {@code provider}, or empty when there is none. */
    Optional<String> get(String provider);

    /** Saves {@code key} for {@code provider}, replacing any earlier one. */
    void put(String provider, String key);

    /** Forgets the key of {@code provider}; nothing when there is none. */
    void remove(String provider);

    /** Where the keys are, in words for Settings ("the system keyring"). */
    String where();

    /**
     * The system keyring when it answers within a few seconds, else {@code provider-keys.json} in {@code dataDir}.
     * {@code PARLEY_KEYS=file} in {@code mode} chooses the file outright (a machine whose keyring would prompt).
     */
    static ProviderKeys open(Path dataDir, String mode) {
        Logger log = LoggerFactory.getLogger(ProviderKeys.class);
        if (!"file".equalsIgnoreCase(mode)) {
            CompletableFuture<ProviderKeys> keyring = CompletableFuture.supplyAsync(KeyringKeys::open);
            try {
                return keyring.get(KeyringKeys.ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                log.info("no system keyring ({}); API keys are kept in an owner-only file", e.getCause().toString());
            } catch (TimeoutException e) {
                log.info("the system keyring did not answer within {} s; API keys are kept in an owner-only file",
                        KeyringKeys.ANSWER_WITHIN.toSeconds());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new KeyFile(dataDir.resolve(KeyFile.NAME));
    }
}
