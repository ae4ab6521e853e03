package dev.parley.desktop.settings;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.desktop.files.WholeFile;
import dev.parley.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.LoggerFactory;

/**
 * Keys in {@code provider-keys.json} in the data directory, readable by its owner only (0600): for a machine with
 * no keyring. Written whole or not at all.
 */
final class KeyFile implements ProviderKeys {
    static final String NAME = "provider-keys.json";
    private static final ObjectMapper JSON = Json.newMapper();

    private final Path file;

    KeyFile(Path file) {
        this.file = file;
    }

    /** An unreadable file (a hand edit gone wrong) gives no key, with a warning; it is replaced at the next save. */
    @Override
    public synchronized Optional<String> get(String provider) {
        try {
            return Optional.ofNullable(read().get(provider));
        } catch (UncheckedIOException e) {
            LoggerFactory.getLogger(KeyFile.class).warn("{}", e.getMessage());
            return Optional.empty();
        }
    }

    @Override
    public synchronized void put(String provider, String key) {
        Map<String, String> keys = read();
        keys.put(provider, key);
        write(keys);
    }

    @Override
    public synchronized void remove(String provider) {
        Map<String, String> keys = read();
        if (keys.remove(provider) != null) {
            write(keys);
        }
    }

    @Override
    public String where() {
        return "a file only you can read (" + file.getFileName() + ")";
    }

    private Map<String, String> read() {
        if (!Files.exists(file)) {
            return new TreeMap<>();
        }
        try {
            return new TreeMap<>(JSON.readValue(file.toFile(), new TypeReference<Map<String, String>>() { }));
        } catch (IOException e) {
            throw new UncheckedIOException("the API keys in " + file + " cannot be read", e);
        }
    }

    private void write(Map<String, String> keys) {
        try {
            Files.createDirectories(file.getParent());
            WholeFile.write(file, JSON.writeValueAsString(keys)); // a temporary file: created 0600
            if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the API keys cannot be saved to " + file, e);
        }
    }

    @Override
    public String toString() {
        return "KeyFile[" + file + "]"; // never the keys
    }
}
