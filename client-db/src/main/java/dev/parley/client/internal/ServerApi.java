package dev.parley.client.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.ErrorBody;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.ModelsResponse;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RefreshRequest;
import dev.parley.protocol.RegenerateRequest;
import dev.parley.protocol.StreamEvents;
import dev.parley.protocol.SyncPage;
import dev.parley.protocol.UsageResponse;
import java.io.IOException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Optional;
import okhttp3.Authenticator;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.Route;

/**
 * The server's HTTP API over OkHttp. A transport failure ({@link IOException}: offline, timeout, reset — the
 * request may or may not have reached the server) and an error answer ({@link ServerError}) are kept apart, which
 * is why every write carries an idempotency id. On a 401 the access token is refreshed once and the request sent
 * again. Thread-safe.
 */
public final class ServerApi {
    private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
    /** The header of the embedded server's launch secret (the server's {@code ServerConfig.Security}). */
    public static final String SECRET_HEADER = "X-Parley-Launch-Secret";
    /** The longest a stream may stay silent: three of the server's keep-alive periods. */
    public static final Duration STREAM_SILENCE = Duration.ofSeconds(45);
    /** The most days one usage query may span. */
    public static final int MAX_USAGE_DAYS = 366;

    private final HttpUrl base;
    private final ObjectMapper json;
    private final TokenStore tokens;
    private final OkHttpClient http;
    /** The same client (connections, refresh) without an overall time limit, for streamed replies. */
    private final OkHttpClient streams;
    private final Object refreshLock = new Object();

    public ServerApi(String baseUrl, ObjectMapper json, TokenStore tokens, Duration timeout) {
        this(baseUrl, json, tokens, timeout, null);
    }

    /**
     * @param launchSecret sent with every request, streams included, in {@value #SECRET_HEADER}; {@code null} for
     *                     none. It is never logged.
     */
    public ServerApi(String baseUrl, ObjectMapper json, TokenStore tokens, Duration timeout, String launchSecret) {
        this.base = HttpUrl.get(baseUrl);
        this.json = json;
        this.tokens = tokens;
        this.http = new OkHttpClient.Builder()
                .callTimeout(timeout)
                .readTimeout(timeout)
                // A connection that died while pooled (after an outage) is retried at once; safe, as writes carry ids.
                .retryOnConnectionFailure(true)
                .authenticator(new Refresher())
                .addInterceptor(chain -> launchSecret == null ? chain.proceed(chain.request())
                        : chain.proceed(chain.request().newBuilder().header(SECRET_HEADER, launchSecret).build()))
                .build();
        this.streams = http.newBuilder().callTimeout(Duration.ZERO).readTimeout(STREAM_SILENCE).build();
    }

    public AuthResponse signUp(Credentials credentials) throws IOException, ServerError {
        return call(post("/api/auth/signup", credentials, null), AuthResponse.class);
    }

    public AuthResponse signIn(Credentials credentials) throws IOException, ServerError {
        return call(post("/api/auth/signin", credentials, null), AuthResponse.class);
    }

    /** Best effort: revokes this device's tokens on the server. */
    public void signOut(String accessToken) throws IOException, ServerError {
        call(new Request.Builder().url(url("/api/auth/signout")).post(RequestBody.create(new byte[0], JSON))
                .header("Authorization", "Bearer " + accessToken).build(), Void.class);
    }

    /** One exchange; anonymous when {@code account} is null. */
    public ChatResponse chat(ChatRequest request, AuthResponse account) throws IOException, ServerError {
        return call(post("/api/chat", request, account), ChatResponse.class);
    }

    /**
     * One exchange asking for its reply as a stream (SPEC §5.3); anonymous when {@code account} is null. The call
     * has no overall time limit, only {@link #STREAM_SILENCE} between bytes (the server sends a keep-alive at least
     * every 15 s); cancelling it ends the read with an {@link IOException}. Open it with {@link #open}.
     */
    public Call chatStream(ChatRequest request, AuthResponse account) throws IOException {
        Request.Builder builder = new Request.Builder().url(url("/api/chat"))
                .post(RequestBody.create(json.writeValueAsBytes(request), JSON))
                .header("Accept", StreamEvents.MEDIA_TYPE);
        return streams.newCall(account == null ? builder.build() : authorized(builder, account));
    }

    /**
     * Another reply to a stored question, asked as a stream (SPEC §5.4); like {@link #chatStream}, signed in only.
     * Open it with {@link #open}.
     */
    public Call regenerateStream(RegenerateRequest request, AuthResponse account) throws IOException {
        Request.Builder builder = new Request.Builder().url(url("/api/chat/regenerate"))
                .post(RequestBody.create(json.writeValueAsBytes(request), JSON))
                .header("Accept", StreamEvents.MEDIA_TYPE);
        return streams.newCall(authorized(builder, account));
    }

    /**
     * Re-attaches to the reply of {@code messageId} from UTF-16 offset {@code after} (SPEC §5.3); {@code replyId}
     * selects a regenerated reply ({@code null}: the message's own).
     */
    public Call attach(String messageId, String replyId, int after, AuthResponse account) {
        HttpUrl.Builder path = base.newBuilder().addPathSegments("api/chat").addPathSegment(messageId)
                .addPathSegment("stream");
        HttpUrl url = (replyId == null ? path : path.addQueryParameter("replyId", replyId)).build();
        return streams.newCall(authorized(new Request.Builder().url(url).get()
                .header("Accept", StreamEvents.MEDIA_TYPE)
                .header("Last-Event-ID", Integer.toString(after)), account));
    }

    /**
     * The user's live change stream (SPEC §5.5), with the time limits of a reply stream: it stays open until the
     * server or the caller ends it, and a read fails after {@link #STREAM_SILENCE} without a byte. Open it with
     * {@link #open}.
     */
    public Call events(AuthResponse account) {
        return streams.newCall(authorized(new Request.Builder().url(url("/api/chat/events")).get()
                .header("Accept", StreamEvents.MEDIA_TYPE), account));
    }

    /**
     * Executes a stream call: the response when it is a stream or a JSON answer (a server without streaming, or
     * a finished exchange answered whole), else the error it carried. The caller closes the response.
     */
    public Response open(Call call) throws IOException, ServerError {
        Response response = call.execute();
        if (!response.isSuccessful()) {
            try (response) {
                throw errorOf(response.code(), response.body().bytes());
            }
        }
        return response;
    }

    /** True when {@code response} is a stream of server-sent events rather than one JSON body. */
    public static boolean isStream(Response response) {
        MediaType type = response.body().contentType();
        return type != null && (type.type() + "/" + type.subtype()).equals(StreamEvents.MEDIA_TYPE);
    }

    /** Reads a JSON chat answer (see {@link #open}). */
    public ChatResponse chatResponse(Response response) throws IOException {
        return json.readValue(response.body().bytes(), ChatResponse.class);
    }

    /**
     * Stops the live generation of {@code messageId} (a regenerated reply: {@code replyId}, else {@code null}) and
     * answers the exchange as stored (SPEC §5.3 stop).
     */
    public ChatResponse stop(String messageId, String replyId, AuthResponse account) throws IOException, ServerError {
        HttpUrl.Builder path = base.newBuilder().addPathSegments("api/chat").addPathSegment(messageId)
                .addPathSegment("stop");
        HttpUrl url = (replyId == null ? path : path.addQueryParameter("replyId", replyId)).build();
        return call(authorized(new Request.Builder().url(url).post(RequestBody.create(new byte[0], JSON)), account),
                ChatResponse.class);
    }

    /** Pushes rows of {@code account}; they are only ever sent with that account's token. */
    public PushResponse push(PushRequest request, AuthResponse account) throws IOException, ServerError {
        return call(post("/api/chat/messages", request, account), PushResponse.class);
    }

    public SyncPage sync(String cursor, int limit, AuthResponse account) throws IOException, ServerError {
        HttpUrl url = url("/api/chat/sync").newBuilder().addQueryParameter("cursor", cursor == null ? "" : cursor)
                .addQueryParameter("limit", Integer.toString(limit)).build();
        return call(authorized(new Request.Builder().url(url).get(), account), SyncPage.class);
    }

    /**
     * The account's daily usage from {@code from} to {@code to}, both inclusive (SPEC §5 {@code GET /api/usage/daily};
     * the server answers at most {@value #MAX_USAGE_DAYS} days a call).
     */
    public UsageResponse usage(LocalDate from, LocalDate to, AuthResponse account) throws IOException, ServerError {
        HttpUrl url = url("/api/usage/daily").newBuilder().addQueryParameter("from", from.toString())
                .addQueryParameter("to", to.toString()).build();
        return call(authorized(new Request.Builder().url(url).get(), account), UsageResponse.class);
    }

    public ModelsResponse models() throws IOException, ServerError {
        return call(new Request.Builder().url(url("/api/models")).get().build(), ModelsResponse.class);
    }

    /** The access token currently stored, or empty when signed out. */
    public Optional<String> accessToken() {
        return tokens.load().map(AuthResponse::accessToken);
    }

    /** Releases the HTTP client's threads and connections. */
    public void close() {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }

    private Request post(String path, Object body, AuthResponse account) throws IOException {
        Request.Builder request = new Request.Builder().url(url(path))
                .post(RequestBody.create(json.writeValueAsBytes(body), JSON));
        return account == null ? request.build() : authorized(request, account);
    }

    /** Adds the bearer token and tags the request with its account, so a refresh never switches accounts. */
    private static Request authorized(Request.Builder request, AuthResponse account) {
        return request.header("Authorization", "Bearer " + account.accessToken())
                .tag(Account.class, new Account(account.user().id()))
                .build();
    }

    /** The account a request was sent for. */
    private record Account(String userId) {
    }

    private HttpUrl url(String path) {
        return base.newBuilder().encodedPath(path).build();
    }

    private <T> T call(Request request, Class<T> type) throws IOException, ServerError {
        try (Response response = http.newCall(request).execute()) {
            byte[] body = response.body().bytes();
            if (response.isSuccessful()) {
                return type == Void.class || body.length == 0 ? null : json.readValue(body, type);
            }
            throw errorOf(response.code(), body);
        }
    }

    /** The error an answer with status {@code status} and {@code body} carries. */
    private ServerError errorOf(int status, byte[] body) {
        ErrorBody error;
        try {
            error = json.readValue(body, ErrorBody.class);
        } catch (IOException e) {
            error = null;
        }
        if (error == null || error.error() == null) {
            // Not Parley's answer: treat it as the server being unreachable, which retrying can cure.
            error = new ErrorBody(new ErrorBody.ErrorDetail(ErrorCode.UPSTREAM_ERROR, "The server answered HTTP "
                    + status + ".", true, null), null);
            return new ServerError(status, error, false);
        }
        return new ServerError(status, error, true);
    }

    /** The error an {@code error} event of a stream carries (its data is the error body plus {@code persisted}). */
    public ServerError errorEvent(String data) throws IOException {
        ErrorBody body = json.readValue(data, ErrorBody.class);
        if (body == null || body.error() == null) {
            throw new IOException("an error event without an error");
        }
        return new ServerError(200, body, true);
    }

    /** On a 401 to a request that carried a bearer token: refresh once, save the new tokens, send again. */
    private final class Refresher implements Authenticator {
        @Override
        public Request authenticate(Route route, Response response) throws IOException {
            String sent = response.request().header("Authorization");
            if (sent == null || response.priorResponse() != null) {
                return null; // not an authenticated call, or already retried once
            }
            Account sentFor = response.request().tag(Account.class);
            synchronized (refreshLock) { // one refresh at a time; readers of the token store never wait for it
                Optional<AuthResponse> stored = tokens.load();
                if (stored.isEmpty() || sentFor == null || !stored.get().user().id().equals(sentFor.userId())) {
                    return null; // signed out or another account meanwhile: never resend with its token
                }
                if (!sent.equals("Bearer " + stored.get().accessToken())) {
                    // Another thread refreshed while this request was out: just send again with the new token.
                    return withToken(response.request(), stored.get().accessToken());
                }
                AuthResponse fresh;
                try {
                    fresh = call(post("/api/auth/refresh", new RefreshRequest(stored.get().refreshToken()), null),
                            AuthResponse.class);
                    if (!fresh.user().id().equals(sentFor.userId())) {
                        return null;
                    }
                } catch (ServerError e) {
                    return null; // the refresh token is spent or revoked: the user signs in again
                }
                tokens.save(fresh);
                return withToken(response.request(), fresh.accessToken());
            }
        }

        private Request withToken(Request request, String accessToken) {
            return request.newBuilder().header("Authorization", "Bearer " + accessToken).build();
        }
    }
}
