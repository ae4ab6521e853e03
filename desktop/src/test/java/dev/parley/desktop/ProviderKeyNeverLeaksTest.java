package dev.parley.desktop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalSession;
import dev.parley.desktop.export.ConversationExport;
import dev.parley.desktop.models.EmbeddedModels;
import dev.parley.desktop.models.LocalServers;
import dev.parley.desktop.models.ModelSetup;
import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.ProviderPreset;
import dev.parley.desktop.settings.ProviderSettings;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An API key typed into Settings goes to the key store and to the provider, and nowhere else: not to the log (a
 * refused key, a test, a reconfiguration, a chat), not to {@code desktop-settings.json}, not to any other file of
 * the data directory but the owner-only key file, not to an export.
 */
class ProviderKeyNeverLeaksTest {
    private static final String KEY = "sk-or-v1-never-shown-anywhere-2718";

    @TempDir
    Path dir;

    @Test
    void theKeyReachesTheKeyStoreAndTheProviderOnly() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (MockWebServer upstream = new MockWebServer()) {
            upstream.enqueue(json(401, "{\"error\":{\"message\":\"Invalid API key\"}}")); // the first test
            upstream.enqueue(json(200, "{\"data\":[{\"id\":\"openai/gpt-4o-mini\"}]}")); // the test after a fix
            upstream.enqueue(json(401, "{\"error\":{\"message\":\"Key revoked\"}}")); // the first chat
            upstream.enqueue(json(200, """
                    {"id":"gen-1","choices":[{"index":0,"finish_reason":"stop",
                      "message":{"role":"assistant","content":"Hello."}}],
                     "usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"""));
            upstream.start();
            Path data = dir.resolve("data");
            ProviderKeys keys = ProviderKeys.open(data, "file");
            LocalServers none = new LocalServers(List.of());
            EmbeddedModels models = new EmbeddedModels(keys, Duration.ZERO);
            String base = upstream.url("/api/v1").toString();
            ModelSetup setup;
            try (EmbeddedServer server = EmbeddedServer.start(data, models.build(Settings.DEFAULTS, List.of()));
                 ChatClient client = ChatClient.open(ClientConfig.builder(data, server.url())
                         .launchSecret(server.launchSecret()).build())) {
                setup = ModelSetup.embedded(keys, none, models, server::useModels);
                assertThat(setup.check(base, "sk-a-wrong-one").ok()).isFalse();
                assertThat(setup.check(base, KEY).ok()).isTrue();
                Settings settings = new Settings(null, null, false, List.of(new ProviderSettings("openrouter",
                        ProviderPreset.OPENROUTER, base, List.of("openai/gpt-4o-mini"))), null, null);
                setup.saveKeys(java.util.Map.of("openrouter", KEY), List.of());
                new SettingsStore(data).save(settings);
                assertThat(setup.apply(settings, List.of(), true)).isEmpty();

                LocalSession session = client.newSession("Keys");
                client.send(session.id(), "Hi", "openrouter/openai/gpt-4o-mini").outcome().get(20, TimeUnit.SECONDS);
                client.retry(client.messages(session.id()).get(0).id()).outcome().get(20, TimeUnit.SECONDS);
                assertThat(client.messages(session.id())).hasSize(2);
                for (ConversationExport.Format format : ConversationExport.Format.values()) {
                    assertThat(ConversationExport.render(format, client.session(session.id()).orElseThrow(),
                            client.messages(session.id()), Instant.now(), ZoneOffset.UTC)).doesNotContain(KEY);
                }
            }
            for (int i = 0; i < 4; i++) {
                String auth = upstream.takeRequest().getHeaders().get("Authorization");
                assertThat(auth).isIn("Bearer sk-a-wrong-one", "Bearer " + KEY);
            }
            try (Stream<Path> files = Files.walk(data)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    if (file.getFileName().toString().equals("provider-keys.json")) {
                        continue;
                    }
                    assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1))
                            .as("%s", file).doesNotContain(KEY);
                }
            }
            assertThat(Files.readString(data.resolve("provider-keys.json"))).contains(KEY);
        } finally {
            System.setErr(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertThat(log).as("the server logged the refused calls").contains("openrouter");
        assertThat(log).doesNotContain(KEY).doesNotContain("sk-a-wrong-one");
    }

    private static MockResponse json(int code, String body) {
        return new MockResponse.Builder().code(code).addHeader("Content-Type", "application/json").body(body).build();
    }
}
