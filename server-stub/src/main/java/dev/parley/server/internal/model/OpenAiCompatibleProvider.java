package dev.parley.server.internal.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.Json;
import dev.parley.protocol.Limits;
import dev.parley.protocol.ModelIds;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.server.Completion;
import dev.parley.server.CompletionRequest;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ModelStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import okhttp3.Dispatcher;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;
import okhttp3.sse.EventSources;
import okio.BufferedSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code openai} model provider of SPEC §5.2: any server that speaks the OpenAI {@code POST /chat/completions}
 * API (OpenRouter, OpenAI, Ollama, LM Studio, llama.cpp, vLLM). Token counts come from the reply's {@code usage}; a
 * whole reply ({@link #complete}) without it counts as 0/0 tokens, a streamed one ({@link #stream}) is counted with
 * the tokenizer (cl100k_base) and logged at WARN. The offered models are the configured ones ({@code --models}), or
 * the upstream's {@code GET /models} list read once at start ({@link #withUpstreamModels}, through
 * {@link UpstreamModelList}).
 *
 * <p>{@link #stream} asks for {@code "stream": true} with {@code "stream_options": {"include_usage": true}} and reads
 * the server-sent events with okhttp-sse: each chunk's {@code choices[0].delta.content} is a piece, its
 * {@code finish_reason} becomes the {@link FinishReason} ({@code stop}, {@code length}, {@code content_filter}; any
 * other is {@code stop}). Its failures follow the rules below, and also: an {@code error} sent inside the stream is
 * treated like one in a whole reply, a stream that ends with neither {@code [DONE]} nor a {@code finish_reason} is a
 * retryable {@code upstream_error}, and one that sends nothing for longer than the timeout is
 * {@code upstream_timeout}. The timeout bounds the wait for the answer's head and then each silence of the stream,
 * not the whole stream.
 *
 * <p>A request's {@link CompletionRequest#temperature() temperature} and {@link CompletionRequest#maxTokens()
 * maxTokens} go upstream as {@code temperature} and {@code max_tokens}, whole or streamed, only when set; absent,
 * the upstream uses its own defaults. A reply cut off at the limit has the upstream's {@code finish_reason}
 * {@code length}, which becomes {@link FinishReason#LENGTH}.
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
 * most the configured timeout. {@link #stream} returns at once; the pieces and the result come on OkHttp's dispatcher
 * threads, one per live stream, of which a client this provider owns allows {@value #MAX_LIVE_CALLS} at once (a
 * shared client's dispatcher sets its own limits; calls past them wait in its queue). The API key may be
 * {@code null} or blank for servers that need none (Ollama, llama.cpp); the {@code Authorization} header is then not
 * sent.
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
    /** Calls at once on a client this provider owns: OkHttp's default of 5 per host would queue the 6th stream. */
    static final int MAX_LIVE_CALLS = 512;
    private static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    /** What the settings are called when the provider comes from the single-provider options. */
    private static final Naming SINGLE = new Naming("--model-base-url", KEY_VARIABLE, true);
    /** What the settings are called when an embedding application passes them (the desktop's settings). */
    private static final Naming SETTINGS = new Naming("the base URL", "the API key", false);
    /** A provider name of {@code --provider NAME=BASE_URL}: it becomes part of model ids and of a variable name. */
    private static final Pattern PROVIDER_NAME = Pattern.compile("[A-Za-z0-9_-]{1,40}");
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
    private final EventSource.Factory events;
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
        this(baseUrl(baseUrl, SINGLE), configuredModels(modelIds), apiKey(apiKey, SINGLE), timeout(timeout),
                ownedClient(), true);
    }

    /**
     * A provider that shares {@code client}'s connection pool and dispatcher; the caller keeps owning the client.
     * The provider applies its own timeout and does not follow redirects, whatever {@code client} is set to.
     *
     * @see #OpenAiCompatibleProvider(String, List, String, Duration)
     */
    public OpenAiCompatibleProvider(
            String baseUrl, List<String> modelIds, String apiKey, Duration timeout, OkHttpClient client) {
        this(baseUrl(baseUrl, SINGLE), configuredModels(modelIds), apiKey(apiKey, SINGLE), timeout(timeout),
                Objects.requireNonNull(client, "client"), false);
    }

    /**
     * A provider of an embedding application's settings: like
     * {@link #OpenAiCompatibleProvider(String, List, String, Duration)}, but a message about a bad setting names it as
     * a user sees it ("the base URL", "the API key") rather than as a command-line option.
     */
    public static OpenAiCompatibleProvider fromSettings(String baseUrl, List<String> modelIds, String apiKey,
                                                        Duration timeout) {
        return new OpenAiCompatibleProvider(baseUrl(baseUrl, SETTINGS), configuredModels(modelIds),
                apiKey(apiKey, SETTINGS), timeout(timeout), ownedClient(), true);
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
        this.events = EventSources.createFactory(this.client);
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
        return withUpstreamModels(baseUrl, apiKey, timeout, SINGLE);
    }

    /**
     * The provider of {@code --provider NAME=BASE_URL}: like {@link #withUpstreamModels(String, String, Duration)},
     * but its messages name that option and the key's variable {@link #keyVariable(String) PARLEY_NAME_API_KEY}.
     *
     * @param name a provider name: 1 to 40 letters, digits, {@code -} or {@code _}
     * @throws ModelException           when the upstream's model list cannot be had
     * @throws IllegalArgumentException when the name or a setting is invalid; the message names the option
     */
    public static OpenAiCompatibleProvider withUpstreamModels(String name, String baseUrl, String apiKey,
                                                              Duration timeout) throws ModelException {
        checkProviderName(name);
        return withUpstreamModels(baseUrl, apiKey, timeout,
                new Naming("the base URL of --provider " + name, keyVariable(name), false));
    }

    /**
     * The environment variable holding the API key of the provider named {@code name}: {@code PARLEY_NAME_API_KEY},
     * the name upper-cased with every character but a letter or digit as {@code _} ({@code my-llm} reads
     * {@code PARLEY_MY_LLM_API_KEY}).
     */
    public static String keyVariable(String name) {
        return "PARLEY_" + name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_") + "_API_KEY";
    }

    /**
     * Refuses a name that is not 1 to 40 letters, digits, {@code -} or {@code _}, naming {@code --provider}.
     *
     * @throws IllegalArgumentException when the name is unusable
     */
    public static void checkProviderName(String name) {
        if (!isProviderName(name)) {
            throw new IllegalArgumentException("--provider: '" + name + "' is not a provider name; a provider name"
                    + " is 1 to 40 letters, digits, - or _ (as in ollama=http://127.0.0.1:11434/v1)");
        }
    }

    /** Whether {@code name} can name a provider: 1 to 40 letters, digits, {@code -} or {@code _}. */
    public static boolean isProviderName(String name) {
        return name != null && PROVIDER_NAME.matcher(name).matches();
    }

    private static OpenAiCompatibleProvider withUpstreamModels(String baseUrl, String apiKey, Duration timeout,
                                                               Naming naming) throws ModelException {
        HttpUrl base = baseUrl(baseUrl, naming);
        String key = apiKey(apiKey, naming);
        Duration limit = timeout(timeout);
        OkHttpClient client = configured(ownedClient(), limit);
        try {
            return new OpenAiCompatibleProvider(base, upstreamModels(client, base, key, limit, naming), key, limit,
                    client, true);
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
        checkOffered(request);
        try {
            return call(request);
        } catch (ModelException e) {
            logFailure(request, e);
            throw e;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Returns at once: the request goes out on OkHttp's dispatcher. The pieces come in order on the dispatcher
     * thread reading the stream, which also completes {@link ModelStream#result()}; a failure is logged once at
     * WARN, as for {@link #complete}. {@link ModelStream#cancel()} closes the upstream connection (the upstream sees
     * the request cancelled and stops generating) after the piece being handed over, if any, and completes the
     * result with the text so far, {@link FinishReason#STOPPED} and the upstream's token counts if it already sent
     * them, else counts of the tokenizer.
     *
     * @throws IllegalArgumentException when {@code request} names a model this provider does not offer
     */
    @Override
    public ModelStream stream(CompletionRequest request, Consumer<String> pieces) {
        checkOffered(request);
        Objects.requireNonNull(pieces, "pieces");
        UpstreamStream stream = new UpstreamStream(request, pieces);
        stream.start();
        return stream;
    }

    private void checkOffered(CompletionRequest request) {
        Objects.requireNonNull(request, "request");
        if (request.model() == null || !offeredIds.contains(request.model())) {
            throw new IllegalArgumentException("unknown model '" + request.model() + "' (this provider offers "
                    + String.join(", ", offeredIds) + ")");
        }
    }

    /** Logged here, once, so that an operator sees a bad key or a dead upstream; the caller answers the user. */
    private void logFailure(CompletionRequest request, ModelException e) {
        LOG.warn("model call failed: {} ({}), model {} at {} with key {}: {}{}", e.code().wire(),
                e.retryable() ? "retryable" : "not retryable", request.model(), shown(endpoint),
                masked(apiKey), e.getMessage(), e.getCause() == null ? "" : " [" + causeOf(e) + "]");
    }

    /**
     * Releases the HTTP client's threads and idle connections when this provider created the client; does nothing
     * when the client was passed in. Idempotent; do not call {@link #complete} afterwards.
     */
    @Override
    public void close() {
        if (ownsClient) {
            release(client);
        }
    }

    private Completion call(CompletionRequest request) throws ModelException {
        Request httpRequest = httpRequest(request, false);
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

    private Request httpRequest(CompletionRequest request, boolean stream) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("model", request.model());
        if (stream) {
            root.put("stream", true);
            root.putObject("stream_options").put("include_usage", true);
        }
        // Sent only when asked for: absent, every server uses its own default (some refuse a field they lack).
        if (request.temperature() != null) {
            root.put("temperature", request.temperature());
        }
        if (request.maxTokens() != null) {
            root.put("max_tokens", request.maxTokens());
        }
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
        Request.Builder builder = new Request.Builder().url(endpoint).post(RequestBody.create(json, JSON));
        return authorized(builder, stream ? "text/event-stream" : "application/json", apiKey);
    }

    static Request authorized(Request.Builder builder, String accept, String apiKey) {
        builder.header("Accept", accept);
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
            throw errorInReply(error, "the model provider sent no reply");
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
            throw noText(asksForTools(message));
        }
        JsonNode usage = root.path("usage");
        JsonNode id = root.path("id");
        return new Completion(
                content.textValue(),
                tokenCount(usage.path("prompt_tokens")),
                tokenCount(usage.path("completion_tokens")),
                id.isTextual() ? id.textValue() : null,
                elapsedMs,
                finishReason(choices.path(0).path("finish_reason").asText(null)));
    }

    /** Whether a {@code message} or a stream's {@code delta} asks for tools to be run. */
    private static boolean asksForTools(JsonNode messageOrDelta) {
        JsonNode toolCalls = messageOrDelta.path("tool_calls");
        return (toolCalls.isArray() && !toolCalls.isEmpty()) || messageOrDelta.path("function_call").isObject();
    }

    /** The failure of a reply without text: one that only asks for tools, or an empty one. */
    private static ModelException noText(boolean askedForTools) {
        if (askedForTools) {
            // Asked again, the model asks for the same tools: Parley offers none, so this cannot pass.
            return ModelException.notRetryable("the model answered only with tool calls, which Parley does not run");
        }
        // A blank answer is no answer (and counts nothing); sampled again, the model may well say something.
        return new ModelException(ErrorCode.UPSTREAM_ERROR, "the model sent an empty reply");
    }

    /**
     * An {@code error} member inside a success (a whole reply or an event of a stream): retryable unless it says the
     * context is too long or its {@code code} is a status that cannot pass.
     */
    private ModelException errorInReply(JsonNode error, String lead) {
        String detail = providerMessage(error);
        JsonNode code = error.path("code");
        boolean retryable = !contextTooLong(error) && (!code.isIntegralNumber() || retryableStatus(code.intValue()));
        return new ModelException(ErrorCode.UPSTREAM_ERROR, lead + (detail == null ? "" : ": " + detail), retryable,
                null, null);
    }

    /** The provider's {@code finish_reason} as Parley's; none, or one Parley does not know, is a finished reply. */
    static FinishReason finishReason(String wire) {
        if (wire == null) {
            return FinishReason.STOP;
        }
        return switch (wire) {
            case "length" -> FinishReason.LENGTH;
            case "content_filter" -> FinishReason.CONTENT_FILTER;
            default -> FinishReason.STOP;
        };
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
    static String shortened(String text, int maxChars) {
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
    static JsonNode parse(byte[] body) {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    static byte[] readCapped(ResponseBody body) throws IOException, ModelException {
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

    static String describe(Duration duration) {
        return duration.toMillis() < 1000 ? duration.toMillis() + " ms" : duration.toSeconds() + " s";
    }

    // ----------------------------------------------------------------- streaming

    /**
     * One streamed reply: the listener of its event source and the {@link ModelStream} the caller holds. OkHttp
     * calls the listener on one dispatcher thread, in order; {@link #cancel()} comes from any thread. The lock on
     * this object makes handing over a piece, ending the stream and {@link #cancel()} exclusive, so the text of a
     * stopped reply is exactly what the sink received and nothing follows it. The result is completed outside the
     * lock, so that what runs on its completion cannot hold up the stream.
     */
    private final class UpstreamStream extends EventSourceListener implements ModelStream {
        private final CompletionRequest request;
        private final Consumer<String> sink;
        private final long startedNanos = System.nanoTime();
        private final CompletableFuture<Completion> result = new CompletableFuture<>();
        private volatile EventSource source;
        private volatile boolean opened;
        // Guarded by this.
        private final StringBuilder text = new StringBuilder();
        /** A high surrogate that ended a chunk, held back until its low half comes, so no piece splits a pair. */
        private String held = "";
        private boolean ended;
        private boolean askedForTools;
        private String finishReason;
        private String completionId;
        private JsonNode usage;

        UpstreamStream(CompletionRequest request, Consumer<String> sink) {
            this.request = request;
            this.sink = sink;
        }

        /** Enqueues the request on the dispatcher; does not block. */
        void start() {
            source = events.newEventSource(httpRequest(request, true), this);
        }

        @Override
        public CompletableFuture<Completion> result() {
            return result;
        }

        @Override
        public void cancel() {
            Completion stopped;
            synchronized (this) {
                if (ended) {
                    return;
                }
                ended = true;
                stopped = completion(FinishReason.STOPPED, false);
            }
            source.cancel(); // closes the connection: the upstream sees the request cancelled
            result.complete(stopped);
        }

        @Override
        public void onOpen(EventSource eventSource, Response response) {
            opened = true;
        }

        @Override
        public void onEvent(EventSource eventSource, String id, String type, String data) {
            Object outcome;
            synchronized (this) {
                if (ended) {
                    return;
                }
                outcome = event(type, data);
                if (outcome != null) {
                    ended = true;
                }
            }
            if (outcome instanceof ModelException || outcome instanceof RuntimeException) {
                eventSource.cancel(); // nothing more of this stream is wanted
            }
            end(outcome);
        }

        @Override
        public void onClosed(EventSource eventSource) {
            Object outcome;
            synchronized (this) {
                if (ended) {
                    return;
                }
                // Some servers close after the finish_reason without a [DONE]; that reply is whole.
                outcome = finishReason != null ? finished()
                        : new ModelException(ErrorCode.UPSTREAM_ERROR, "the model's stream ended early");
                ended = true;
            }
            end(outcome);
        }

        @Override
        public void onFailure(EventSource eventSource, Throwable failure, Response response) {
            synchronized (this) {
                if (ended) {
                    return; // cancelled, or the failure of a closing that came after the end
                }
            }
            // Worked out outside the lock: reading an error body must not hold up cancel().
            Object outcome = failureOutcome(failure, response);
            synchronized (this) {
                if (ended) {
                    return;
                }
                if (outcome instanceof Completion whole) {
                    // A server that ignored "stream": true and answered one JSON completion.
                    RuntimeException refused = handOver(whole.content());
                    if (refused != null) {
                        outcome = refused;
                    }
                }
                ended = true;
            }
            end(outcome);
        }

        /** Under the lock: {@code null} to go on, else the stream's end (a completion or an exception). */
        private Object event(String type, String data) {
            String payload = data.strip();
            if (payload.isEmpty()) {
                return null; // an empty data line, as some servers send to keep the connection open
            }
            if (payload.equals("[DONE]")) {
                return finished();
            }
            JsonNode root = parse(payload.getBytes(StandardCharsets.UTF_8));
            if (root == null || !root.isObject()) {
                return unreadableReply();
            }
            JsonNode error = root.path("error");
            if ("error".equals(type) && (error.isMissingNode() || error.isNull())) {
                error = root; // an "event: error" whose data is the error itself
            }
            if (!error.isMissingNode() && !error.isNull()) {
                return errorInReply(error, text.length() == 0 && held.isEmpty() ? "the model provider sent no reply"
                        : "the model provider broke off the reply");
            }
            if (completionId == null && root.path("id").isTextual()) {
                completionId = root.path("id").textValue();
            }
            if (root.path("usage").isObject()) {
                usage = root.path("usage"); // the last chunk's, after the finish_reason
            }
            JsonNode choice = root.path("choices").path(0);
            JsonNode delta = choice.path("delta");
            askedForTools |= asksForTools(delta);
            JsonNode reason = choice.path("finish_reason");
            if (reason.isTextual()) {
                finishReason = reason.textValue();
            }
            JsonNode content = delta.path("content");
            if (content.isTextual() && !content.textValue().isEmpty()) {
                String piece = held + content.textValue();
                held = "";
                if (Character.isHighSurrogate(piece.charAt(piece.length() - 1))) {
                    held = piece.substring(piece.length() - 1);
                    piece = piece.substring(0, piece.length() - 1);
                }
                return piece.isEmpty() ? null : handOver(piece);
            }
            return null;
        }

        /** Under the lock: gives {@code piece} to the sink; the sink's exception, which ends the stream, or null. */
        private RuntimeException handOver(String piece) {
            text.append(piece); // before the sink sees it: a sink that cancels keeps the piece in the text
            try {
                sink.accept(piece);
            } catch (RuntimeException e) {
                return ended ? null : e;
            }
            return null;
        }

        /** Under the lock: the reply as it ended by itself, or the failure of a reply without text. */
        private Object finished() {
            if (!held.isEmpty()) {
                String last = held; // a lone high surrogate: sent as it came
                held = "";
                RuntimeException refused = handOver(last);
                if (refused != null) {
                    return refused;
                }
            }
            if (text.toString().isBlank()) {
                return noText(askedForTools || "tool_calls".equals(finishReason)
                        || "function_call".equals(finishReason));
            }
            return completion(finishReason(finishReason), true);
        }

        /** Under the lock: the text so far with the upstream's counts, or the tokenizer's when it sent none. */
        private Completion completion(FinishReason reason, boolean warnWithoutUsage) {
            String content = text.toString();
            long inputTokens;
            long outputTokens;
            if (usage != null) {
                inputTokens = tokenCount(usage.path("prompt_tokens"));
                outputTokens = tokenCount(usage.path("completion_tokens"));
            } else {
                inputTokens = 0;
                for (ContextMessage message : request.messages()) {
                    inputTokens += LocalModelProvider.countTokens(message.content());
                }
                outputTokens = LocalModelProvider.countTokens(content);
                if (warnWithoutUsage) {
                    LOG.warn("the model provider at {} streamed a reply of model {} without token usage; counted with"
                            + " the tokenizer (cl100k_base), which may differ from the model's own count",
                            shown(endpoint), request.model());
                }
            }
            long elapsedMs = Duration.ofNanos(System.nanoTime() - startedNanos).toMillis();
            return new Completion(content, inputTokens, outputTokens, completionId, elapsedMs, reason);
        }

        /** What a failure of the event source means: a {@link ModelException}, or a whole JSON completion. */
        private Object failureOutcome(Throwable failure, Response response) {
            if (response != null && !response.isSuccessful()) {
                return statusFailure(response);
            }
            if (response != null && failure instanceof IllegalStateException) {
                // okhttp-sse refuses a success that is no text/event-stream; it may be a whole completion.
                try {
                    long elapsedMs = Duration.ofNanos(System.nanoTime() - startedNanos).toMillis();
                    return OpenAiCompatibleProvider.this.completion(readCapped(response.body()), elapsedMs);
                } catch (ModelException e) {
                    return e;
                } catch (IOException e) {
                    return connectionFailure(e);
                }
            }
            if (failure instanceof IOException e) {
                return connectionFailure(e);
            }
            return new ModelException(ErrorCode.UPSTREAM_ERROR, "the model provider's stream could not be read", null,
                    failure);
        }

        private ModelException connectionFailure(IOException e) {
            if (e instanceof InterruptedIOException) {
                // Before the stream, OkHttp's call timeout; within it, the read timeout between two events.
                return new ModelException(ErrorCode.UPSTREAM_TIMEOUT, opened
                        ? "the model provider's stream stalled for more than " + describe(timeout)
                        : "the model provider did not answer within " + describe(timeout), null, e);
            }
            return new ModelException(ErrorCode.UPSTREAM_ERROR, "the connection to the model provider failed", null,
                    e);
        }

        private void end(Object outcome) {
            if (outcome instanceof Completion completion) {
                result.complete(completion);
            } else if (outcome instanceof ModelException e) {
                logFailure(request, e);
                result.completeExceptionally(e);
            } else if (outcome instanceof RuntimeException e) {
                result.completeExceptionally(e); // the sink's own failure: passed on as it is
            }
        }
    }

    // ----------------------------------------------------------------- the model list read at start

    /** The upstream's model list (read by {@link UpstreamModelList}), or its failure in an operator's words. */
    private static List<ModelInfo> upstreamModels(OkHttpClient client, HttpUrl base, String apiKey,
                                                  Duration timeout, Naming naming) throws ModelException {
        UpstreamModelList.Result list = UpstreamModelList.read(client, base, apiKey);
        String upstream = "the model provider at " + shown(base);
        String instead = naming.modelsOption() ? "; or name the models with --models" : "";
        if (list.ok()) {
            LOG.info("{} lists {} model(s); the default is {}{}", upstream, list.models().size(),
                    list.models().get(0).id(), naming.modelsOption() ? " (--models chooses others)" : "");
            return list.models();
        }
        int status = list.status();
        throw switch (list.problem()) {
            case KEY_WANTED -> ModelException.notRetryable(upstream + " wants an API key (HTTP " + status
                    + " to GET /models); set " + naming.keyVariable());
            case KEY_REFUSED -> ModelException.notRetryable(upstream + " refused the API key (HTTP " + status
                    + " to GET /models); check " + naming.keyVariable());
            case NO_ENDPOINT -> ModelException.notRetryable(upstream + " has no GET /models (HTTP " + status + "), so"
                    + " it is not an OpenAI-compatible API; check " + naming.baseUrlSetting()
                    + " (it usually ends in /v1)" + instead);
            case STATUS -> new ModelException(ErrorCode.UPSTREAM_ERROR, upstream + " answered HTTP " + status
                    + " to GET /models; try again later" + instead, retryableStatus(status), null, null);
            case NOT_A_LIST -> ModelException.notRetryable(upstream + " did not answer GET /models with an OpenAI"
                    + " model list ({\"data\":[{\"id\":…}]}), so it is not an OpenAI-compatible API; check "
                    + naming.baseUrlSetting() + instead);
            case TIMEOUT -> new ModelException(ErrorCode.UPSTREAM_TIMEOUT, upstream + " did not answer GET /models"
                    + " within " + describe(timeout) + instead, null, list.cause());
            case UNREACHABLE -> new ModelException(ErrorCode.UPSTREAM_ERROR, "cannot reach " + upstream + " ("
                    + withoutKey(list.cause().getClass().getSimpleName() + ": " + list.cause().getMessage(), apiKey)
                    + "); check " + naming.baseUrlSetting() + " and that the server is running" + instead, null,
                    list.cause());
            case EMPTY -> ModelException.notRetryable(upstream + " lists no model"
                    + (list.unusable().isEmpty() ? "" : " Parley can offer") + " at GET /models; load or install one"
                    + " there" + (naming.modelsOption() ? ", or name the models with --models" : ""));
        };
    }

    // ----------------------------------------------------------------- settings, checked at start

    /**
     * What an operator calls this provider's settings, for messages that ask them to check one.
     *
     * @param baseUrlSetting the option with the base URL, e.g. {@code --model-base-url}
     * @param keyVariable    the environment variable with the API key
     * @param modelsOption   whether {@code --models} can name the models instead of {@code GET /models}
     */
    private record Naming(String baseUrlSetting, String keyVariable, boolean modelsOption) {
    }


    /** A client of this provider's own, whose dispatcher lets {@value #MAX_LIVE_CALLS} streams run at once. */
    static OkHttpClient ownedClient() {
        Dispatcher dispatcher = new Dispatcher();
        dispatcher.setMaxRequests(MAX_LIVE_CALLS);
        dispatcher.setMaxRequestsPerHost(MAX_LIVE_CALLS);
        return new OkHttpClient.Builder().dispatcher(dispatcher).build();
    }

    static OkHttpClient configured(OkHttpClient client, Duration timeout) {
        // A redirect would turn the POST into a GET; an explicit "answered HTTP 301" is easier to act on.
        return client.newBuilder()
                .callTimeout(timeout)
                .readTimeout(timeout)
                .writeTimeout(timeout)
                .followRedirects(false)
                .build();
    }

    static void release(OkHttpClient client) {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }

    private static HttpUrl baseUrl(String baseUrl, Naming naming) {
        HttpUrl base = baseUrl == null ? null : HttpUrl.parse(baseUrl.strip());
        if (base == null) {
            throw new IllegalArgumentException(naming.baseUrlSetting() + " must be an http:// or https:// URL such as "
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

    private static String apiKey(String apiKey, Naming naming) {
        if (apiKey == null || apiKey.isBlank()) {
            return null;
        }
        String key = apiKey.strip();
        // Checked here so that OkHttp never builds an exception message around the header value.
        if (!key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException(
                    naming.keyVariable() + " contains characters that cannot be sent in an HTTP header");
        }
        return key;
    }

    static Duration timeout(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException(
                    "the model request timeout must be more than 0 and at most " + MAX_TIMEOUT.toMinutes()
                            + " minutes (got " + timeout + ")");
        }
        return timeout;
    }

    // ----------------------------------------------------------------- what an operator may read

    /** A URL fit for a log: no user name, password, query or fragment, which may hold credentials. */
    static String shown(HttpUrl url) {
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

    static String withoutKey(String text, String apiKey) {
        return apiKey == null ? text : text.replace(apiKey, "***");
    }
}
