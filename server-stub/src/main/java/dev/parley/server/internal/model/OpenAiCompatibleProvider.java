package dev.parley.server.internal.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Json;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;

/**
 * The {@code openai} model provider of SPEC §5.2: any server that speaks the OpenAI {@code POST /chat/completions}
 * API (OpenRouter, Ollama, llama.cpp, vLLM). Token counts come from the reply's {@code usage}; a reply without it
 * counts as 0/0 tokens. Failures become a {@link ModelException}: HTTP 429 is {@code rate_limited} (with the
 * {@code Retry-After} seconds when given), a timeout is {@code upstream_timeout}, anything else —
 * a refused key, another error status, an unreadable reply, a broken connection — is {@code upstream_error}.
 * Exception messages never contain the API key or the provider's raw response body.
 *
 * <p>Thread-safe: {@link #complete} may be called from many threads at once; each call blocks its thread for at
 * most the configured timeout. The API key may be {@code null} or blank for servers that need none (Ollama,
 * llama.cpp); the {@code Authorization} header is then not sent.
 *
 * <p>Resources: the constructor that takes an {@link OkHttpClient} shares that client's connection pool and
 * dispatcher; the caller keeps owning it and {@link #close()} leaves it alone. The constructor without a client
 * creates one that this provider owns; {@link #close()} releases its threads and idle connections.
 */
public final class OpenAiCompatibleProvider implements ModelProvider {
    /** Replies larger than this are refused rather than buffered; a chat reply is orders of magnitude smaller. */
    static final long MAX_BODY_BYTES = 8L * 1024 * 1024;
    /** How much of a provider's {@code error.message} a user may see. */
    static final int MAX_PROVIDER_MESSAGE_CHARS = 200;
    private static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

    private final HttpUrl endpoint;
    private final List<ModelInfo> models;
    private final List<String> offeredIds;
    private final String defaultModel;
    private final String apiKey;
    private final Duration timeout;
    private final OkHttpClient client;
    private final boolean ownsClient;
    private final ObjectMapper mapper = Json.newMapper();

    /**
     * A provider with its own HTTP client; call {@link #close()} when done with it.
     *
     * @param baseUrl  the API root, e.g. {@code https://openrouter.ai/api/v1} or {@code http://127.0.0.1:11434/v1}
     * @param modelIds the offered model ids in display order, never empty; the first is the default
     * @param apiKey   the bearer key, or {@code null}/blank when the server needs none
     * @param timeout  the longest one completion may take, connecting and reading the whole reply included
     * @throws IllegalArgumentException when a setting is invalid; the message names it
     */
    public OpenAiCompatibleProvider(String baseUrl, List<String> modelIds, String apiKey, Duration timeout) {
        this(baseUrl, modelIds, apiKey, timeout, new OkHttpClient(), true);
    }

    /**
     * A provider that shares {@code client}'s connection pool and dispatcher; the caller keeps owning the client.
     * The provider applies its own timeout and does not follow redirects, whatever {@code client} is set to.
     *
     * @see #OpenAiCompatibleProvider(String, List, String, Duration)
     */
    public OpenAiCompatibleProvider(
            String baseUrl, List<String> modelIds, String apiKey, Duration timeout, OkHttpClient client) {
        this(baseUrl, modelIds, apiKey, timeout, Objects.requireNonNull(client, "client"), false);
    }

    private OpenAiCompatibleProvider(
            String baseUrl, List<String> modelIds, String apiKey, Duration timeout, OkHttpClient client,
            boolean ownsClient) {
        this.endpoint = endpoint(baseUrl);
        this.models = modelInfos(modelIds);
        this.offeredIds = models.stream().map(ModelInfo::id).toList();
        this.defaultModel = offeredIds.get(0);
        this.apiKey = apiKey(apiKey);
        this.timeout = timeout(timeout);
        // A redirect would turn the POST into a GET; an explicit "answered HTTP 301" is easier to act on.
        this.client = client.newBuilder()
                .callTimeout(timeout)
                .readTimeout(timeout)
                .writeTimeout(timeout)
                .followRedirects(false)
                .build();
        this.ownsClient = ownsClient;
    }

    @Override
    public List<ModelInfo> models() {
        return models;
    }

    @Override
    public String defaultModel() {
        return defaultModel;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException when {@code request} names a model this provider does not offer; callers
     *                                  validate the model against {@link #models()} first
     */
    @Override
    public Completion complete(CompletionRequest request) throws ModelException {
        Objects.requireNonNull(request, "request");
        if (request.model() == null || !offeredIds.contains(request.model())) {
            throw new IllegalArgumentException("unknown model '" + request.model() + "' (this provider offers "
                    + String.join(", ", offeredIds) + ")");
        }
        Request httpRequest = httpRequest(request);
        long startNanos = System.nanoTime();
        try (Response response = client.newCall(httpRequest).execute()) {
            if (!response.isSuccessful()) {
                throw statusFailure(response);
            }
            byte[] body = readCapped(response.body());
            long elapsedMs = Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
            return completion(body, elapsedMs);
        } catch (InterruptedIOException e) {
            // Covers SocketTimeoutException and OkHttp's call timeout.
            throw new ModelException(ErrorCode.UPSTREAM_TIMEOUT,
                    "the model provider did not answer within " + describe(timeout), null, e);
        } catch (IOException e) {
            // The request may have reached the provider before the connection failed.
            throw new ModelException(ErrorCode.UPSTREAM_ERROR,
                    "the connection to the model provider failed", null, e);
        }
    }

    /**
     * Releases the HTTP client's threads and idle connections when this provider created the client; does nothing
     * when the client was passed in. Idempotent; do not call {@link #complete} afterwards.
     */
    public void close() {
        if (ownsClient) {
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
    }

    private Request httpRequest(CompletionRequest request) {
        ObjectNode root = mapper.createObjectNode();
        root.put("model", request.model());
        ArrayNode messages = root.putArray("messages");
        for (ContextMessage message : request.messages()) {
            messages.addObject()
                    .put("role", message.role().wire())
                    .put("content", message.content());
        }
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("a JSON tree of strings could not be written", e);
        }
        Request.Builder builder = new Request.Builder()
                .url(endpoint)
                .header("Accept", "application/json")
                .post(RequestBody.create(json, JSON));
        if (apiKey != null) {
            builder.header("Authorization", "Bearer " + apiKey);
        }
        return builder.build();
    }

    private Completion completion(byte[] body, long elapsedMs) throws ModelException {
        JsonNode root = parse(body);
        if (root == null || !root.isObject()) {
            throw unreadableReply();
        }
        JsonNode choices = root.path("choices");
        if (!choices.isArray() || choices.isEmpty()) {
            String detail = providerMessage(root);
            throw new ModelException(ErrorCode.UPSTREAM_ERROR,
                    "the model provider sent no reply" + (detail == null ? "" : ": " + detail));
        }
        JsonNode content = choices.path(0).path("message").path("content");
        if (!content.isTextual()) {
            throw unreadableReply();
        }
        JsonNode usage = root.path("usage");
        JsonNode id = root.path("id");
        return new Completion(
                content.textValue(),
                tokenCount(usage.path("prompt_tokens")),
                tokenCount(usage.path("completion_tokens")),
                id.isTextual() ? id.textValue() : null,
                elapsedMs);
    }

    /** Counts are accounting, not the reply: an absent or odd count is 0 rather than a failed exchange. */
    private static long tokenCount(JsonNode node) {
        return node.canConvertToLong() && node.isIntegralNumber() ? Math.max(0, node.longValue()) : 0;
    }

    private ModelException statusFailure(Response response) {
        int status = response.code();
        if (status == 429) {
            Long retryAfter = retryAfterSeconds(response.header("Retry-After"));
            return new ModelException(ErrorCode.RATE_LIMITED,
                    "the model provider is limiting requests; "
                            + (retryAfter == null ? "try again later" : "try again in " + retryAfter + " s"),
                    retryAfter, null);
        }
        if (status == 401 || status == 403) {
            // Their message may quote part of the key ("Incorrect API key provided: sk-ab***yz"), so it is not used.
            return new ModelException(ErrorCode.UPSTREAM_ERROR,
                    "the model provider refused the API key (HTTP " + status + ")");
        }
        String detail = errorBodyMessage(response);
        return new ModelException(ErrorCode.UPSTREAM_ERROR,
                "the model provider answered HTTP " + status + (detail == null ? "" : ": " + detail));
    }

    /** The provider's own explanation of an error status, best effort: a failure to read it is no new failure. */
    private String errorBodyMessage(Response response) {
        try {
            JsonNode root = parse(readCapped(response.body()));
            return root == null ? null : providerMessage(root);
        } catch (IOException | ModelException e) {
            return null;
        }
    }

    /** {@code error.message} (or a bare {@code error} string, as some local servers send), made safe to show. */
    private String providerMessage(JsonNode root) {
        JsonNode error = root.path("error");
        JsonNode message = error.isTextual() ? error : error.path("message");
        if (!message.isTextual()) {
            return null;
        }
        String text = message.textValue();
        if (apiKey != null) {
            text = text.replace(apiKey, "***");
        }
        text = text.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        if (text.isEmpty()) {
            return null;
        }
        if (text.codePointCount(0, text.length()) > MAX_PROVIDER_MESSAGE_CHARS) {
            text = text.substring(0, text.offsetByCodePoints(0, MAX_PROVIDER_MESSAGE_CHARS)) + "…";
        }
        return text;
    }

    /** The parsed body, or {@code null} when it is not JSON. */
    private JsonNode parse(byte[] body) {
        try {
            return mapper.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] readCapped(ResponseBody body) throws IOException, ModelException {
        BufferedSource source = body.source();
        if (source.request(MAX_BODY_BYTES + 1)) {
            throw new ModelException(ErrorCode.UPSTREAM_ERROR,
                    "the model provider sent a reply larger than " + MAX_BODY_BYTES / (1024 * 1024) + " MiB");
        }
        return source.getBuffer().readByteArray();
    }

    /** Only the delay-seconds form; an HTTP date or garbage means "no advice". */
    static Long retryAfterSeconds(String header) {
        if (header == null) {
            return null;
        }
        try {
            long seconds = Long.parseLong(header.strip());
            return seconds >= 0 ? seconds : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static ModelException unreadableReply() {
        return new ModelException(ErrorCode.UPSTREAM_ERROR,
                "the model provider sent a reply that is not an OpenAI chat completion");
    }

    private static String describe(Duration duration) {
        return duration.toMillis() < 1000 ? duration.toMillis() + " ms" : duration.toSeconds() + " s";
    }

    private static HttpUrl endpoint(String baseUrl) {
        HttpUrl base = baseUrl == null ? null : HttpUrl.parse(baseUrl.strip());
        if (base == null) {
            throw new IllegalArgumentException("--model-base-url must be an http:// or https:// URL such as "
                    + "https://openrouter.ai/api/v1 (got " + (baseUrl == null ? "none" : "'" + baseUrl + "'") + ")");
        }
        // addPathSegments drops the empty segment of a trailing slash: ".../v1" and ".../v1/" end up the same.
        return base.newBuilder().addPathSegments("chat/completions").build();
    }

    private static List<ModelInfo> modelInfos(List<String> modelIds) {
        if (modelIds == null || modelIds.isEmpty()) {
            throw new IllegalArgumentException("the openai model provider needs at least one model id");
        }
        List<ModelInfo> infos = new ArrayList<>(modelIds.size());
        Set<String> seen = new HashSet<>();
        for (String id : modelIds) {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("a model id of the openai model provider is blank");
            }
            if (!seen.add(id)) {
                throw new IllegalArgumentException("model id '" + id + "' is listed twice");
            }
            infos.add(new ModelInfo(id, id));
        }
        return List.copyOf(infos);
    }

    private static String apiKey(String apiKey) {
        if (apiKey == null || apiKey.isBlank()) {
            return null;
        }
        String key = apiKey.strip();
        // Checked here so that OkHttp never builds an exception message around the header value.
        if (!key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException(
                    "PARLEY_MODEL_API_KEY contains characters that cannot be sent in an HTTP header");
        }
        return key;
    }

    private static Duration timeout(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException(
                    "the model request timeout must be more than 0 and at most " + MAX_TIMEOUT.toMinutes()
                            + " minutes (got " + timeout + ")");
        }
        return timeout;
    }
}
