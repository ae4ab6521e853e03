package dev.parley.desktop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.server.ServerConfig;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server the app starts for itself listens on 127.0.0.1 only: it answers there, and refuses another address of
 * the loopback range (127.0.0.2), which a server bound to every interface would accept; and it answers only
 * requests that carry this launch's secret. No JavaFX involved.
 */
class EmbeddedServerLoopbackTest {
    @TempDir
    Path dir;

    @Test
    void everyLaunchMakesItsOwnSecret() {
        String first = EmbeddedServer.newSecret();
        String second = EmbeddedServer.newSecret();
        assertThat(first).hasSize(43).matches("[A-Za-z0-9_-]+").isNotEqualTo(second);
    }

    @Test
    void embeddedServerIsBoundToLoopbackOnly() throws Exception {
        try (EmbeddedServer server = EmbeddedServer.start(dir.resolve("data"))) {
            URI url = URI.create(server.url());
            assertThat(url.getHost()).isEqualTo("127.0.0.1");

            HttpResponse<String> health = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(url.resolve("/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            HttpResponse<String> withoutSecret = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(url.resolve("/api/models")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(withoutSecret.statusCode()).as("a request without this launch's secret").isEqualTo(403);
            HttpResponse<String> withSecret = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(url.resolve("/api/models"))
                            .header(ServerConfig.Security.SECRET_HEADER, server.launchSecret()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(withSecret.statusCode()).isEqualTo(200);

            InetAddress otherLoopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
            assertThat(otherLoopback.isLoopbackAddress()).isTrue();
            assertThatThrownBy(() -> {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(otherLoopback, url.getPort()), 2_000);
                }
            }).isInstanceOf(ConnectException.class);
        }
    }
}
