package dev.parley.chaos;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chaos.DeviceActions.User;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.ErrorBody;
import dev.parley.protocol.Json;
import dev.parley.protocol.RefreshRequest;
import dev.parley.protocol.StreamEvents;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSources;

/**
 * A device's streaming line to the server processes, beside its {@link dev.parley.client.ChatClient} (which does not
 * stream yet): OkHttp and okhttp-sse through the device's own {@link FaultInjectingProxy} to each server process, so
 * that streams meet the same faults as everything else. It signs in to each account it streams for on its own (a
 * token family of its own, so its refreshes never race the client's), refreshes on 401 and signs in again when the
 * refresh token is gone (a lost answer to a refresh makes the next one a reuse, which revokes the family).
 *
 * <p>Thread-safe; the owner closes it.
 */
final class DirectChat implements AutoCloseable {
    private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

    /** Thrown when the server refused a request: its status and error body ({@code null} when it had none). */
    static final class Refused extends Exception {
        final int status;
        final ErrorBody body;

        Refused(int status, ErrorBody body) {
            super(status + " " + (body == null ? "without a body" : body.error().code().wire()));
            this.status = status;
            this.body = body;
        }

        String code() {
            return body == null ? "http_" + status : body.error().code().wire();
        }

        boolean retryable() {
            return body == null || body.error().retryable();
        }
    }

    /** A JSON answer of {@code POST /api/chat} or the stop endpoint: a Chat response, or the refusal. */
    record Answer(ChatResponse response, Refused refused) {
    }

    final ObjectMapper json = Json.newMapper();
    private final List<String> urls;
    private final OkHttpClient http;
    private final OkHttpClient calls;
    private final EventSource.Factory events;
    private final Map<String, AuthResponse> tokens = new ConcurrentHashMap<>();

    /** @param urls one base URL per server process, each through this device's proxy to it */
    DirectChat(List<String> urls) {
        this.urls = List.copyOf(urls);
        this.http = new OkHttpClient.Builder()
                // A fresh connection per request: a pooled one may have been closed by a restart or a fault while
                // idle, and without retries (below) reusing it would fail requests the server never saw.
                .connectionPool(new ConnectionPool(0, 1, TimeUnit.SECONDS))
                .connectTimeout(5, TimeUnit.SECONDS)
                .readTimeout(20, TimeUnit.SECONDS) // a quiet stream gets a keep-alive comment every 15 s
                .retryOnConnectionFailure(false) // a retry is the user's decision here, as in the client
                .build();
        // A stop waits for the generation's holder, up to two claim lapses when that holder died.
        this.calls = http.newBuilder().callTimeout(30, TimeUnit.SECONDS).readTimeout(30, TimeUnit.SECONDS).build();
        this.events = EventSources.createFactory(http);
    }

    int servers() {
        return urls.size();
    }

    /** {@code POST /api/chat} with {@code Accept: text/event-stream} on server {@code server}. */
    ReplyStream post(int server, User user, ChatRequest request) throws IOException, Refused, InterruptedException {
        byte[] body = bytes(request);
        return open(user, token -> new Request.Builder().url(urls.get(server) + "/api/chat")
                .header("Authorization", "Bearer " + token)
                .header("Accept", StreamEvents.MEDIA_TYPE)
                .post(RequestBody.create(body, JSON)).build());
    }

    /** {@code GET /api/chat/{messageId}/stream} with {@code Last-Event-ID: after} on server {@code server}. */
    ReplyStream attach(int server, User user, String messageId, int after)
            throws IOException, Refused, InterruptedException {
        return open(user, token -> new Request.Builder().url(urls.get(server) + "/api/chat/" + messageId + "/stream")
                .header("Authorization", "Bearer " + token)
                .header("Accept", StreamEvents.MEDIA_TYPE)
                .header("Last-Event-ID", Integer.toString(after))
                .get().build());
    }

    /** {@code POST /api/chat/{messageId}/stop}. */
    Answer stop(int server, User user, String messageId) throws IOException, Refused {
        return answer(user, token -> new Request.Builder().url(urls.get(server) + "/api/chat/" + messageId + "/stop")
                .header("Authorization", "Bearer " + token)
                .post(RequestBody.create(new byte[0], JSON)).build());
    }

    /** {@code POST /api/chat} as JSON: the same message sent again, as the client's Try again does. */
    Answer send(int server, User user, ChatRequest request) throws IOException, Refused {
        byte[] body = bytes(request);
        return answer(user, token -> new Request.Builder().url(urls.get(server) + "/api/chat")
                .header("Authorization", "Bearer " + token)
                .post(RequestBody.create(body, JSON)).build());
    }

    private interface Authorized {
        Request with(String accessToken);
    }

    /**
     * Opens an event stream and waits until it is open or refused; a 401 refreshes the tokens and tries once
     * more. The stream's later events are the caller's to read.
     */
    private ReplyStream open(User user, Authorized request) throws IOException, Refused, InterruptedException {
        for (int attempt = 0; ; attempt++) {
            AuthResponse auth = account(user);
            ReplyStream stream = new ReplyStream(json);
            stream.source(events.newEventSource(request.with(auth.accessToken()), stream));
            ReplyStream.Event first = stream.next(15_000);
            if (first instanceof ReplyStream.Opened) {
                return stream;
            }
            stream.drop();
            if (first instanceof ReplyStream.Refused refused) {
                if (refused.status() == 401 && attempt == 0) {
                    expired(user, auth);
                    continue;
                }
                throw new Refused(refused.status(), refused.body());
            }
            throw new IOException(first == null ? "no answer in 15 s" : "no stream: " + first);
        }
    }

    private Answer answer(User user, Authorized request) throws IOException, Refused {
        for (int attempt = 0; ; attempt++) {
            AuthResponse auth = account(user);
            try (Response response = calls.newCall(request.with(auth.accessToken())).execute()) {
                String text = response.body().string();
                if (response.isSuccessful()) {
                    return new Answer(json.readValue(text, ChatResponse.class), null);
                }
                if (response.code() == 401 && attempt == 0) {
                    expired(user, auth);
                    continue;
                }
                return new Answer(null, new Refused(response.code(), errorBody(text)));
            }
        }
    }

    /** The account's tokens, signing in when there are none. */
    private AuthResponse account(User user) throws IOException, Refused {
        AuthResponse known = tokens.get(user.email());
        if (known != null) {
            return known;
        }
        AuthResponse fresh = auth("/api/auth/signin", new Credentials(user.email(), user.password()));
        tokens.put(user.email(), fresh);
        return fresh;
    }

    /** The access token was refused: refresh it, or sign in again when the refresh is refused too. */
    private void expired(User user, AuthResponse stale) throws IOException, Refused {
        tokens.remove(user.email(), stale);
        try {
            tokens.put(user.email(), auth("/api/auth/refresh", new RefreshRequest(stale.refreshToken())));
        } catch (Refused refused) {
            if (refused.status != 401) {
                throw refused;
            }
            account(user);
        }
    }

    private AuthResponse auth(String path, Object body) throws IOException, Refused {
        Request request = new Request.Builder().url(urls.get(0) + path)
                .post(RequestBody.create(bytes(body), JSON)).build();
        try (Response response = calls.newCall(request).execute()) {
            String text = response.body().string();
            if (!response.isSuccessful()) {
                throw new Refused(response.code(), errorBody(text));
            }
            return json.readValue(text, AuthResponse.class);
        } catch (IOException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }

    private ErrorBody errorBody(String text) {
        try {
            return text.isBlank() ? null : json.readValue(text, ErrorBody.class);
        } catch (IOException | RuntimeException e) {
            return null; // cut on the way: the status says enough
        }
    }

    private byte[] bytes(Object body) {
        try {
            return json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("protocol records always serialize", e);
        }
    }

    @Override
    public void close() {
        http.dispatcher().cancelAll();
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}
