package dev.parley.desktop.settings;

/** The kinds of OpenAI-compatible provider Settings offers, with the base URL and name each starts with. */
public enum ProviderPreset {
    OPENROUTER("OpenRouter", "openrouter", "https://openrouter.ai/api/v1", true),
    OPENAI("OpenAI", "openai", "https://api.openai.com/v1", true),
    GROQ("Groq", "groq", "https://api.groq.com/openai/v1", true),
    CUSTOM("Other OpenAI-compatible server", "custom", "", false);

    private final String label;
    private final String defaultName;
    private final String baseUrl;
    private final boolean needsKey;

    ProviderPreset(String label, String defaultName, String baseUrl, boolean needsKey) {
        this.label = label;
        this.defaultName = defaultName;
        this.baseUrl = baseUrl;
        this.needsKey = needsKey;
    }

    public String label() {
        return label;
    }

    /** The name its models are listed under unless the user picks another. */
    public String defaultName() {
        return defaultName;
    }

    /** The API root; empty for {@link #CUSTOM}, whose URL the user types. */
    public String baseUrl() {
        return baseUrl;
    }

    /** Whether the provider refuses calls without an API key (a custom server may need none). */
    public boolean needsKey() {
        return needsKey;
    }

    @Override
    public String toString() {
        return label;
    }
}
