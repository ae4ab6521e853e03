package dev.parley.server.internal.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.StreamEvents;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Server-sent event streams (SPEC §5.3 replies, §5.5 live changes) with Javalin's {@link SseClient} on Jetty's
 * async I/O: an open stream holds no request thread. What a stream sends is its {@link Feed}'s business; this
 * class runs the feeds. A small pool of writers drains a stream when its feed says it has something new, one drain
 * at a time per stream (so news that arrives together goes out in one write), and one timer marks a keep-alive
 * comment due on every stream that has been quiet for a while. A write blocks only while the client's TCP window
 * is full; a client that stops reading altogether holds a writer until Jetty's idle timeout closes its connection,
 * so there are several writers. Thread-safe; the owner closes it, which ends every open stream.
 */
final class EventStreams implements AutoCloseable {
    /**
     * What one stream sends. {@link #drain} runs on one writer at a time for a stream; {@link #begin} and
     * {@link #left} may run on other threads, and {@code left} while a drain runs.
     */
    interface Feed {
        /** The stream is open: start following, and call {@link Stream#changed()} whenever there is news. */
        void begin(Stream stream);

        /**
         * Sends what is new since the last drain, on a writer thread; true when the stream is over (its last event
         * went out), and the connection is then closed.
         */
        boolean drain(Stream stream);

        /** The stream closed (its feed ended or the client went away); called once. Stop following here. */
        void left();
    }

    private final ObjectMapper json;
    private final long keepAliveNanos;
    private final Set<Stream> open = ConcurrentHashMap.newKeySet();
    private final ExecutorService writers;
    private final ScheduledExecutorService timer;

    /** @param keepAlive the longest a stream stays silent; a comment goes out when nothing else did */
    EventStreams(ObjectMapper json, Duration keepAlive, int writerThreads) {
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
     * Answers the request with an event stream that {@code feed} fills. The handler returns at once; the stream
     * ends when the feed says so or when the client leaves, and the feed is told {@link Feed#left()} either way.
     */
    void open(Context ctx, Feed feed) throws IOException {
        try {
            HttpServletResponse res = ctx.res();
            res.setStatus(200);
            res.setCharacterEncoding("UTF-8");
            res.setContentType(StreamEvents.MEDIA_TYPE);
            res.addHeader("Cache-Control", "no-cache");
            res.addHeader("X-Accel-Buffering", "no"); // a proxy that buffers would hold events back
            res.flushBuffer();
            ctx.async(config -> config.timeout = 0, () -> {
                SseClient client = new SseClient(ctx);
                Stream stream = new Stream(client, feed);
                open.add(stream);
                client.onClose(stream::left);
                client.keepAlive();
                feed.begin(stream);
                stream.changed();
            });
        } catch (IOException | RuntimeException e) {
            feed.left(); // the client is gone before its stream began
            throw e;
        }
    }

    /** Streams open now. */
    int openStreams() {
        return open.size();
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

    /** One open stream, as its feed sees it. */
    final class Stream {
        private final SseClient client;
        private final Feed feed;
        private final AtomicBoolean scheduled = new AtomicBoolean();
        private final AtomicBoolean gone = new AtomicBoolean();
        private volatile long lastWrite = System.nanoTime();
        private volatile boolean commentDue;
        private boolean ended;

        private Stream(SseClient client, Feed feed) {
            this.client = client;
            this.feed = feed;
        }

        /** There is news: a writer drains the feed soon. Callable from any thread; it does not block. */
        void changed() {
            if (scheduled.compareAndSet(false, true)) {
                try {
                    writers.execute(this::drain);
                } catch (RejectedExecutionException closing) {
                    scheduled.set(false); // the streams are closing: nothing more goes out
                }
            }
        }

        private synchronized void drain() {
            scheduled.set(false);
            if (ended || client.terminated()) {
                return;
            }
            long before = lastWrite;
            if (feed.drain(this)) {
                ended = true;
                client.close();
                return;
            }
            if (commentDue && lastWrite == before && !ended) {
                lastWrite = System.nanoTime();
                try {
                    client.sendComment(StreamEvents.KEEP_ALIVE);
                } catch (RuntimeException e) {
                    gone();
                }
            }
            commentDue = false;
        }

        /** Sends one event; {@code id} may be null. A failed write ends the stream (the client left). */
        void send(String event, Object data, String id) {
            if (ended) {
                return;
            }
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
                gone();
            }
        }

        private void gone() {
            ended = true;
            left();
        }

        private void left() {
            if (gone.compareAndSet(false, true)) {
                open.remove(this);
                feed.left();
            }
        }
    }
}
