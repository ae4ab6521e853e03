package dev.parley.server.internal.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Json;
import dev.parley.protocol.Limits;
import dev.parley.protocol.ModelIds;
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
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code openai} model provider of SPEC §5.2: any server that speaks the OpenAI {@code POST /chat/completions}
 * API (OpenRouter, OpenAI, Ollama, LM Studio, llama.cpp, vLLM). Token counts come from the reply's {@code usage}; a
 * reply without it counts as 0/0 tokens. The offered models are the configured ones ({@code --models}), or the
 * upstream's {@code GET /models} list read once at start ({@link #withUpstreamModels}).
 *
 * <p>Failures become a {@link ModelException} whose {@code retryable} says whether the same request can succeed
 * later (SPEC §5): HTTP 429 is {@code rate_limited} (with the {@code Retry-After} seconds when given) and a timeout
 * is {@code upstream_timeout}, both retryable; anything else is {@code upstream_error}, retryable for a 5xx, a
 * broken connection or an empty reply, and not for a refused key (401/403), another 4xx (a context too long, an
 * unknown model, a wrong base URL), a reply that is not a chat completion, or one holding only tool calls. A
 * context-length error is not retryable whatever its status. Each failure is logged once at WARN, with the
 * endpoint, the model and the key masked to its last four characters; exception messages never contain the API
 * key or the provider's raw response body.
 *
 * <p>Thread-safe: {@link #complete} may be called from many threads at once; each call blocks its thread for at
 * most the configured timeout. The API key may be {@code null} or blank for servers that need none (Ollama,
 * llama.cpp); the {@code Authorization} header is then not sent.
 *
 * <p>Resources: the constructor that takes an {@link OkHttpClient} shares that client's connection pool and
 * dispatcher; the caller keeps owning it and {@link #close()} leaves it alone. The other constructor and
 * {@link #withUpstreamModels} create a client that this provider owns; {@link #close()} releases its threads and
 * idle connections.
 */
public final class OpenAiCompatibleProvider implements ModelProvider {
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiCompatibleProvider.class);
    /** Replies larger than this are refused rather than buffered; a chat reply is orders of magnitude smaller. */
    static final long MAX_BODY_BYTES = 8L * 1024 * 1024;
    /** How much of a provider's {@code error.message} a user may see. */
    static final int MAX_PROVIDER_MESSAGE_CHARS = 200;
    /** Where the key comes from, named in messages that ask an operator to check it. */
    static final String KEY_VARIABLE = "PARLEY_MODEL_API_KEY";
    private static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
    private static final ObjectMapper MAPPER = Json.newMapper(); // thread-safe once configured
    /**
     * How the OpenAI-compatible servers say a conversation is longer than the model takes: OpenAI's and vLLM's
     * "maximum context length", llama.cpp's {@code exceed_context_size_error}, LM Studio's "context length",
     * Anthropic's (through OpenRouter) "prompt is too long", Gemini's "exceeds the maximum number of tokens".
     */
    private static final Pattern CONTEXT_TOO_LONG = Pattern.compile(
            "(?i)context[ _-]?(length|window|size)|prompt is too long|exceeds the maximum number of tokens");

    private final HttpUrl endpoint;
    private final List<ModelInfo> models;
    private final List<String> offeredIds;
    private final String defaultModel;
    private final String apiKey;
    private final Duration timeout;
    private final OkHttpClient client;
    private final boolean ownsClient;

    /**
     * A provider with its own HTTP client; call {@link #close()} when done with it.
     *
     * @param baseUrl  the API root, e.g. {@code https://openrouter.ai/api/v1} or {@code http://127.0.0.1:11434/v1}
     * @param modelIds the offered model ids ({@code --models}) in display order, never empty; each is trimmed, and
     *                 the first is the default
     * @param apiKey   the bearer key, or {@code null}/blank when the server needs none
     * @param timeout  the longest one completion may take, connecting and reading the whole reply included
     * @throws IllegalArgumentException when a setting is invalid; the message names it, and the bad model id
     */
    public OpenAiCompatibleProvider(String baseUrl, List<String> modelIds, String apiKey, Duration timeout) {
        this(baseUrl(baseUrl), configuredModels(modelIds), apiKey(apiKey), timeout(timeout), new OkHttpClient(),
                true);
    }

    /**
     * A provider that shares {@code client}'s connection pool and dispatcher; the caller keeps owning the client.
     * The provider applies its own timeout and does not follow redirects, whatever {@code client} is set to.
     *
     * @see #OpenAiCompatibleProvider(String, List, String, Duration)
     */
    public OpenAiCompatibleProvider(
            String baseUrl, List<String> modelIds, String apiKey, Duration timeout, OkHttpClient client) {
        this(baseUrl(baseUrl), configuredModels(modelIds), apiKey(apiKey), timeout(timeout),
                Objects.requireNonNull(client, "client"), false);
    }

    private OpenAiCompatibleProvider(HttpUrl base, List<ModelInfo> models, String apiKey, Duration timeout,
                                     OkHttpClient client, boolean ownsClient) {
        // addPathSegments drops the empty segment of a trailing slash: ".../v1" and ".../v1/" end up the same.
        this.endpoint = base.newBuilder().addPathSegments("chat/completions").build();
        this.models = models;
        this.offeredIds = models.stream().map(ModelInfo::id).toList();
        this.defaultModel = offeredIds.get(0);
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.client = configured(client, timeout);
        this.ownsClient = ownsClient;
    }

    /**
     * A provider offering the models the upstream lists at {@code GET {baseUrl}/models} (the OpenAI shape
     * {@code {"data":[{"id":…}]}}), read now, once; the first listed is the default. Ids Parley cannot offer
     * (see {@link ModelIds}) are left out with a warning. Blocks for at most {@code timeout}. Call {@link #close()}
     * when done with it.
     *
     * @throws ModelException           when the list cannot be had: the upstream is unreachable, refuses the key,
     *                                  is no OpenAI-compatible API or lists no model; the message says which, in
     *                                  words an operator can act on, and never holds the key
     * @throws IllegalArgumentException when a setting is invalid; the message names it
     */
    public static OpenAiCompatibleProvider withUpstreamModels(String baseUrl, String apiKey, Duration timeout)
            throws ModelException {
        HttpUrl base = baseUrl(baseUrl);
        String key = apiKey(apiKey);
        Duration limit = timeout(timeout);
        OkHttpClient client = configured(new OkHttpClient(), limit);
        try {
            return new OpenAiCompatibleProvider(base, upstreamModels(client, base, key, limit), key, limit, client,
                    true);
        } catch (ModelException | RuntimeException e) {
            release(client);
            throw e;
        }
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
        try {
            return call(request);
        } catch (ModelException e) {
            // Logged here, once, so that an operator sees a bad key or a dead upstream; the caller answers the user.
            LOG.warn("model call failed: {} ({}), model {} at {} with key {}: {}{}", e.code().wire(),
                    e.retryable() ? "retryable" : "not retryable", request.model(), shown(endpoint),
                    masked(apiKey), e.getMessage(), e.getCause() == null ? "" : " [" + causeOf(e) + "]");
            throw e;
        }
    }

    /**
     * Releases the HTTP client's threads and idle connections when this provider created the client; does nothing
     * when the client was passed in. Idempotent; do not call {@link #complete} afterwards.
     */
    public void close() {
        if (ownsClient) {
            release(client);
        }
    }

    private Completion call(CompletionRequest request) throws ModelException {
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
            // The request may have reached the provider before the connection failed. Retryable even when the host
            // is unknown: on a laptop that is offline, that is how every host looks, and it passes.
            throw new ModelException(ErrorCode.UPSTREAM_ERROR,
                    "the connection to the model provider failed", null, e);
        }
    }

    private Request httpRequest(CompletionRequest request) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("model", request.model());
        ArrayNode messages = root.putArray("messages");
        for (ContextMessage message : request.messages()) {
            messages.addObject()
                    .put("role", message.role().wire())
                    .put("content", message.content());
        }
        byte[] json;
        try {
            json = MAPPER.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("a JSON tree of strings could not be written", e);
        }
        return authorized(new Request.Builder().url(endpoint).post(RequestBody.create(json, JSON)), apiKey);
    }

    private static Request authorized(Request.Builder builder, String apiKey) {
        builder.header("Accept", "application/json");
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
        JsonNode error = root.path("error");
        if (!error.isMissingNode() && !error.isNull() && (!choices.isArray() || choices.isEmpty())) {
            // OpenRouter answers 200 with an error when the routed provider fails mid-request.
            String detail = providerMessage(error);
            JsonNode code = error.path("code");
            boolean retryable = !contextTooLong(error) && (!code.isIntegralNumber() || retryableStatus(code.intValue()));
            throw new ModelException(ErrorCode.UPSTREAM_ERROR,
                    "the model provider sent no reply" + (detail == null ? "" : ": " + detail), retryable, null, null);
        }
        if (!choices.isArray()) {
            throw unreadableReply();
        }
        if (choices.isEmpty()) {
            throw new ModelException(ErrorCode.UPSTREAM_ERROR, "the model provider sent no reply");
        }
        JsonNode message = choices.path(0).path("message");
        if (!message.isObject()) {
            throw unreadableReply();
        }
        JsonNode content = message.path("content");
        if (!content.isTextual() && !content.isNull() && !content.isMissingNode()) {
            throw unreadableReply();
        }
        if (!content.isTextual() || content.textValue().isBlank()) {
            JsonNode toolCalls = message.path("tool_calls");
            if ((toolCalls.isArray() && !toolCalls.isEmpty()) || message.path("function_call").isObject()) {
                // Asked again, the model asks for the same tools: Parley offers none, so this cannot pass.
                throw ModelException.notRetryable("the model answered only with tool calls, which Parley does not run");
            }
            // A blank answer is no answer (and counts nothing); sampled again, the model may well say something.
            throw new ModelException(ErrorCode.UPSTREAM_ERROR, "the model sent an empty reply");
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
            return ModelException.notRetryable(apiKey == null
                    ? "the model provider wants an API key (HTTP " + status + ")"
                    : "the model provider refused the API key (HTTP " + status + ")");
        }
        JsonNode error = errorOf(response);
        String detail = providerMessage(error);
        return new ModelException(ErrorCode.UPSTREAM_ERROR,
                "the model provider answered HTTP " + status + (detail == null ? "" : ": " + detail),
                retryableStatus(status) && !contextTooLong(error), null, null);
    }

    /**
     * Whether a provider's status can pass when the request is sent again: a 5xx (but 501, a server that does not
     * do this at all), 408, 425 and 429. A 4xx says the request itself is refused (a bad key, an unknown model, a base
     * URL that answers 404, a context too long), and a 3xx a base URL that points elsewhere; both come back unchanged.
     */
    private static boolean retryableStatus(int status) {
        return (status >= 500 && status != 501) || status == 408 || status == 425 || status == 429;
    }

    /** Whether {@code error} (an {@code error} member, any shape) says the conversation is too long for the model. */
    private static boolean contextTooLong(JsonNode error) {
        String message = error.isTextual() ? error.textValue() : error.path("message").asText("");
        for (String text : List.of(error.path("code").asText(""), error.path("type").asText(""), message)) {
            if (CONTEXT_TOO_LONG.matcher(text).find()) {
                return true;
            }
        }
        return false;
    }

    /** The {@code error} member of an error status's body, best effort: a failure to read it is no new failure. */
    private JsonNode errorOf(Response response) {
        try {
            JsonNode root = parse(readCapped(response.body()));
            return root == null ? MissingNode.getInstance() : root.path("error");
        } catch (IOException | ModelException e) {
            return MissingNode.getInstance();
        }
    }

    /** {@code error.message} (or a bare {@code error} string, as some local servers send), made safe to show. */
    private String providerMessage(JsonNode error) {
        JsonNode message = error.isTextual() ? error : error.path("message");
        if (!message.isTextual()) {
            return null;
        }
        return shortened(withoutKey(message.textValue(), apiKey), MAX_PROVIDER_MESSAGE_CHARS);
    }

    /** {@code text} on one line, without control characters, cut to {@code maxChars}; {@code null} when empty. */
    private static String shortened(String text, int maxChars) {
        String line = text.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        if (line.isEmpty()) {
            return null;
        }
        if (line.codePointCount(0, line.length()) > maxChars) {
            line = line.substring(0, line.offsetByCodePoints(0, maxChars)) + "…";
        }
        return line;
    }

    /** The parsed body, or {@code null} when it is not JSON. */
    private static JsonNode parse(byte[] body) {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] readCapped(ResponseBody body) throws IOException, ModelException {
        BufferedSource source = body.source();
        if (source.request(MAX_BODY_BYTES + 1)) {
            throw ModelException.notRetryable(
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

    /** A success status whose body is no chat completion: the base URL leads to something else, every time. */
    private static ModelException unreadableReply() {
        return ModelException.notRetryable("the model provider sent a reply that is not an OpenAI chat completion");
    }

    private static String describe(Duration duration) {
        return duration.toMillis() < 1000 ? duration.toMillis() + " ms" : duration.toSeconds() + " s";
    }

    // ----------------------------------------------------------------- the model list read at start

    private static List<ModelInfo> upstreamModels(OkHttpClient client, HttpUrl base, String apiKey,
                                                  Duration timeout) throws ModelException {
        HttpUrl url = base.newBuilder().addPathSegment("models").build();
        String upstream = "the model provider at " + shown(base);
        String instead = "; or name the models with --models";
        Request request = authorized(new Request.Builder().url(url).get(), apiKey);
        try (Response response = client.newCall(request).execute()) {
            int status = response.code();
            if (status == 401 || status == 403) {
                throw ModelException.notRetryable(apiKey == null
                        ? upstream + " wants an API key (HTTP " + status + " to GET /models); set " + KEY_VARIABLE
                        : upstream + " refused the API key (HTTP " + status + " to GET /models); check "
                                + KEY_VARIABLE);
            }
            if (status == 404 || status == 405) {
                throw ModelException.notRetryable(upstream + " has no GET /models (HTTP " + status + "), so it is"
                        + " not an OpenAI-compatible API; check --model-base-url (it usually ends in /v1)" + instead);
            }
            if (!response.isSuccessful()) {
                throw new ModelException(ErrorCode.UPSTREAM_ERROR, upstream + " answered HTTP " + status
                        + " to GET /models; try again later" + instead, retryableStatus(status), null, null);
            }
            JsonNode root = parse(readCapped(response.body()));
            JsonNode data = root == null ? MissingNode.getInstance() : root.path("data");
            if (!data.isArray()) {
                throw ModelException.notRetryable(upstream + " did not answer GET /models with an OpenAI model list"
                        + " ({\"data\":[{\"id\":…}]}), so it is not an OpenAI-compatible API; check --model-base-url"
                        + instead);
            }
            return listedModels(data, upstream);
        } catch (InterruptedIOException e) {
            throw new ModelException(ErrorCode.UPSTREAM_TIMEOUT, upstream + " did not answer GET /models within "
                    + describe(timeout) + instead, null, e);
        } catch (IOException e) {
            throw new ModelException(ErrorCode.UPSTREAM_ERROR, "cannot reach " + upstream + " ("
                    + withoutKey(e.getClass().getSimpleName() + ": " + e.getMessage(), apiKey)
                    + "); check --model-base-url and that the server is running" + instead, null, e);
        }
    }

    /** The usable models of a {@code data} array, in its order: invalid ids are left out (and named), repeats once. */
    private static List<ModelInfo> listedModels(JsonNode data, String upstream) throws ModelException {
        List<ModelInfo> infos = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<String> unusable = new ArrayList<>();
        for (JsonNode entry : data) {
            JsonNode idNode = entry.path("id");
            String id = idNode.isTextual() ? idNode.textValue().strip() : null;
            if (!ModelIds.isValid(id)) {
                unusable.add(id == null ? String.valueOf(idNode) : "'" + shortened(id, 60) + "'");
            } else if (seen.add(id)) {
                JsonNode name = entry.path("name");
                String shownName = name.isTextual() ? shortened(name.textValue(), Limits.MAX_MODEL_CHARS) : null;
                infos.add(new ModelInfo(id, shownName == null ? id : shownName));
            }
        }
        if (!unusable.isEmpty()) {
            LOG.warn("{} lists {} model id(s) Parley cannot offer (a model id is {}), left out: {}", upstream,
                    unusable.size(), ModelIds.RULE, String.join(", ", unusable.subList(0, Math.min(10,
                            unusable.size()))) + (unusable.size() > 10 ? ", …" : ""));
        }
        if (infos.isEmpty()) {
            throw ModelException.notRetryable(upstream + " lists no model" + (unusable.isEmpty() ? "" : " Parley can"
                    + " offer") + " at GET /models; load or install one there, or name the models with --models");
        }
        LOG.info("{} lists {} model(s); the default is {} (--models chooses others)", upstream, infos.size(),
                infos.get(0).id());
        return List.copyOf(infos);
    }

    // ----------------------------------------------------------------- settings, checked at start

    private static OkHttpClient configured(OkHttpClient client, Duration timeout) {
        // A redirect would turn the POST into a GET; an explicit "answered HTTP 301" is easier to act on.
        return client.newBuilder()
                .callTimeout(timeout)
                .readTimeout(timeout)
                .writeTimeout(timeout)
                .followRedirects(false)
                .build();
    }

    private static void release(OkHttpClient client) {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }

    private static HttpUrl baseUrl(String baseUrl) {
        HttpUrl base = baseUrl == null ? null : HttpUrl.parse(baseUrl.strip());
        if (base == null) {
            throw new IllegalArgumentException("--model-base-url must be an http:// or https:// URL such as "
                    + "https://openrouter.ai/api/v1 (got " + (baseUrl == null ? "none" : "'" + baseUrl + "'") + ")");
        }
        return base;
    }

    /**
     * The {@code --models} ids, trimmed, as model infos; refused, naming {@code --models} and the id, when one is
     * empty, repeated, or not a model id (whitespace inside, a character no provider uses, too long).
     */
    private static List<ModelInfo> configuredModels(List<String> modelIds) {
        if (modelIds == null || modelIds.isEmpty()) {
            throw new IllegalArgumentException("the openai model provider needs at least one model id (--models)");
        }
        List<ModelInfo> infos = new ArrayList<>(modelIds.size());
        Set<String> seen = new HashSet<>();
        for (String raw : modelIds) {
            String id = raw == null ? "" : raw.strip();
            if (id.isEmpty()) {
                throw new IllegalArgumentException("--models holds an empty model id (two commas in a row, or one at"
                        + " an end?): '" + String.join(",", modelIds) + "'");
            }
            if (id.length() > Limits.MAX_MODEL_CHARS) {
                throw new IllegalArgumentException("--models: model id '" + id.substring(0, 40) + "…' is "
                        + id.length() + " characters long; at most " + Limits.MAX_MODEL_CHARS + " are allowed");
            }
            if (!ModelIds.isValid(id)) {
                throw new IllegalArgumentException("--models: '" + id + "' is not a model id; a model id is "
                        + ModelIds.RULE);
            }
            if (!seen.add(id)) {
                throw new IllegalArgumentException("--models lists model id '" + id + "' twice");
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
                    KEY_VARIABLE + " contains characters that cannot be sent in an HTTP header");
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

    // ----------------------------------------------------------------- what an operator may read

    /** A URL fit for a log: no user name, password, query or fragment, which may hold credentials. */
    private static String shown(HttpUrl url) {
        return url.newBuilder().username("").password("").query(null).fragment(null).build().toString();
    }

    /** Enough of a key to tell which one was used (its last four characters), never the key. */
    static String masked(String apiKey) {
        if (apiKey == null) {
            return "(none)";
        }
        return apiKey.length() < 16 ? "***" : "…" + apiKey.substring(apiKey.length() - 4);
    }

    private String causeOf(ModelException e) {
        Throwable cause = e.getCause();
        return withoutKey(cause.getClass().getSimpleName() + ": " + cause.getMessage(), apiKey);
    }

    private static String withoutKey(String text, String apiKey) {
        return apiKey == null ? text : text.replace(apiKey, "***");
    }
}
