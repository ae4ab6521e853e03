package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.desktop.models.EmbeddedModels;
import dev.parley.desktop.models.LocalServers;
import dev.parley.desktop.models.ModelSetup;
import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.ProviderPreset;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The models section of Settings without a window: providers tested against a MockWebServer standing in for an
 * OpenAI-compatible API, added, saved (the key to the key store, never to the settings file) and removed.
 */
class ProvidersViewModelTest {
    private static final String KEY = "sk-or-v1-typed-in-settings-9034";
    private static final String MODELS = """
            {"data":[{"id":"openai/gpt-4o-mini","object":"model"},
                     {"id":"meta-llama/llama-3.1-8b-instruct","object":"model"}]}""";

    @TempDir
    Path dir;

    private final MockWebServer upstream = new MockWebServer();
    private final QueuedUi ui = new QueuedUi();
    private final List<EmbeddedModels.Built> used = new ArrayList<>();
    private final List<Settings> saved = new ArrayList<>();
    private ProviderKeys keys;
    private ModelSetup setup;

    @BeforeEach
    void start() throws IOException {
        upstream.start();
        keys = ProviderKeys.open(dir, "file");
    }

    @AfterEach
    void stop() {
        used.forEach(EmbeddedModels.Built::close);
        upstream.close();
    }

    /** Settings opened again and again in one run of the app: one setup, as the app has. */
    private SettingsViewModel open(Settings current) {
        if (setup == null) {
            LocalServers none = new LocalServers(List.of());
            setup = ModelSetup.embedded(keys, none, new EmbeddedModels(keys, Duration.ZERO), used::add);
        }
        return new SettingsViewModel(new SettingsStore(dir), ui, current, List.of(), dir, setup, saved::add);
    }

    private static MockResponse json(int code, String body) {
        return new MockResponse.Builder().code(code).addHeader("Content-Type", "application/json").body(body).build();
    }

    private void fill(ProvidersViewModel providers, String key) {
        providers.presetProperty().set(ProviderPreset.OPENROUTER);
        providers.baseUrlProperty().set(upstream.url("/api/v1").toString());
        providers.apiKeyProperty().set(key);
    }

    @Test
    void aGoodProviderIsTestedAddedAndSavedWithItsKeyOutsideTheSettingsFile() throws Exception {
        upstream.enqueue(json(200, MODELS));
        SettingsViewModel vm = open(Settings.DEFAULTS);
        ProvidersViewModel providers = vm.providers();
        fill(providers, KEY);
        assertThat(providers.nameProperty().get()).isEqualTo("openrouter");
        assertThat(providers.canAddProperty().get()).as("not tested yet").isFalse();

        providers.testConnection();

        assertThat(providers.testOkProperty().get()).isTrue();
        assertThat(providers.testResultProperty().get()).startsWith("Connected: 2 models")
                .contains("openai/gpt-4o-mini");
        RecordedRequest asked = upstream.takeRequest();
        assertThat(asked.getUrl().encodedPath()).isEqualTo("/api/v1/models");
        assertThat(asked.getHeaders().get("Authorization")).isEqualTo("Bearer " + KEY);
        providers.add();
        assertThat(providers.providers()).singleElement().satisfies(p -> {
            assertThat(p.name()).isEqualTo("openrouter");
            assertThat(p.models()).containsExactly("openai/gpt-4o-mini", "meta-llama/llama-3.1-8b-instruct");
        });
        assertThat(providers.apiKeyProperty().get()).as("the form forgets the key it added").isEmpty();

        vm.save();

        assertThat(vm.errorProperty().get()).isEmpty();
        assertThat(saved).hasSize(1);
        String file = Files.readString(dir.resolve("desktop-settings.json"));
        assertThat(file).contains("openrouter", "openai/gpt-4o-mini").doesNotContain(KEY);
        assertThat(keys.get("openrouter")).contains(KEY);
        assertThat(new SettingsStore(dir).load().providers()).hasSize(1);
        assertThat(used).as("the embedded server got the new models").hasSize(1);
        assertThat(used.get(0).provider().models()).extracting(ModelInfo::id)
                .startsWith("parley-local")
                .contains("openrouter/openai/gpt-4o-mini", "openrouter/meta-llama/llama-3.1-8b-instruct");
    }

    @Test
    void aRefusedKeyIsSaidInPlainWordsAndCannotBeAdded() {
        upstream.enqueue(json(401, "{\"error\":{\"message\":\"No auth credentials found\",\"code\":401}}"));
        ProvidersViewModel providers = open(Settings.DEFAULTS).providers();
        fill(providers, "sk-wrong-key-1234");

        providers.testConnection();

        assertThat(providers.testOkProperty().get()).isFalse();
        assertThat(providers.testResultProperty().get()).containsIgnoringCase("key")
                .doesNotContain("sk-wrong-key-1234");
        assertThat(providers.canAddProperty().get()).isFalse();
        providers.add();
        assertThat(providers.providers()).isEmpty();
    }

    @Test
    void anUnreachableProviderIsSaidInPlainWords() throws IOException {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        ProvidersViewModel providers = open(Settings.DEFAULTS).providers();
        providers.presetProperty().set(ProviderPreset.CUSTOM);
        providers.baseUrlProperty().set("http://127.0.0.1:" + closed + "/v1");

        providers.testConnection();

        assertThat(providers.testOkProperty().get()).isFalse();
        assertThat(providers.testResultProperty().get()).startsWith("Nothing answered at")
                .contains("127.0.0.1:" + closed).contains("is the server running?");
        assertThat(providers.canAddProperty().get()).isFalse();
    }

    @Test
    void aServerThatIsNotOpenAiCompatibleIsSaidInPlainWords() {
        upstream.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "text/html")
                .body("<html><body>Welcome to my blog</body></html>").build());
        ProvidersViewModel providers = open(Settings.DEFAULTS).providers();
        fill(providers, KEY);

        providers.testConnection();

        assertThat(providers.testOkProperty().get()).isFalse();
        assertThat(providers.testResultProperty().get()).contains("OpenAI-compatible");
        assertThat(providers.canAddProperty().get()).isFalse();
    }

    @Test
    void aPresetThatNeedsAKeyIsNotTestedWithoutOne() {
        ProvidersViewModel providers = open(Settings.DEFAULTS).providers();
        fill(providers, "  ");

        providers.testConnection();

        assertThat(providers.testResultProperty().get()).isEqualTo(
                "OpenRouter needs an API key: paste yours above, then test again.");
        assertThat(upstream.getRequestCount()).as("nothing was asked").isZero();
        assertThat(providers.canAddProperty().get()).isFalse();
    }

    @Test
    void savingWithNothingChangedLeavesTheServersModelsAlone() throws Exception {
        upstream.enqueue(json(200, MODELS));
        SettingsViewModel first = open(Settings.DEFAULTS);
        fill(first.providers(), KEY);
        first.providers().testConnection();
        first.providers().add();
        first.save();
        assertThat(used).hasSize(1);

        SettingsViewModel again = open(saved.get(0));
        again.darkProperty().set(true); // only the theme changes
        again.save();

        assertThat(used).as("no new set of models for a theme change").hasSize(1);
        assertThat(saved).hasSize(2);
    }

    @Test
    void savingBeforeTheLookForLocalServersEndedStillOffersThem() throws Exception {
        try (MockWebServer ollama = new MockWebServer()) {
            ollama.enqueue(json(200, "{\"data\":[{\"id\":\"llama3.1:8b\"}]}"));
            ollama.start();
            LocalServers local = new LocalServers(List.of(
                    new LocalServers.Candidate("ollama", "Ollama", ollama.url("/v1").toString())));
            ModelSetup setup = ModelSetup.embedded(keys, local, new EmbeddedModels(keys, Duration.ZERO),
                    used::add);
            // Settings opened, and saved before its look for local servers was made (findLocalServers not called).
            SettingsViewModel vm = new SettingsViewModel(new SettingsStore(dir), ui, Settings.DEFAULTS, List.of(),
                    dir, setup, saved::add);

            vm.save();

            assertThat(used.get(0).provider().models()).extracting(ModelInfo::id)
                    .containsExactly("parley-local", "ollama/llama3.1:8b");
        }
    }

    @Test
    void changingTheAddressAfterATestAsksForANewTest() {
        upstream.enqueue(json(200, MODELS));
        ProvidersViewModel providers = open(Settings.DEFAULTS).providers();
        fill(providers, KEY);
        providers.testConnection();
        assertThat(providers.canAddProperty().get()).isTrue();

        providers.baseUrlProperty().set(upstream.url("/other/v1").toString());

        assertThat(providers.canAddProperty().get()).isFalse();
        assertThat(providers.testResultProperty().get()).isEmpty();
    }

    @Test
    void aRemovedProviderLosesItsKeyAndItsModelsWhenSaved() throws Exception {
        upstream.enqueue(json(200, MODELS));
        SettingsViewModel first = open(Settings.DEFAULTS);
        fill(first.providers(), KEY);
        first.providers().testConnection();
        first.providers().add();
        first.save();
        Settings withProvider = saved.get(0);

        SettingsViewModel second = open(withProvider);
        second.providers().remove(second.providers().providers().get(0));
        second.save();

        assertThat(keys.get("openrouter")).isEmpty();
        assertThat(new SettingsStore(dir).load().providers()).isEmpty();
        assertThat(used.get(used.size() - 1).provider().models()).extracting(ModelInfo::id)
                .containsExactly("parley-local");
    }

    @Test
    void aNameTakenByALocalServerOrAnotherProviderIsRefused() {
        upstream.enqueue(json(200, MODELS));
        LocalServers ollama = new LocalServers(List.of(
                new LocalServers.Candidate("ollama", "Ollama", "http://127.0.0.1:9/v1")));
        ModelSetup setup = ModelSetup.embedded(keys, ollama, new EmbeddedModels(keys, Duration.ZERO),
                used::add);
        ProvidersViewModel providers = new ProvidersViewModel(setup, ui, List.of());
        fill(providers, KEY);
        providers.testConnection();
        providers.add();

        assertThat(providers.nameProblem("Ollama")).contains("local server");
        assertThat(providers.nameProblem("OpenRouter")).contains("already added");
        assertThat(providers.nameProblem("has space")).contains("1 to 40 letters");
        assertThat(providers.nameProperty().get()).as("the next one gets a free name").isEqualTo("openrouter-2");
    }

    @Test
    void aRemoteServersModelsAreTheServers() {
        SettingsViewModel vm = new SettingsViewModel(new SettingsStore(dir), ui,
                new Settings("https://parley.example.com", null, false), List.of("m"), dir, ModelSetup.remote(),
                saved::add);

        assertThat(vm.providers().embedded()).isFalse();
        vm.providers().findLocalServers();
        assertThat(vm.providers().localServers()).isEmpty();
        vm.save();
        assertThat(saved).hasSize(1);
        assertThat(used).isEmpty();
    }

    @Test
    void defaultParametersOutOfRangeAreRefusedInPlainWords() {
        SettingsViewModel vm = open(Settings.DEFAULTS);
        vm.temperatureProperty().set("2.5");
        assertThat(vm.validate()).contains("temperature is a number from 0 to 2");
        vm.temperatureProperty().set("0.7");
        vm.maxTokensProperty().set("0");
        assertThat(vm.validate()).contains("1 to 200,000");
        vm.maxTokensProperty().set("1024");

        vm.save();

        assertThat(saved.get(0).temperature()).isEqualTo(0.7);
        assertThat(saved.get(0).maxTokens()).isEqualTo(1024);
    }
}
