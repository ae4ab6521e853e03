package dev.parley.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * The model provider options of {@code parley server}: {@code --provider} (repeatable) and the local model's. Each
 * {@link Main#run} here also gives {@code --port 70000}, which the configuration refuses (exit 2) right after the
 * provider is made, so no server starts even if a check under test let the options through; the message then names
 * {@code --port} instead.
 */
class ProviderOptionsTest {
    private static final String MODEL_LIST = "{\"object\":\"list\",\"data\":[{\"id\":\"llama3.1:8b\"},"
            + "{\"id\":\"qwen2.5:7b\"}]}";

    private final MockWebServer upstream = new MockWebServer();

    @BeforeEach
    void start() throws IOException {
        upstream.start();
    }

    @AfterEach
    void stop() {
        upstream.close();
    }

    /** The {@code server} command parsed from {@code args}, reading API keys from {@code environment}. */
    private static Main.Serve serve(Map<String, String> environment, String... args) {
        Main.Serve serve = new Main.Serve();
        new CommandLine(serve).parseArgs(args);
        serve.environment = environment::get;
        return serve;
    }

    @Test
    void repeatedProviderCombinesTheUpstreamsModelsAndTheLocalModel() throws Exception {
        upstream.enqueue(new MockResponse.Builder().code(200).body(MODEL_LIST).build());
        String url = upstream.url("/v1").toString();

        ModelProvider provider = serve(Map.of("PARLEY_OLLAMA_API_KEY", "ollama-secret-key-1234"),
                "--provider", "ollama=" + url, "--provider", "local").provider();

        assertThat(provider.models()).extracting(ModelInfo::id)
                .containsExactly("ollama/llama3.1:8b", "ollama/qwen2.5:7b", "local/parley-local");
        assertThat(provider.defaultModel()).isEqualTo("ollama/llama3.1:8b");
        RecordedRequest listed = upstream.takeRequest(1, TimeUnit.SECONDS);
        assertThat(listed.getUrl().encodedPath()).isEqualTo("/v1/models");
        assertThat(listed.getHeaders().get("Authorization")).isEqualTo("Bearer ollama-secret-key-1234");
    }

    @Test
    void keyVariableFollowsTheProviderName() throws Exception {
        upstream.enqueue(new MockResponse.Builder().code(200).body(MODEL_LIST).build());

        serve(Map.of("PARLEY_MY_LLM_API_KEY", "my-llm-secret-key-5678", "PARLEY_MODEL_API_KEY", "not-this-one"),
                "--provider", "my-llm=" + upstream.url("/v1")).provider();

        assertThat(upstream.takeRequest(1, TimeUnit.SECONDS).getHeaders().get("Authorization"))
                .isEqualTo("Bearer my-llm-secret-key-5678");
    }

    @Test
    void localModelOptionsReachTheLocalProviderOfProvider() throws Exception {
        ModelProvider provider = serve(Map.of(), "--provider", "local", "--local-model-token-ms", "25")
                .provider();
        List<Long> arrivals = new CopyOnWriteArrayList<>();

        provider.stream(new CompletionRequest("local/parley-local", List.of(new ContextMessage(Role.USER, "hi"))),
                piece -> arrivals.add(System.nanoTime())).result().get(30, TimeUnit.SECONDS);

        assertThat(arrivals).hasSizeGreaterThan(2);
        assertThat(Duration.ofNanos(arrivals.get(1) - arrivals.get(0))).isGreaterThanOrEqualTo(Duration.ofMillis(25));
    }

    @Test
    void refusedKeyNamesTheProvidersVariable() {
        upstream.enqueue(new MockResponse.Builder().code(401).body("{\"error\":{\"message\":\"bad key\"}}").build());
        String url = upstream.url("/v1").toString();

        assertThatThrownBy(() -> serve(Map.of("PARLEY_OLLAMA_API_KEY", "ollama-secret-key-1234"),
                "--provider", "ollama=" + url).provider())
                .isInstanceOf(ModelException.class)
                .hasMessage("--provider ollama: the model provider at " + url + " refused the API key (HTTP 401 to"
                        + " GET /models); check PARLEY_OLLAMA_API_KEY");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ollama|--provider 'ollama' must be NAME=BASE_URL",
        "=http://127.0.0.1:9/v1|--provider: '' is not a provider name",
        "my llm=http://127.0.0.1:9/v1|--provider: 'my llm' is not a provider name",
        "ollama.local=http://127.0.0.1:9/v1|--provider: 'ollama.local' is not a provider name",
        "local=http://127.0.0.1:9/v1|--provider local=http://127.0.0.1:9/v1: the name local is the built-in",
        "ollama=|--provider ollama= needs the server's base URL",
        "ollama=ftp://127.0.0.1/v1|the base URL of --provider ollama must be an http:// or https:// URL",
        "a=http://127.0.0.1:9/v1,a=http://127.0.0.1:10/v1|--provider names 'a' twice",
        "local,local|--provider names 'local' twice",
        "my-llm=http://127.0.0.1:9/v1,my_llm=http://127.0.0.1:10/v1|--provider names 'my-llm' and 'my_llm', which"
                + " would share the API key variable PARLEY_MY_LLM_API_KEY",
        "Ollama=http://127.0.0.1:9/v1,ollama=http://127.0.0.1:10/v1|--provider names 'Ollama' and 'ollama'"
    })
    void badProviderIsRefusedAtStartNamingTheOption(String values, String message) {
        List<String> args = new ArrayList<>(List.of("server"));
        for (String value : values.split(",")) {
            args.add("--provider");
            args.add(value);
        }
        args.addAll(List.of("--port", "70000"));
        StringBuilder err = new StringBuilder();

        int exit = standardErrorOf(err, () -> Main.run(args.toArray(String[]::new)));

        assertThat(exit).as("exit code for %s", values).isEqualTo(2);
        assertThat(err.toString()).as("for %s", values).startsWith("parley server: " + message);
    }

    @Test
    void namesAreCheckedBeforeAnyUpstreamIsAsked() {
        upstream.enqueue(new MockResponse.Builder().code(200).body(MODEL_LIST).build());
        StringBuilder err = new StringBuilder();

        int exit = standardErrorOf(err, () -> Main.run("server", "--provider", "ollama=" + upstream.url("/v1"),
                "--provider", "bad name=http://127.0.0.1:9/v1", "--port", "70000"));

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("'bad name' is not a provider name");
        assertThat(upstream.getRequestCount()).isZero();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--model-base-url|http://127.0.0.1:9/v1",
        "--models|llama3.1:8b",
        "--model-provider|local"
    })
    void providerIsNotCombinedWithTheSingleProviderOptions(String option, String value) {
        StringBuilder err = new StringBuilder();

        int exit = standardErrorOf(err, () -> Main.run("server", "--provider", "local", option, value, "--port",
                "70000"));

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).startsWith("parley server: --provider cannot be combined with --model-provider,"
                + " --model-base-url or --models");
    }

    @Test
    void validProvidersReachTheNextCheck() {
        upstream.enqueue(new MockResponse.Builder().code(200).body(MODEL_LIST).build());
        StringBuilder err = new StringBuilder();

        int exit = standardErrorOf(err, () -> Main.run("server", "--provider", "ollama=" + upstream.url("/v1"),
                "--provider", "local", "--port", "70000"));

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).as("the providers were made; the port is what stops the start")
                .contains("parley server: --port must be 0 to 65535").doesNotContain("--provider");
        assertThat(upstream.getRequestCount()).isEqualTo(1);
    }

    @Test
    void unreachableUpstreamStopsTheStartNamingItsProvider() throws Exception {
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + deadPort + "/v1";
        StringBuilder err = new StringBuilder();

        int exit = standardErrorOf(err, () -> Main.run("server", "--provider", "local", "--provider", "dead=" + url,
                "--port", "70000"));

        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).startsWith("parley server: could not start: --provider dead: cannot reach the"
                + " model provider at " + url).contains("check the base URL of --provider dead")
                .doesNotContain("--models");
    }

    @Test
    void negativeTokenDelayIsRefusedNamingTheOption() {
        StringBuilder err = new StringBuilder();

        int exit = standardErrorOf(err, () -> Main.run("server", "--local-model-token-ms", "-1", "--port", "70000"));

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).startsWith("parley server: --local-model-token-ms must be >= 0");
    }

    @Test
    void singleProviderOptionsStillChooseTheProvider() throws Exception {
        upstream.enqueue(new MockResponse.Builder().code(200).body(MODEL_LIST).build());

        ModelProvider openai = serve(Map.of("PARLEY_MODEL_API_KEY", "single-secret-key-9999"), "--model-provider",
                "openai", "--model-base-url", upstream.url("/v1").toString()).provider();
        ModelProvider local = serve(Map.of()).provider();

        assertThat(openai.models()).extracting(ModelInfo::id).containsExactly("llama3.1:8b", "qwen2.5:7b");
        assertThat(upstream.takeRequest(1, TimeUnit.SECONDS).getHeaders().get("Authorization"))
                .isEqualTo("Bearer single-secret-key-9999");
        assertThat(local.models()).extracting(ModelInfo::id).containsExactly("parley-local");
    }

    /** Runs {@code command} with standard error captured into {@code err}; returns its result. */
    private static int standardErrorOf(StringBuilder err, java.util.function.IntSupplier command) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            return command.getAsInt();
        } finally {
            System.setErr(original);
            err.append(captured.toString(StandardCharsets.UTF_8));
            original.print(err);
        }
    }
}
