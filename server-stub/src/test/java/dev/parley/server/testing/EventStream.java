package dev.parley.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;
import okhttp3.sse.EventSources;

/**
 * A client of the server's event streams (SPEC §5.3), parsed by OkHttp's SSE reader: events arrive in a queue the
 * test reads in order. Refusals before a stream starts (a JSON error) are kept as {@link #refusal()}.
 */
public final class EventStream implements AutoCloseable {
    private static final OkHttpClient CLIENT = new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(60))
            .dispatcher(unlimited()).build();
    private static final MediaType JSON = MediaType.get("application/json");

    /** One event; {@code id} is the SSE id ({@code null} when the event has none). */
    public record Event(String id, String type, String data) {
        public JsonNode json() {
            try {
                return HttpApi.JSON.readTree(data);
            } catch (IOException e) {
                throw new AssertionError("event data is not JSON: " + data, e);
            }
        }
    }

    /** A request answered without a stream: its status and body. */
    public record Refusal(int status, String body) {
        public String errorCode() {
            try {
                return HttpApi.JSON.readTree(body).path("error").path("code").asText();
            } catch (IOException e) {
                throw new AssertionError("not an error body: " + body, e);
            }
        }
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final CompletableFuture<Refusal> refused = new CompletableFuture<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final EventSource source;

    private EventStream(Request request) {
        source = EventSources.createFactory(CLIENT).newEventSource(request, new EventSourceListener() {
            @Override
            public void onEvent(EventSource s, String id, String type, String data) {
                events.add(new Event(id, type, data));
            }

            @Override
            public void onClosed(EventSource s) {
                ended.complete(null);
            }

            @Override
            public void onFailure(EventSource s, Throwable t, Response response) {
                if (response != null && !response.isSuccessful()) {
                    try {
                        refused.complete(new Refusal(response.code(), response.body().string()));
                    } catch (IOException e) {
                        refused.complete(new Refusal(response.code(), ""));
                    }
                }
                ended.complete(null);
            }
        });
    }

    /** OkHttp runs at most 5 streams per host by default; a test may hold a hundred. */
    private static Dispatcher unlimited() {
        Dispatcher dispatcher = new Dispatcher();
        dispatcher.setMaxRequests(10_000);
        dispatcher.setMaxRequestsPerHost(10_000);
        return dispatcher;
    }

    /** {@code POST path} with a JSON body, asking for a stream. */
    public static EventStream post(String baseUrl, String path, Object body, String token) {
        Request.Builder request = new Request.Builder().url(baseUrl + path)
                .post(RequestBody.create(HttpApi.JSON.valueToTree(body).toString(), JSON));
        return new EventStream(authorized(request, token).build());
    }

    /** {@code GET path}, re-attaching from {@code lastEventId} ({@code null}: none sent). */
    public static EventStream get(String baseUrl, String path, String token, String lastEventId) {
        Request.Builder request = new Request.Builder().url(baseUrl + path).get();
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        return new EventStream(authorized(request, token).build());
    }

    private static Request.Builder authorized(Request.Builder request, String token) {
        return token == null ? request : request.header("Authorization", "Bearer " + token);
    }

    /** The next event, waiting up to 20 s. */
    public Event next() throws InterruptedException {
        Event event = events.poll(20, TimeUnit.SECONDS);
        if (event == null) {
            throw new AssertionError("no event within 20 s" + (ended.isDone() ? " (the stream ended)" : ""));
        }
        return event;
    }

    /** The next event, which must be of {@code type}. */
    public Event next(String type) throws InterruptedException {
        Event event = next();
        if (!event.type().equals(type)) {
            throw new AssertionError("expected a '" + type + "' event, got " + event);
        }
        return event;
    }

    /** Every event up to and including the last one ({@code done} or {@code error}). */
    public List<Event> rest() throws InterruptedException {
        List<Event> all = new ArrayList<>();
        while (true) {
            Event event = next();
            all.add(event);
            if (event.type().equals("done") || event.type().equals("error")) {
                return all;
            }
        }
    }

    /** The answer of a request refused before its stream started, waiting up to 20 s. */
    public Refusal refusal() throws Exception {
        return refused.get(20, TimeUnit.SECONDS);
    }

    /** True once the server ended the stream, waiting up to {@code seconds}. */
    public boolean awaitEnd(long seconds) throws Exception {
        try {
            ended.get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    /** Drops the connection, as a client whose network went away. */
    @Override
    public void close() {
        source.cancel();
    }
}
