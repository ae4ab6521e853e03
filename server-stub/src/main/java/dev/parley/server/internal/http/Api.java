package dev.parley.server.internal.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.ErrorBody;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.HealthResponse;
import dev.parley.protocol.Ids;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RefreshRequest;
import dev.parley.protocol.RegenerateRequest;
import dev.parley.protocol.RenameRequest;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.Session;
import dev.parley.protocol.StreamEvents;
import dev.parley.server.ModelProvider;
import dev.parley.server.ServerConfig;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.auth.AuthService;
import dev.parley.server.internal.chat.ChatService;
import dev.parley.server.internal.chat.LiveChanges;
import dev.parley.server.internal.chat.ParsedRow;
import dev.parley.server.internal.chat.PushService;
import dev.parley.server.internal.chat.SessionService;
import dev.parley.server.internal.chat.SyncService;
import dev.parley.server.internal.chat.UsageService;
import dev.parley.server.internal.model.ActiveModels;
import dev.parley.server.internal.net.ClientAddresses;
import dev.parley.server.internal.net.SlowBodyGuard;
import dev.parley.server.internal.net.Transport;
import dev.parley.server.internal.store.Database;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP edge: routes of SPEC §5, JSON in and out, bearer authentication, and the single place where every
 * exception becomes the error body of §5. Handlers are small; the services hold the logic.
 */
public final class Api implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Api.class);
    private static final String JSON = "application/json";
    /** Rows received by the direct-write endpoint, tagged {@code kind} (session, message) and {@code result}. */
    public static final String PUSH_ROWS = "parley.push.rows";

    private final ObjectMapper json;
    private final Database db;
    private final ActiveModels models;
    private final AuthService auth;
    private final ChatService chat;
    private final PushService push;
    private final SyncService sync;
    private final SessionService sessions;
    private final UsageService usage;
    private final MeterRegistry meters;
    private final EventStreams streams;
    private final LiveChanges liveChanges;
    private final ClientAddresses addresses;
    private final RequestGate gate;
    private final String boundHost;
    private final int port;
    private final ServerConfig.Security security;
    private final Transport transport;

    /**
     * @param liveChanges what the live change streams of SPEC §5.5 follow; its owner closes it
     * @param addresses  says which client a request comes from, for the per-address limits
     * @param boundHost  the address the server listens on (a loopback one accepts only loopback Host headers)
     * @param port       the port to listen on; 0 for any free one
     * @param security   the limits and secrets of SPEC §8
     */
    public Api(ObjectMapper json, Database db, ActiveModels models, AuthService auth, ChatService chat,
               LiveChanges liveChanges,
               PushService push, SyncService sync, SessionService sessions, UsageService usage,
               MeterRegistry meters, java.time.Duration keepAlive, ClientAddresses addresses, String boundHost,
               int port, ServerConfig.Security security) {
        this.json = json;
        this.db = db;
        this.models = models;
        this.auth = auth;
        this.chat = chat;
        this.push = push;
        this.sync = sync;
        this.sessions = sessions;
        this.usage = usage;
        this.meters = meters;
        this.streams = new EventStreams(json, keepAlive, 8);
        this.liveChanges = liveChanges;
        this.addresses = addresses;
        this.gate = new RequestGate(boundHost, security.launchSecret());
        this.boundHost = boundHost;
        this.port = port;
        this.security = security;
        this.transport = new Transport(security, addresses);
    }

    /** Ends the open streams and stops their writers. */
    @Override
    public void close() {
        streams.close();
    }

    /** Registers routes, limits and error mapping on a Javalin configuration. */
    public void configure(JavalinConfig config) {
        config.startup.showJavalinBanner = false;
        config.startup.showOldJavalinVersionWarning = false;
        config.http.maxRequestSize = Limits.MAX_REQUEST_BYTES;
        config.http.defaultContentType = JSON;
        // Requests Jetty refuses before routing (bad framing, illegal header characters) get the same error body.
        config.jetty.modifyServer(server -> {
            server.setErrorHandler(new JsonErrorHandler(json));
            // Javalin puts its servlet context inside the innermost wrapper it finds here.
            server.setHandler(new SlowBodyGuard(security.minRequestBytesPerSecond(), Limits.MAX_REQUEST_BYTES));
        });
        config.jetty.addConnector((server, http) -> transport.connector(server, http, boundHost, port));
        config.requestLogger.http((ctx, ms) -> LOG.debug("{} {} -> {} in {} ms", ctx.method(), ctx.path(),
                ctx.status().getCode(), ms.longValue()));

        var routes = config.routes;
        // Before any route: a rebinding Host or a missing launch secret is refused before anything is read.
        routes.before(gate::check);
        routes.post("/api/auth/signup", guarded(ctx -> sendTokens(ctx, 201,
                auth.signUp(body(ctx, Credentials.class), clientAddress(ctx)))));
        routes.post("/api/auth/signin", guarded(ctx -> sendTokens(ctx, 200,
                auth.signIn(body(ctx, Credentials.class), clientAddress(ctx)))));
        routes.post("/api/auth/refresh", guarded(ctx -> sendTokens(ctx, 200,
                auth.refresh(body(ctx, RefreshRequest.class).refreshToken()))));
        routes.post("/api/auth/signout", guarded(ctx -> {
            auth.signOut(bearer(ctx));
            ctx.status(204);
        }));
        routes.post("/api/chat", guarded(ctx -> {
            ChatRequest request = body(ctx, ChatRequest.class);
            String token = bearer(ctx);
            String userId = token == null ? null : auth.authenticate(token);
            if (wantsStream(ctx)) {
                streams.open(ctx, new ReplyFeed(chat.stream(userId, request, clientAddress(ctx)), 0));
            } else {
                answer(ctx, chat.chat(userId, request, clientAddress(ctx)));
            }
        }));
        routes.post("/api/chat/regenerate", guarded(ctx -> {
            String userId = user(ctx);
            RegenerateRequest request = body(ctx, RegenerateRequest.class);
            if (wantsStream(ctx)) {
                streams.open(ctx, new ReplyFeed(chat.streamRegenerate(userId, request), 0));
            } else {
                answer(ctx, chat.regenerate(userId, request));
            }
        }));
        routes.get("/api/chat/{messageId}/stream", guarded(ctx -> {
            String userId = user(ctx);
            int after = offset(ctx);
            streams.open(ctx, new ReplyFeed(chat.reattach(userId, ctx.pathParam("messageId"), replyId(ctx)), after));
        }));
        routes.get("/api/chat/events", guarded(ctx -> {
            AuthService.Authenticated caller = authenticatedUntil(ctx);
            // The stream ends when its access token expires; the client refreshes the token and opens it again.
            streams.open(ctx, new ChangeFeed(liveChanges, caller.userId(), () -> auth.expired(caller.expiresAt())));
        }));
        routes.post("/api/chat/{messageId}/stop", guarded(ctx -> answer(ctx, chat.stop(user(ctx),
                ctx.pathParam("messageId"), replyId(ctx)))));
        routes.post("/api/chat/messages", guarded(ctx -> {
            String userId = user(ctx);
            JsonNode body = body(ctx, JsonNode.class);
            if (!body.isObject()) {
                throw ApiException.badRequest("the request body must be a JSON object with sessions and messages");
            }
            PushResponse pushed = push.push(userId, rows(body, "sessions", Session.class),
                    rows(body, "messages", Message.class));
            countPushedRows("session", pushed.sessions());
            countPushedRows("message", pushed.messages());
            send(ctx, 200, pushed);
        }));
        routes.get("/api/chat/sync", guarded(ctx -> send(ctx, 200,
                sync.page(user(ctx), ctx.queryParam("cursor"), SyncService.limit(ctx.queryParam("limit"))))));
        routes.get("/api/chat/sessions", guarded(ctx -> send(ctx, 200,
                sessions.list(user(ctx), ctx.queryParam("cursor"), SyncService.limit(ctx.queryParam("limit"))))));
        routes.patch("/api/chat/sessions/{id}", guarded(ctx -> {
            String userId = user(ctx);
            send(ctx, 200, sessions.rename(userId, ctx.pathParam("id"), body(ctx, RenameRequest.class)));
        }));
        routes.delete("/api/chat/sessions/{id}", guarded(ctx -> {
            sessions.delete(user(ctx), ctx.pathParam("id"));
            ctx.status(204);
        }));
        routes.get("/api/usage/daily", guarded(ctx -> send(ctx, 200,
                usage.daily(user(ctx), ctx.queryParam("from"), ctx.queryParam("to")))));
        routes.get("/api/models", guarded(ctx -> {
            ModelProvider provider = models.current(); // one provider for both fields, whatever is swapped meanwhile
            send(ctx, 200, new ModelsResponse(provider.models(), provider.defaultModel()));
        }));
        routes.get("/health", guarded(ctx -> {
            boolean up = db.isReachable();
            send(ctx, up ? 200 : 503, new HealthResponse(up ? "ok" : "degraded", up ? "ok" : "unreachable"));
        }));

        routes.exception(ApiException.class, (e, ctx) -> error(ctx, e.code(), e.getMessage(), e.retryable(),
                e.retryAfterSeconds(), e.persisted()));
        // 421 has no code of its own in SPEC §5; bad_request says what is wrong with the request (decision 0015).
        routes.exception(RequestGate.MisdirectedRequest.class, (e, ctx) -> {
            error(ctx, ErrorCode.BAD_REQUEST, e.getMessage(), false, null, null);
            ctx.status(421);
        });
        routes.exception(JacksonException.class, (e, ctx) -> error(ctx, ErrorCode.BAD_REQUEST, describe(e), null, null));
        routes.exception(HttpResponseException.class, (e, ctx) -> httpError(ctx, e.getStatus()));
        routes.exception(Exception.class, (e, ctx) -> {
            if (responseOpen(ctx)) {
                LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, ErrorCode.INTERNAL, "Something went wrong on the server. Try again later.", null, null);
            } else {
                // An event stream that ended (its client left, or the server is stopping): nothing left to answer.
                LOG.debug("a response already sent failed afterwards: {}", e.toString());
            }
        });
        routes.error(404, ctx -> {
            if (ctx.result() == null) {
                error(ctx, ErrorCode.NOT_FOUND, "No such endpoint: " + ctx.method() + " " + ctx.path(), null, null);
            }
        });
    }

    /**
     * Runs a handler so that a JVM {@link Error} (an {@code OutOfMemoryError} in the middle of a request) is
     * answered like any other failure, with the error body: Javalin's exception mapping sees {@code Exception}s
     * only, and an Error reaching Jetty would leave the client an empty 500.
     */
    private Handler guarded(Handler handler) {
        return ctx -> {
            try {
                handler.handle(ctx);
            } catch (Error e) {
                if (!responseOpen(ctx)) {
                    throw e;
                }
                LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, ErrorCode.INTERNAL, "Something went wrong on the server. Try again later.", null, null);
            }
        };
    }

    /** The key of the client behind this request, for the limits kept per client address. */
    private String clientAddress(Context ctx) {
        return addresses.resolve(ctx.req().getRemoteAddr(), ctx.header("X-Forwarded-For"));
    }

    /** A response that holds tokens: never stored by a cache on the way (SPEC §8). */
    private void sendTokens(Context ctx, int status, Object body) throws JsonProcessingException {
        ctx.header("Cache-Control", "no-store");
        ctx.header("Pragma", "no-cache");
        send(ctx, status, body);
    }

    /** False once the response was sent, or its request recycled (an event stream whose client left). */
    private static boolean responseOpen(Context ctx) {
        try {
            return !ctx.res().isCommitted();
        } catch (RuntimeException gone) {
            return false;
        }
    }

    private static boolean wantsStream(Context ctx) {
        String accept = ctx.header("Accept");
        return accept != null && accept.contains(StreamEvents.MEDIA_TYPE);
    }

    /** The reply a re-attach or a stop names ({@code ?replyId=}, SPEC §5.3), or {@code null} for the message's own. */
    private static String replyId(Context ctx) {
        String replyId = ctx.queryParam("replyId");
        if (replyId == null || replyId.isEmpty()) {
            return null;
        }
        if (!Ids.isValid(replyId)) {
            throw ApiException.badRequest("replyId must be a UUID");
        }
        return replyId;
    }

    /** Where a re-attaching stream starts: {@code Last-Event-ID}, else {@code ?after=}, else 0. */
    private static int offset(Context ctx) {
        String value = ctx.header("Last-Event-ID");
        if (value == null || value.isBlank()) {
            value = ctx.queryParam("after");
        }
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            int offset = Integer.parseInt(value.strip());
            if (offset >= 0) {
                return offset;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.badRequest("Last-Event-ID and after must be a reply length: a whole number >= 0");
    }

    /**
     * Answers with the Chat response once the exchange has one, without holding the request thread meanwhile; a
     * failure becomes the error body, with {@code persisted}.
     */
    private void answer(Context ctx, CompletableFuture<ChatResponse> response) {
        ctx.future(() -> response.handle((body, failure) -> {
            if (failure == null) {
                try {
                    send(ctx, 200, body);
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException("a chat response always serializes", e);
                }
                return null;
            }
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause instanceof ApiException e) {
                error(ctx, e.code(), e.getMessage(), e.retryable(), e.retryAfterSeconds(), e.persisted());
            } else {
                LOG.error("{} {} failed", ctx.method(), ctx.path(), cause);
                error(ctx, ErrorCode.INTERNAL, "Something went wrong on the server. Try again later.", null, false);
            }
            return null;
        }));
    }

    private <T> T body(Context ctx, Class<T> type) throws java.io.IOException {
        if (!isJson(ctx.header("Content-Type"))) {
            // Not only a matter of form: a web page can send text/plain or a form to any address without asking
            // first (a "simple" cross-site request), but never application/json.
            throw new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "The request body must be JSON, sent with Content-Type: application/json.");
        }
        byte[] bytes;
        try {
            bytes = ctx.bodyAsBytes();
        } catch (HttpResponseException e) {
            throw e;
        } catch (Exception e) {
            if (endedEarly(e)) {
                // The connection broke (or the client stopped sending) before the body was whole: not an error of
                // the server's, and nothing was read, so nothing was done.
                LOG.debug("{} {}: request body ended early: {}", ctx.method(), ctx.path(), e.getMessage());
                throw ApiException.incompleteBody();
            }
            throw e;
        }
        if (bytes.length > Limits.MAX_REQUEST_BYTES) {
            throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE,
                    "The request body is larger than " + Limits.MAX_REQUEST_BYTES + " bytes.");
        }
        if (bytes.length == 0) {
            throw ApiException.badRequest("the request body is required");
        }
        try {
            // JSON is UTF-8 (RFC 8259), strictly: Jackson's reader lets overlong forms (C0 AF is '/') and code
            // points past U+10FFFF through, which would store a text other than the bytes sent.
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            throw ApiException.badRequest("the request body is not valid UTF-8");
        }
        T value = json.readValue(bytes, type);
        if (value == null) {
            throw ApiException.badRequest("the request body must be a JSON object");
        }
        return value;
    }

    /** {@code application/json}, with or without parameters such as {@code charset=utf-8}. */
    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip();
        return type.equalsIgnoreCase(JSON);
    }

    /** True when reading the body failed because the input ended or broke (an I/O error somewhere in the chain). */
    private static boolean endedEarly(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.IOException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Counts each row a push received, by kind and result: {@value #PUSH_ROWS}. A push holds up to 500 rows, so
     * they are tallied first and each counter is looked up once per result, not once per row.
     */
    private void countPushedRows(String kind, List<RowResult> results) {
        Map<RowResult.Outcome, Long> tally = results.stream()
                .collect(Collectors.groupingBy(RowResult::result, () -> new EnumMap<>(RowResult.Outcome.class),
                        Collectors.counting()));
        tally.forEach((outcome, rows) -> meters.counter(PUSH_ROWS, "kind", kind, "result", outcome.wire())
                .increment(rows));
    }

    /** Reads the rows of one array of a push one by one, so that an unreadable row is rejected alone. */
    private <T> List<ParsedRow<T>> rows(JsonNode body, String field, Class<T> type) {
        JsonNode array = body.get(field);
        if (array == null || array.isNull()) {
            return List.of();
        }
        if (!array.isArray()) {
            throw ApiException.badRequest("field '" + field + "' must be an array");
        }
        if (array.size() > Limits.MAX_PUSH_ROWS) {
            throw ApiException.badRequest("a push holds at most " + Limits.MAX_PUSH_ROWS + " rows");
        }
        List<ParsedRow<T>> rows = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode node = array.get(i);
            String id = node.path("id").isTextual() ? node.path("id").asText() : null;
            if (!node.isObject()) {
                rows.add(ParsedRow.unreadable(id, field + "[" + i + "] must be an object"));
                continue;
            }
            try {
                rows.add(ParsedRow.of(json.treeToValue(node, type)));
            } catch (JacksonException e) {
                rows.add(ParsedRow.unreadable(id, describe(e).replace("field '", "field '" + field + "[" + i + "].")));
            }
        }
        return rows;
    }

    private static String bearer(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null) {
            return null;
        }
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() == 7) {
            throw ApiException.unauthorized("The Authorization header must be 'Bearer <access token>'.");
        }
        return header.substring(7).strip();
    }

    private String user(Context ctx) {
        String token = bearer(ctx);
        if (token == null) {
            throw ApiException.unauthorized("Sign in to do this.");
        }
        return auth.authenticate(token);
    }

    private AuthService.Authenticated authenticatedUntil(Context ctx) {
        String token = bearer(ctx);
        if (token == null) {
            throw ApiException.unauthorized("Sign in to do this.");
        }
        return auth.authenticateUntil(token);
    }

    private void send(Context ctx, int status, Object body) throws JsonProcessingException {
        ctx.status(status).contentType(JSON).result(json.writeValueAsBytes(body));
    }

    private void error(Context ctx, ErrorCode code, String message, Long retryAfterSeconds, Boolean persisted) {
        error(ctx, code, message, code.retryable(), retryAfterSeconds, persisted);
    }

    private void error(Context ctx, ErrorCode code, String message, boolean retryable, Long retryAfterSeconds,
                       Boolean persisted) {
        if (persisted == null && ("/api/chat".equals(ctx.path()) || "/api/chat/regenerate".equals(ctx.path()))) {
            persisted = false; // every chat failure says whether the message was stored; these stored nothing
        }
        if (retryAfterSeconds != null) {
            ctx.header("Retry-After", Long.toString(retryAfterSeconds));
        }
        if (code.status() == 401) {
            ctx.header("WWW-Authenticate", "Bearer");
        }
        ErrorBody body = new ErrorBody(new ErrorBody.ErrorDetail(code, message, retryable, retryAfterSeconds),
                persisted);
        try {
            ctx.status(code.status()).contentType(JSON).result(json.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the error body always serializes", e);
        }
    }

    private void httpError(Context ctx, int status) {
        switch (status) {
            case 413 -> error(ctx, ErrorCode.PAYLOAD_TOO_LARGE,
                    "The request body is larger than " + Limits.MAX_REQUEST_BYTES + " bytes.", null, null);
            case 404, 405 -> error(ctx, ErrorCode.NOT_FOUND,
                    "No such endpoint: " + ctx.method() + " " + ctx.path(), null, null);
            case 401 -> error(ctx, ErrorCode.UNAUTHORIZED, "Sign in to do this.", null, null);
            case 403 -> error(ctx, ErrorCode.FORBIDDEN, "This is not allowed.", null, null);
            default -> {
                if (status >= 500) {
                    error(ctx, ErrorCode.INTERNAL, "Something went wrong on the server. Try again later.", null, null);
                } else {
                    error(ctx, ErrorCode.BAD_REQUEST, "The request could not be read (HTTP " + status + ").", null,
                            null);
                }
            }
        }
    }

    /** A plain description of a JSON problem: where it is and what was expected, never the echoed input. */
    static String describe(JacksonException e) {
        if (e instanceof StreamConstraintsException) {
            return "the JSON body is nested or sized beyond the limits";
        }
        if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            String field = mapping.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            if (e instanceof ValueInstantiationException || e instanceof InvalidFormatException) {
                String cause = e.getCause() instanceof IllegalArgumentException iae && iae.getMessage() != null
                        ? ": " + iae.getMessage() : "";
                return "field '" + field + "' has an invalid value" + cause;
            }
            if (e instanceof MismatchedInputException) {
                return "field '" + field + "' has the wrong type";
            }
            return "field '" + field + "' could not be read";
        }
        if (e instanceof MismatchedInputException) {
            return "the request body must be a JSON object of the documented shape";
        }
        var location = e.getLocation();
        return location == null
                ? "the request body is not valid JSON"
                : "the request body is not valid JSON (line " + location.getLineNr() + ", column "
                        + location.getColumnNr() + ")";
    }

}
