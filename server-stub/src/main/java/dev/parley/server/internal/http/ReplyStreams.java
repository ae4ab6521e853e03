package dev.parley.server.internal.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.StreamDelta;
import dev.parley.protocol.StreamEvents;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.chat.ChatService.Followed;
import dev.parley.server.internal.chat.LiveReply;
import dev.parley.server.internal.chat.LiveReply.Outcome;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writes replies to clients as server-sent events (SPEC §5.3) with Javalin's {@link SseClient} on Jetty's async
 * I/O: an open stream holds no request thread. A small pool of writers sends each stream what its reply gained
 * since the last write, one write at a time per stream (so pieces that arrive together go out as one delta), and
 * one timer marks a keep-alive comment due on every stream that has been quiet for a while. A write blocks only
 * while the client's TCP window is full; a client that stops reading altogether holds a writer until Jetty's idle
 * timeout closes its connection, so there are several writers. Thread-safe; the owner closes it.
 */
final class ReplyStreams implements AutoCloseable {
    private final ObjectMapper json;
    private final long keepAliveNanos;
    private final Set<Stream> open = ConcurrentHashMap.newKeySet();
    private final ExecutorService writers;
    private final ScheduledExecutorService timer;

    /** @param keepAlive the longest a stream stays silent; a comment goes out when nothing else did */
    ReplyStreams(ObjectMapper json, Duration keepAlive, int writerThreads) {
        this.json = json;
        this.keepAliveNanos = keepAlive.toNanos();
        AtomicInteger n = new AtomicInteger();
        this.writers = Executors.newFixedThreadPool(writerThreads, r -> daemon(r, "parley-stream-writer-"
                + n.incrementAndGet()));
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "parley-stream-keepalive"));
        long check = Math.max(100, keepAlive.toMillis() / 4);
        timer.scheduleWithFixedDelay(this::keepAlive, check, check, TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Answers the request with the event stream of {@code followed}, its text from offset {@code after}. The
     * handler returns at once; the stream ends with {@code done} or {@code error}, or when the client leaves.
     */
    void open(Context ctx, Followed followed, int after) throws IOException {
        try {
            start(ctx, followed, after);
        } catch (IOException | RuntimeException e) {
            followed.onLeave().run(); // the client is gone before its stream began
            throw e;
        }
    }

    private void start(Context ctx, Followed followed, int after) throws IOException {
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setCharacterEncoding("UTF-8");
        res.setContentType(StreamEvents.MEDIA_TYPE);
        res.addHeader("Cache-Control", "no-cache");
        res.addHeader("X-Accel-Buffering", "no"); // a proxy that buffers would hold the reply back until its end
        res.flushBuffer();
        ctx.async(config -> config.timeout = 0, () -> {
            SseClient client = new SseClient(ctx);
            Stream stream = new Stream(client, followed, after);
            open.add(stream);
            client.onClose(stream::left);
            client.keepAlive();
            stream.begin();
        });
    }

    private void keepAlive() {
        long now = System.nanoTime();
        for (Stream stream : open) {
            if (now - stream.lastWrite >= keepAliveNanos * 3 / 4) {
                stream.commentDue = true;
                stream.changed();
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        open.forEach(stream -> stream.client.close());
        writers.shutdownNow();
    }

    private final class Stream {
        final SseClient client;
        final LiveReply reply;
        final Followed followed;
        final AtomicBoolean scheduled = new AtomicBoolean();
        final AtomicBoolean gone = new AtomicBoolean();
        volatile long lastWrite = System.nanoTime();
        volatile boolean commentDue;
        volatile Runnable stopListening = () -> { };
        int sent;
        boolean started;
        boolean ended;

        Stream(SseClient client, Followed followed, int after) {
            this.client = client;
            this.followed = followed;
            this.reply = followed.reply();
            this.sent = after;
        }

        void begin() {
            stopListening = reply.listen(this::changed);
            changed();
        }

        void changed() {
            if (scheduled.compareAndSet(false, true)) {
                writers.execute(this::drain);
            }
        }

        /** Sends what the reply gained since the last write, and its end once it has one. */
        synchronized void drain() {
            scheduled.set(false);
            if (ended || client.terminated()) {
                return;
            }
            if (!started) {
                started = true;
                if (reply.start() != null) {
                    send(StreamEvents.START, reply.start(), null);
                }
            }
            Outcome outcome = reply.outcome(); // read before the text: all text came before the outcome
            long before = lastWrite;
            sendText(reply.textFrom(sent));
            if (outcome == null) {
                if (commentDue && lastWrite == before) {
                    comment();
                }
                commentDue = false;
                return;
            }
            ended = true;
            if (outcome instanceof Outcome.Done done) {
                ChatResponse response = done.response();
                if (response.assistantMessage() != null) {
                    // A reply followed on another process may end before its last piece was written there.
                    String full = response.assistantMessage().content();
                    sendText(full.length() > sent ? full.substring(sent) : "");
                }
                send(StreamEvents.DONE, response, null);
            } else {
                ApiException error = ((Outcome.Failed) outcome).error();
                send(StreamEvents.ERROR, error.body(false), null);
            }
            client.close();
        }

        private void sendText(String text) {
            if (!text.isEmpty()) {
                sent += text.length();
                send(StreamEvents.DELTA, new StreamDelta(text), Integer.toString(sent));
            }
        }

        private void comment() {
            if (!ended && !client.terminated()) {
                lastWrite = System.nanoTime();
                try {
                    client.sendComment(StreamEvents.KEEP_ALIVE);
                } catch (RuntimeException e) {
                    ended = true;
                    left();
                }
            }
        }

        private void send(String event, Object data, String id) {
            lastWrite = System.nanoTime();
            String text;
            try {
                text = json.writeValueAsString(data);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("stream events always serialize", e);
            }
            try {
                client.sendEvent(event, text, id);
            } catch (RuntimeException e) {
                // The response is gone (the client left and the request was recycled): the stream is over.
                ended = true;
                left();
            }
        }

        /** The stream closed: the reply ended, or the client went away (a write failed). */
        void left() {
            if (gone.compareAndSet(false, true)) {
                stopListening.run();
                open.remove(this);
                followed.onLeave().run();
            }
        }
    }
}
