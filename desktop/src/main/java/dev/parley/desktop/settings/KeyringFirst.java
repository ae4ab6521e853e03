package dev.parley.desktop.settings;

import java.util.Optional;

/**
 * The keyring, with the key file behind it: a key is read from the keyring, else from the file (where a run that
 * had no keyring kept it); a key saved now goes to the keyring and leaves the file, and a removed one leaves both.
 */
final class KeyringFirst implements ProviderKeys {
    private final ProviderKeys keyring;
    private final ProviderKeys file;

    KeyringFirst(ProviderKeys keyring, ProviderKeys file) {
        this.keyring = keyring;
        this.file = file;
    }

    @Override
    public Optional<String> get(String provider) {
        Optional<String> key = keyring.get(provider);
        return key.isPresent() ? key : file.get(provider);
    }

    @Override
    public void put(String provider, String key) {
        keyring.put(provider, key);
        file.remove(provider);
    }

    @Override
    public void remove(String provider) {
        keyring.remove(provider);
        file.remove(provider);
    }

    @Override
    public String where() {
        return keyring.where();
    }
}
