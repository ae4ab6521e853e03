package dev.parley.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain HTTP client for tests: sends JSON or raw bytes to a server and keeps status, headers and body. */
public final class HttpApi {
    public static final ObjectMapper JSON = Json.newMapper();

    private final String baseUrl;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public HttpApi(String baseUrl) {
        this.baseUrl = baseUrl;
    }

    public Response get(String path, String token) {
        return send("GET", path, null, token);
    }

    public Response post(String path, Object body, String token) {
        return send("POST", path, toBytes(body), token);
    }

    public Response patch(String path, Object body, String token) {
        return send("PATCH", path, toBytes(body), token);
    }

    public Response delete(String path, String token) {
        return send("DELETE", path, null, token);
    }

    /** Sends {@code body} exactly as given (may be invalid JSON or UTF-8). */
    public Response send(String method, String path, byte[] body, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.body(), response.headers().firstValue("Retry-After")
                    .orElse(null));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static byte[] toBytes(Object body) {
        if (body == null) {
            return null;
        }
        if (body instanceof String text) {
            return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A response: status, body text and the Retry-After header. */
    public record Response(int status, String body, String retryAfter) {
        public <T> T as(Class<T> type) {
            try {
                return JSON.readValue(body, type);
            } catch (IOException e) {
                throw new AssertionError("status " + status + ", body not a " + type.getSimpleName() + ": " + body, e);
            }
        }

        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("status " + status + ", body not JSON: " + body, e);
            }
        }

        /** The error code of an error body. */
        public String errorCode() {
            return json().path("error").path("code").asText(null);
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }
}
