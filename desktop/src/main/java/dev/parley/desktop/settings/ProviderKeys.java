package dev.parley.desktop.settings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
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
     * {@code mode} {@code "file"} ({@code PARLEY_KEYS=file}) chooses the file outright (a machine whose keyring
     * would prompt). With the keyring, a key a run without it kept in the file is still found there.
     */
    static ProviderKeys open(Path dataDir, String mode) {
        return open(dataDir, mode, KeyringKeys::open, KeyringKeys.ANSWER_WITHIN);
    }

    /** As {@link #open(Path, String)}, with the keyring {@code keyring} opens, waited for at most {@code wait}. */
    static ProviderKeys open(Path dataDir, String mode, Supplier<ProviderKeys> keyring, Duration wait) {
        Logger log = LoggerFactory.getLogger(ProviderKeys.class);
        KeyFile file = new KeyFile(dataDir.resolve(KeyFile.NAME));
        if ("file".equalsIgnoreCase(mode)) {
            return file;
        }
        CompletableFuture<ProviderKeys> opening = CompletableFuture.supplyAsync(keyring);
        try {
            return new KeyringFirst(opening.get(wait.toMillis(), TimeUnit.MILLISECONDS), file);
        } catch (ExecutionException e) {
            log.info("no system keyring ({}); API keys are kept in {}", e.getCause().getMessage(), file.where());
        } catch (TimeoutException e) {
            opening.cancel(true);
            log.warn("the system keyring did not answer within {} ms; API keys are kept in {} this time",
                    wait.toMillis(), file.where());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return file;
    }
}
