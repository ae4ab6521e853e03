package dev.parley.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorBody;
import dev.parley.protocol.StreamDelta;
import dev.parley.protocol.StreamEvents;
import dev.parley.protocol.StreamStart;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;

/**
 * One event stream of a reply (SPEC §5.3) as a queue of events for the thread that reads it: okhttp-sse calls the
 * listener methods on OkHttp's reader thread, which only parse and enqueue; the device's thread takes them with
 * {@link #next}. {@link #drop()} closes the connection from the client's side, as a network that goes away would.
 * Thread-safe; whoever opened it drops it or reads it to its end.
 */
final class ReplyStream extends EventSourceListener {

    /** What the stream said, in order. */
    sealed interface Event {
    }

    /** The server answered 200 with an event stream. */
    record Opened() implements Event {
    }

    record Start(StreamStart start) implements Event {
    }

    /** A {@code delta} event; {@code id} is its {@code id:} line, the reply's length after this piece. */
    record Delta(String id, String text) implements Event {
    }

    record Done(ChatResponse response) implements Event {
    }

    record Error(ErrorBody body) implements Event {
    }

    /** The server refused before the stream began: its status and error body ({@code null} when it had none). */
    record Refused(int status, ErrorBody body) implements Event {
    }

    /** The connection ended before {@code done} or {@code error}: closed, reset, cut or dropped here. */
    record Broken(String cause) implements Event {
    }

    /** An event this client could not read: the server broke the contract. */
    record Malformed(String what) implements Event {
    }

    private final ObjectMapper json;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile EventSource source;
    private volatile boolean dropped;

    ReplyStream(ObjectMapper json) {
        this.json = json;
    }

    void source(EventSource source) {
        this.source = source;
    }

    /** The next event, waiting up to {@code millis}; {@code null} when none came in that time. */
    Event next(long millis) throws InterruptedException {
        return events.poll(Math.max(0, millis), TimeUnit.MILLISECONDS);
    }

    /** Closes the connection; the server's generation goes on. */
    void drop() {
        dropped = true;
        EventSource current = source;
        if (current != null) {
            current.cancel();
        }
    }

    @Override
    public void onOpen(EventSource eventSource, Response response) {
        events.add(new Opened());
    }

    @Override
    public void onEvent(EventSource eventSource, String id, String type, String data) {
        try {
            switch (type == null ? "" : type) {
                case StreamEvents.START -> events.add(new Start(json.readValue(data, StreamStart.class)));
                case StreamEvents.DELTA -> events.add(new Delta(id, json.readValue(data, StreamDelta.class).text()));
                case StreamEvents.DONE -> events.add(new Done(json.readValue(data, ChatResponse.class)));
                case StreamEvents.ERROR -> events.add(new Error(json.readValue(data, ErrorBody.class)));
                default -> events.add(new Malformed("an event of unknown type '" + type + "'"));
            }
        } catch (IOException | RuntimeException e) {
            events.add(new Malformed("a " + type + " event that does not read: " + e.getMessage()));
        }
    }

    @Override
    public void onClosed(EventSource eventSource) {
        events.add(new Broken("closed by the server"));
    }

    @Override
    public void onFailure(EventSource eventSource, Throwable t, Response response) {
        if (response != null && !response.isSuccessful()) {
            ErrorBody body = null;
            try {
                String text = response.body().string();
                body = text.isBlank() ? null : json.readValue(text, ErrorBody.class);
            } catch (IOException | RuntimeException e) {
                // no readable error body (cut on the way): the status says enough
            }
            events.add(new Refused(response.code(), body));
            return;
        }
        events.add(new Broken(dropped ? "dropped by the client" : t == null ? "no event stream"
                : t.getClass().getSimpleName() + ": " + t.getMessage()));
    }
}
