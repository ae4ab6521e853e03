package dev.parley.desktop.settings;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.desktop.files.WholeFile;
import dev.parley.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The settings file, {@code desktop-settings.json} in the data directory. A missing file means the defaults; an
 * unreadable one also gives the defaults but is left alone on disk until the user saves new settings, so a hand
 * edit gone wrong loses nothing. Writes replace the file atomically. Safe to call from any one thread at a time.
 */
public final class SettingsStore {
    private static final Logger LOG = LoggerFactory.getLogger(SettingsStore.class);
    private static final ObjectMapper JSON = Json.newMapper();

    private final Path file;

    public SettingsStore(Path dataDir) {
        this.file = dataDir.resolve("desktop-settings.json");
    }

    public Path file() {
        return file;
    }

    /** The saved settings, or {@link Settings#DEFAULTS} when there are none or they cannot be read. */
    public Settings load() {
        if (!Files.exists(file)) {
            return Settings.DEFAULTS;
        }
        try {
            Settings read = JSON.readValue(file.toFile(), Settings.class);
            return read == null ? Settings.DEFAULTS : read;
        } catch (JacksonException e) {
            LOG.warn("ignoring the unreadable settings file {}: {}", file, e.getOriginalMessage());
            return Settings.DEFAULTS;
        } catch (IOException e) {
            LOG.warn("cannot read the settings file {}", file, e);
            return Settings.DEFAULTS;
        }
    }

    public void save(Settings settings) {
        try {
            Files.createDirectories(file.getParent());
            WholeFile.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(settings));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the settings to " + file, e);
        }
    }
}
