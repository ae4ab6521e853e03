package dev.parley.desktop.settings;

/**
 * What the user chose in Settings. Immutable.
 *
 * @param serverUrl    the server to use, or {@code null} for the embedded one
 * @param defaultModel the model preselected in the composer, or {@code null} for the server's default
 * @param dark         the dark theme instead of the light one
 */
public record Settings(String serverUrl, String defaultModel, boolean dark) {
    /** A first run: embedded server, the server's default model, light theme. */
    public static final Settings DEFAULTS = new Settings(null, null, false);

    public boolean embedded() {
        return serverUrl == null;
    }
}
