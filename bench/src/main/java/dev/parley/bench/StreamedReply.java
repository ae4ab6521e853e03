package dev.parley.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.StreamDelta;
import dev.parley.protocol.StreamEvents;
import dev.parley.protocol.StreamStart;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;

/**
 * One streamed reply (SPEC §5.3) as its client saw it, read with okhttp-sse: when the request went out, when the
 * {@code start} event and each {@code delta} arrived (with the delta's {@code id:}, the reply's length after it),
 * the text, and how it ended. Events come one at a time on the OkHttp thread of the stream; read the record after
 * {@link #ended()} completes (or {@link #started()} for the start), which orders those reads after the writes.
 */
final class StreamedReply extends EventSourceListener {

    /** A delta as it arrived: the reply's length after it ({@code id:}) and when it arrived. */
    record Arrival(int end, long nanos) {
    }

    private final ObjectMapper json;
    private final CompletableFuture<StreamedReply> started = new CompletableFuture<>();
    private final CompletableFuture<StreamedReply> ended = new CompletableFuture<>();
    private final int after;
    private final List<Arrival> arrivals = new ArrayList<>();
    private final StringBuilder text = new StringBuilder();
    private volatile long sentNanos;
    private long startNanos;
    private StreamStart start;
    private ChatResponse done;
    private String problem;

    /** @param after the offset the stream starts from: 0 for a new exchange, the re-attach offset otherwise */
    StreamedReply(ObjectMapper json, int after) {
        this.json = json;
        this.after = after;
    }

    /** Marks the moment the request is handed to OkHttp. */
    void sent() {
        sentNanos = System.nanoTime();
    }

    long sentNanos() {
        return sentNanos;
    }

    /** Completes when the {@code start} event arrived, or when the stream ended without one. */
    CompletableFuture<StreamedReply> started() {
        return started;
    }

    /** Completes when the stream ended: {@code done}, {@code error}, a failure, or closed without an end. */
    CompletableFuture<StreamedReply> ended() {
        return ended;
    }

    /** When the start event arrived; 0 when none did. */
    long startNanos() {
        return startNanos;
    }

    StreamStart start() {
        return start;
    }

    /** The deltas in order of arrival. */
    List<Arrival> arrivals() {
        return arrivals;
    }

    /** The deltas' text concatenated, from the stream's start offset. */
    String text() {
        return text.toString();
    }

    /** The {@code done} event's Chat response; {@code null} unless the stream ended with one. */
    ChatResponse done() {
        return done;
    }

    /**
     * What went wrong, or {@code null}: a refusal or transport failure, an {@code error} event, a delta whose
     * {@code id:} is not the length so far, a stream that closed without {@code done}, or deltas whose text is not
     * the final reply.
     */
    String problem() {
        return problem;
    }

    @Override
    public void onEvent(EventSource source, String id, String type, String data) {
        long now = System.nanoTime();
        try {
            switch (type == null ? "" : type) {
                case StreamEvents.START -> {
                    startNanos = now;
                    start = json.readValue(data, StreamStart.class);
                    started.complete(this);
                }
                case StreamEvents.DELTA -> {
                    text.append(json.readValue(data, StreamDelta.class).text());
                    int end = after + text.length();
                    arrivals.add(new Arrival(end, now));
                    if (id == null || Integer.parseInt(id) != end) {
                        fail("delta id " + id + " is not the reply's length so far, " + end);
                    }
                }
                case StreamEvents.DONE -> {
                    done = json.readValue(data, ChatResponse.class);
                    String reply = done.assistantMessage() == null ? "" : done.assistantMessage().content();
                    if (!reply.substring(Math.min(after, reply.length())).equals(text.toString())) {
                        fail("the deltas (" + text.length() + " chars) are not the stored reply (" + reply.length()
                                + " chars)");
                    } else if (!done.persisted()) {
                        fail("reply not stored (persisted:false)");
                    }
                }
                case StreamEvents.ERROR -> fail("error event: " + data);
                default -> fail("unknown event " + type);
            }
        } catch (IOException | RuntimeException e) {
            fail("unreadable " + type + " event: " + e);
        }
    }

    @Override
    public void onClosed(EventSource source) {
        if (done == null) {
            fail("stream closed without done");
        }
        end();
    }

    @Override
    public void onFailure(EventSource source, Throwable t, Response response) {
        String body = "";
        if (response != null) {
            try {
                body = response.body().string();
            } catch (IOException | RuntimeException e) {
                body = "(body unreadable)";
            }
        }
        fail(response != null ? "HTTP " + response.code() + " " + body : String.valueOf(t));
        end();
    }

    private void fail(String what) {
        if (problem == null) {
            problem = what;
        }
    }

    private void end() {
        started.complete(this);
        ended.complete(this);
    }
}
