package dev.parley.desktop.settings;

import com.github.javakeyring.BackendNotSupportedException;
import com.github.javakeyring.Keyring;
import com.github.javakeyring.PasswordAccessException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/** Keys in the operating system's keyring (Secret Service, KWallet, macOS Keychain, Windows Credential Manager). */
final class KeyringKeys implements ProviderKeys {
    static final Duration ANSWER_WITHIN = Duration.ofSeconds(3);
    private static final String SERVICE = "Parley";

    private final Keyring keyring;

    private KeyringKeys(Keyring keyring) {
        this.keyring = keyring;
    }

    /** @throws IllegalStateException when this machine has no keyring Parley can use */
    static KeyringKeys open() {
        try {
            Keyring keyring = Keyring.create();
            try {
                keyring.getPassword(SERVICE, account("probe")); // a keyring that is there but locked fails here
            } catch (PasswordAccessException absent) {
                // answered: there is simply no such entry
            }
            return new KeyringKeys(keyring);
        } catch (BackendNotSupportedException | RuntimeException e) {
            throw new IllegalStateException("no usable keyring: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized Optional<String> get(String provider) {
        try {
            return Optional.ofNullable(keyring.getPassword(SERVICE, account(provider)));
        } catch (PasswordAccessException e) {
            return Optional.empty(); // no entry
        } catch (RuntimeException e) {
            // A keyring that stopped answering (its daemon went away): the provider is called without a key, and
            // says so, rather than the app failing.
            LoggerFactory.getLogger(KeyringKeys.class).warn("the system keyring could not be read for {}: {}",
                    provider, e.toString());
            return Optional.empty();
        }
    }

    @Override
    public synchronized void put(String provider, String key) {
        try {
            keyring.setPassword(SERVICE, account(provider), key);
        } catch (PasswordAccessException e) {
            throw new IllegalStateException("the system keyring refused to keep the key of " + provider, e);
        }
    }

    @Override
    public synchronized void remove(String provider) {
        try {
            keyring.deletePassword(SERVICE, account(provider));
        } catch (PasswordAccessException e) {
            // none was kept
        }
    }

    @Override
    public String where() {
        return "the system keyring";
    }

    private static String account(String provider) {
        return "provider:" + provider;
    }
}
