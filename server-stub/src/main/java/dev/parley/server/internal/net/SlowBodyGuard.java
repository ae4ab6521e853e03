package dev.parley.server.internal.net;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Keeps slow request bodies from holding the server's threads (SPEC §8). A body is read in full, without a thread
 * waiting on it, before the request goes on to the routes, so a few hundred connections trickling a byte every
 * few seconds hold no thread at all; and the body must arrive at a minimum rate: each time more of it is awaited,
 * the bytes so far are set against the time since the first wait, and below the rate, after a first second of
 * grace, the request is answered 408 and its connection closed. A body declared larger than {@code maxBytes} is
 * not read here: the routes refuse it at once with 413.
 *
 * <p>Jetty's own {@code MinimumDataRateHandler} counts the bytes of all requests together, behind which a fast
 * neighbour would hide a slow sender, and still leaves each blocked read its thread. Thread-safe; one per server.
 */
public final class SlowBodyGuard extends Handler.Wrapper {
    private static final long GRACE_NANOS = 1_000_000_000L;
    private final long minBytesPerSecond;
    private final int maxBytes;

    /**
     * @param minBytesPerSecond the slowest a body may arrive; 0 for no minimum
     * @param maxBytes the largest body read ahead (the request limit)
     */
    public SlowBodyGuard(long minBytesPerSecond, int maxBytes) {
        this.minBytesPerSecond = minBytesPerSecond;
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Handler next = getHandler();
        if (next == null) {
            return false;
        }
        long length = request.getLength();
        boolean chunked = length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
        if ((length <= 0 && !chunked) || length > maxBytes) {
            return next.handle(request, response, callback);
        }
        Measured measured = new Measured(request);
        Content.Source.asByteArrayAsync(measured, maxBytes + 1)
                .whenComplete((body, failure) -> request.getComponents().getExecutor().execute(() -> {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    if (cause instanceof TimeoutException) {
                        Response.writeError(request, response, callback, 408);
                        return;
                    }
                    if (cause != null && measured.bytesRead() > maxBytes) {
                        Response.writeError(request, response, callback, 413);
                        return;
                    }
                    try {
                        // A body that broke off goes on as it is, so the routes answer it as they answer any
                        // body cut short: a 400 that may be sent again.
                        Request onward = cause == null ? new Buffered(request, body) : new Failed(request, cause);
                        if (!next.handle(onward, response, callback)) {
                            Response.writeError(request, response, callback, 404);
                        }
                    } catch (Throwable e) {
                        Response.writeError(request, response, callback, e);
                    }
                }));
        return true;
    }

    /** The request with its body read already: handed out at once, whole. */
    private static final class Buffered extends Request.Wrapper {
        private Content.Chunk next;

        Buffered(Request wrapped, byte[] body) {
            super(wrapped);
            this.next = Content.Chunk.from(ByteBuffer.wrap(body), true);
        }

        @Override
        public long getLength() {
            return next == Content.Chunk.EOF ? 0 : next.remaining();
        }

        @Override
        public synchronized Content.Chunk read() {
            Content.Chunk chunk = next;
            next = Content.Chunk.EOF;
            return chunk;
        }

        @Override
        public void demand(Runnable demandCallback) {
            demandCallback.run();
        }
    }

    /** The request whose body broke off: reading it fails as it did here. */
    private static final class Failed extends Request.Wrapper {
        private final Content.Chunk failure;

        Failed(Request wrapped, Throwable cause) {
            super(wrapped);
            this.failure = Content.Chunk.from(cause, true);
        }

        @Override
        public Content.Chunk read() {
            return failure;
        }

        @Override
        public void demand(Runnable demandCallback) {
            demandCallback.run();
        }
    }

    /** The request, its reading timed. */
    private final class Measured extends Request.Wrapper {
        private long firstDemand;
        private long bytesRead;
        private volatile Content.Chunk failure;

        Measured(Request wrapped) {
            super(wrapped);
        }

        @Override
        public Content.Chunk read() {
            Content.Chunk failed = failure;
            if (failed != null) {
                return failed;
            }
            Content.Chunk chunk = super.read();
            if (chunk != null) {
                synchronized (this) {
                    bytesRead += chunk.remaining();
                }
            }
            return chunk;
        }

        synchronized long bytesRead() {
            return bytesRead;
        }

        @Override
        public void demand(Runnable demandCallback) {
            long now = System.nanoTime();
            boolean tooSlow;
            synchronized (this) {
                if (firstDemand == 0) {
                    firstDemand = now;
                }
                long elapsed = now - firstDemand;
                tooSlow = elapsed > GRACE_NANOS && bytesRead * 1_000_000_000L / elapsed < minBytesPerSecond;
            }
            if (tooSlow && minBytesPerSecond > 0) {
                failure = Content.Chunk.from(new TimeoutException("the request body arrives slower than "
                        + minBytesPerSecond + " bytes per second"));
                demandCallback.run();
                return;
            }
            super.demand(demandCallback);
        }
    }
}
