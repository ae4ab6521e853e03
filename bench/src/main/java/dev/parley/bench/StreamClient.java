package dev.parley.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.Json;
import dev.parley.protocol.StreamEvents;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSources;

/**
 * The client side of the streaming scenarios: one {@link OkHttpClient} able to hold {@code streams} event streams
 * at once (its dispatcher's limits and its connection pool sized above that), read with okhttp-sse. OkHttp reads
 * each stream on a thread of its own; the dispatcher's threads are made here and remembered, so that a scenario
 * can tell the client's threads from the server's in this JVM. Thread-safe; the caller closes it.
 */
final class StreamClient implements AutoCloseable {
    private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

    final ObjectMapper json = Json.newMapper();
    private final Set<Long> threadIds = ConcurrentHashMap.newKeySet();
    private final ThreadPoolExecutor executor;
    private final OkHttpClient http;
    private final EventSource.Factory events;

    StreamClient(int streams) {
        AtomicInteger n = new AtomicInteger();
        // OkHttp's own dispatcher executor, but with threads this class knows.
        executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "bench-stream-client-" + n.incrementAndGet());
            t.setDaemon(true);
            threadIds.add(t.getId());
            return t;
        });
        Dispatcher dispatcher = new Dispatcher(executor);
        dispatcher.setMaxRequests(streams + 16);
        dispatcher.setMaxRequestsPerHost(streams + 16);
        http = new OkHttpClient.Builder()
                .dispatcher(dispatcher)
                .connectionPool(new ConnectionPool(streams + 16, 5, TimeUnit.MINUTES))
                .connectTimeout(30, TimeUnit.SECONDS)
                .readTimeout(60, TimeUnit.SECONDS) // a quiet stream gets a keep-alive comment every 15 s
                .callTimeout(0, TimeUnit.SECONDS) // okhttp-sse lifts the call timeout once the stream opens anyway
                .retryOnConnectionFailure(false)
                .build();
        events = EventSources.createFactory(http);
    }

    /** {@code POST /api/chat} with {@code Accept: text/event-stream}: a new exchange, streamed. */
    StreamedReply post(String baseUrl, AuthResponse account, ChatRequest chat) {
        byte[] body;
        try {
            body = json.writeValueAsBytes(chat);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a chat request always serializes", e);
        }
        Request request = new Request.Builder().url(baseUrl + "/api/chat")
                .header("Authorization", "Bearer " + account.accessToken())
                .header("Accept", StreamEvents.MEDIA_TYPE)
                .post(RequestBody.create(body, JSON)).build();
        return open(request, 0);
    }

    /** {@code GET /api/chat/{messageId}/stream} with {@code Last-Event-ID: after}: re-attaches, on any process. */
    StreamedReply attach(String baseUrl, AuthResponse account, String messageId, int after) {
        Request request = new Request.Builder().url(baseUrl + "/api/chat/" + messageId + "/stream")
                .header("Authorization", "Bearer " + account.accessToken())
                .header("Accept", StreamEvents.MEDIA_TYPE)
                .header("Last-Event-ID", Integer.toString(after))
                .get().build();
        return open(request, after);
    }

    private StreamedReply open(Request request, int after) {
        StreamedReply reply = new StreamedReply(json, after);
        reply.sent();
        events.newEventSource(request, reply);
        return reply;
    }

    /** A chat request for a new message in {@code sessionId}, with no context. */
    static ChatRequest chat(String sessionId, String messageId, String question) {
        return new ChatRequest(sessionId, messageId, question, null, Instant.now().truncatedTo(ChronoUnit.MILLIS),
                null, List.of());
    }

    /**
     * Whether {@code threadId} is one of this client's threads: its dispatcher's, or OkHttp's own (task runners,
     * named {@code OkHttp …}, and Okio's timeout watchdog). The bench's other OkHttp clients count as client too.
     */
    boolean ownsThread(long threadId, String name) {
        return threadIds.contains(threadId) || name.startsWith("OkHttp") || name.equals("Okio Watchdog");
    }

    /** Threads the client has running now. */
    int threads() {
        return executor.getPoolSize();
    }

    @Override
    public void close() {
        http.dispatcher().cancelAll();
        executor.shutdown();
        http.connectionPool().evictAll();
    }
}
