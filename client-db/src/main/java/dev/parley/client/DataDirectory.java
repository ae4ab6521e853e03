package dev.parley.client;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Where Parley keeps its files, following the platform: {@code $XDG_DATA_HOME/parley} (default
 * {@code ~/.local/share/parley}) on Linux, {@code %APPDATA%\Parley} on Windows, {@code ~/Library/Application
 * Support/Parley} on macOS. {@code PARLEY_DATA_DIR} overrides all of them.
 */
public final class DataDirectory {
    private DataDirectory() {
    }

    /** The data directory for this machine's platform and environment. */
    public static Path resolve() {
        return resolve(System.getProperty("os.name", ""), System.getenv(), Path.of(System.getProperty("user.home")));
    }

    static Path resolve(String osName, Map<String, String> env, Path home) {
        String override = env.get("PARLEY_DATA_DIR");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.startsWith("windows")) {
            String appData = env.get("APPDATA");
            return (appData == null ? home.resolve("AppData").resolve("Roaming") : Path.of(appData)).resolve("Parley");
        }
        if (os.startsWith("mac")) {
            return home.resolve("Library").resolve("Application Support").resolve("Parley");
        }
        String xdg = env.get("XDG_DATA_HOME");
        return (xdg == null || xdg.isBlank() ? home.resolve(".local").resolve("share") : Path.of(xdg)).resolve("parley");
    }
}
