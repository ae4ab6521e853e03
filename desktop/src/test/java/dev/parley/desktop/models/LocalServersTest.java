package dev.parley.desktop.models;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Ollama and LM Studio found on this machine: a MockWebServer stands where each listens. */
class LocalServersTest {
    private static final String OLLAMA_MODELS = """
            {"object":"list","data":[
              {"id":"llama3.1:8b","object":"model","created":1730000000,"owned_by":"library"},
              {"id":"qwen2.5:7b","object":"model","created":1730000001,"owned_by":"library"}]}""";

    private final MockWebServer ollama = new MockWebServer();
    private final MockWebServer lmStudio = new MockWebServer();

    @BeforeEach
    void start() throws IOException {
        ollama.start();
        lmStudio.start();
    }

    @AfterEach
    void stop() {
        ollama.close();
        lmStudio.close();
    }

    @Test
    void aServerThatListsModelsIsFoundWithThemAndOneThatDoesNotIsLeftOut() throws Exception {
        ollama.enqueue(new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
                .body(OLLAMA_MODELS).build());
        lmStudio.enqueue(new MockResponse.Builder().code(404).body("Not Found").build());
        LocalServers servers = new LocalServers(List.of(
                new LocalServers.Candidate("ollama", "Ollama", ollama.url("/v1").toString()),
                new LocalServers.Candidate("lmstudio", "LM Studio", lmStudio.url("/v1").toString())));

        List<LocalServers.Found> found = servers.find();

        assertThat(found).hasSize(1);
        assertThat(found.get(0).where().name()).isEqualTo("ollama");
        assertThat(found.get(0).models()).containsExactly("llama3.1:8b", "qwen2.5:7b");
        assertThat(ollama.takeRequest().getUrl().encodedPath()).isEqualTo("/v1/models");
        assertThat(servers.names()).containsExactly("ollama", "lmstudio");
    }

    @Test
    void aPortNothingListensOnFindsNothingAtOnce() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        LocalServers servers = new LocalServers(List.of(
                new LocalServers.Candidate("ollama", "Ollama", "http://127.0.0.1:" + closed + "/v1")));

        assertThat(servers.find()).isEmpty();
    }
}
