package dev.parley.desktop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.desktop.models.EmbeddedModels;
import dev.parley.desktop.models.LocalServers;
import dev.parley.desktop.models.ModelSetup;
import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.ProviderPreset;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.desktop.view.MainView;
import dev.parley.desktop.viewmodel.ModelPicker;
import dev.parley.protocol.Json;
import dev.parley.protocol.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.ListView;
import javafx.scene.input.KeyCode;
import javafx.stage.Stage;
import javafx.stage.Window;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testfx.api.FxRobot;
import org.testfx.framework.junit5.ApplicationExtension;
import org.testfx.framework.junit5.Start;
import org.testfx.util.WaitForAsyncUtils;

/**
 * The whole path a new user takes to a real model, headless: Settings → add an OpenAI-compatible provider (a
 * MockWebServer standing in for OpenRouter) → Test connection → Add → Save; the embedded server offers its models at
 * once, without a restart; pick one in the composer, give the conversation a system prompt and a temperature, chat.
 * The upstream receives the system prompt first and the parameters, and the reply shows.
 */
@ExtendWith(ApplicationExtension.class)
class ProvidersWindowTest {
    private static final String KEY = "sk-or-v1-window-test-key-6610";
    private static final ObjectMapper JSON = Json.newMapper();

    private final MockWebServer upstream = new MockWebServer();
    private final BlockingQueue<String> chatBodies = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> chatAuthorizations = new LinkedBlockingQueue<>();
    private Path dir;
    private EmbeddedServer embedded;
    private ChatClient client;
    private FxUiExecutor ui;

    @Start
    void start(Stage stage) throws Exception {
        upstream.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                String path = request.getUrl().encodedPath();
                if (path.endsWith("/models")) {
                    return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
                            .body("{\"data\":[{\"id\":\"openai/gpt-4o-mini\"},{\"id\":\"anthropic/claude-3.5-haiku\"}]}")
                            .build();
                }
                String body = request.getBody() == null ? "" : request.getBody().utf8();
                chatBodies.add(body);
                chatAuthorizations.add(String.valueOf(request.getHeaders().get("Authorization")));
                return new MockResponse.Builder().code(200).addHeader("Content-Type", "text/event-stream")
                        .body(streamed("Bonjour", " from the provider."))
                        .build();
            }
        });
        upstream.start();
        dir = Files.createTempDirectory("parley-providers-ui");
        ProviderKeys keys = ProviderKeys.open(dir, "file");
        LocalServers none = new LocalServers(List.of());
        EmbeddedModels models = new EmbeddedModels(keys, Duration.ZERO);
        embedded = EmbeddedServer.start(dir, models.build(Settings.DEFAULTS, List.of()));
        ModelSetup setup = ModelSetup.embedded(keys, none, models, embedded::useModels);
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), embedded.url())
                .launchSecret(embedded.launchSecret())
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200)).build());
        ui = new FxUiExecutor();
        ParleyDesktop.show(stage, client, ui, "test", new SettingsStore(dir), Settings.DEFAULTS, setup,
                MainView.ExportTarget.fileChooser());
    }

    private static String streamed(String... pieces) {
        StringBuilder sse = new StringBuilder();
        for (String piece : pieces) {
            sse.append("data: {\"id\":\"gen-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":")
                    .append(quoted(piece)).append("},\"finish_reason\":null}]}\n\n");
        }
        sse.append("data: {\"id\":\"gen-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        sse.append("data: {\"id\":\"gen-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":6,"
                + "\"total_tokens\":27}}\n\n");
        sse.append("data: [DONE]\n\n");
        return sse.toString();
    }

    private static String quoted(String text) {
        try {
            return JSON.writeValueAsString(text);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void stop() {
        ui.close();
        client.close();
        embedded.close();
        upstream.close();
    }

    @Test
    void aProviderAddedInSettingsIsPickedAndChattedWithWithoutARestart(FxRobot robot) throws Exception {
        robot.clickOn("#settings");
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#providerUrl").tryQuery().isPresent());
        robot.interact(() -> {
            ComboBox<ProviderPreset> preset = robot.lookup("#providerPreset").queryComboBox();
            preset.setValue(ProviderPreset.OPENROUTER);
        });
        robot.interact(() -> robot.lookup("#providerUrl").queryTextInputControl()
                .setText(upstream.url("/api/v1").toString()));
        robot.clickOn("#providerKey").write(KEY);
        robot.clickOn("#providerTest");
        Button add = robot.lookup("#providerAdd").queryButton();
        WaitForAsyncUtils.waitFor(15, TimeUnit.SECONDS, () -> !add.isDisabled());
        assertThat(robot.lookup("#providerTestResult").queryLabeled().getText()).startsWith("Connected: 2 models");
        robot.clickOn(add);
        robot.clickOn("#settingsSave");
        WaitForAsyncUtils.waitFor(15, TimeUnit.SECONDS,
                () -> Window.getWindows().stream().noneMatch(w -> "Settings".equals(((Stage) w).getTitle())));

        ComboBox<ModelPicker.Choice> model = robot.lookup("#model").queryComboBox();
        WaitForAsyncUtils.waitFor(15, TimeUnit.SECONDS, () -> model.getItems().stream()
                .anyMatch(c -> "openrouter/openai/gpt-4o-mini".equals(c.id())));
        assertThat(model.getItems()).anySatisfy(c -> {
            assertThat(c.heading()).isTrue();
            assertThat(c.label()).isEqualTo("OpenRouter");
        });
        robot.interact(() -> model.setValue(model.getItems().stream()
                .filter(c -> "openrouter/openai/gpt-4o-mini".equals(c.id())).findFirst().orElseThrow()));

        robot.clickOn("#composer").write("Say hello").type(KeyCode.ENTER);
        ListView<LocalMessage> messages = robot.lookup("#messages").queryListView();
        WaitForAsyncUtils.waitFor(20, TimeUnit.SECONDS, () -> messages.getItems().size() == 2
                && "Bonjour from the provider.".equals(messages.getItems().get(1).message().content())
                && !messages.getItems().get(1).unfinished());
        assertThat(messages.getItems().get(1).message().model()).isEqualTo("openrouter/openai/gpt-4o-mini");
        JsonNode first = JSON.readTree(chatBodies.poll(10, TimeUnit.SECONDS));
        assertThat(first.get("model").asText()).as("the upstream sees its own model id")
                .isEqualTo("openai/gpt-4o-mini");
        assertThat(chatAuthorizations.poll(10, TimeUnit.SECONDS)).as("the chat call carries the key")
                .isEqualTo("Bearer " + KEY);

        // This conversation's own settings: a system prompt and a temperature, then another message.
        robot.clickOn("#chatSettings");
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS,
                () -> robot.lookup("#chatSystemPrompt").tryQuery().isPresent()
                        && !robot.lookup("#chatSettingsSave").queryButton().isDisabled());
        robot.clickOn("#chatSystemPrompt").write("Answer in French.");
        robot.clickOn("#chatTemperature").write("0.3");
        robot.clickOn("#chatSettingsSave");
        WaitForAsyncUtils.waitFor(10, TimeUnit.SECONDS, () -> robot.lookup("#chatSystemPrompt").tryQuery().isEmpty());

        robot.clickOn("#composer").write("Again").type(KeyCode.ENTER);
        JsonNode second = JSON.readTree(chatBodies.poll(20, TimeUnit.SECONDS));
        assertThat(second.get("messages").get(0).get("role").asText()).isEqualTo(Role.SYSTEM.wire());
        assertThat(second.get("messages").get(0).get("content").asText()).isEqualTo("Answer in French.");
        assertThat(second.get("temperature").asDouble()).isEqualTo(0.3);
        WaitForAsyncUtils.waitFor(20, TimeUnit.SECONDS, () -> messages.getItems().size() == 4
                && !messages.getItems().get(3).unfinished());
    }
}
