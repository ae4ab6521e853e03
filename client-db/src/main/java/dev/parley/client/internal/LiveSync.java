package dev.parley.client.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.LiveState;
import dev.parley.client.RemoteReply;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChangedEvent;
import dev.parley.protocol.GeneratingEvent;
import dev.parley.protocol.StreamDelta;
import dev.parley.protocol.StreamEvents;
import dev.parley.protocol.StreamStart;
import io.github.resilience4j.core.IntervalFunction;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import okhttp3.Call;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;
import okhttp3.sse.EventSources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live sync (SPEC §6): while an account is signed in, one thread of its own holds the server's live change stream
 * ({@code GET /api/chat/events}) and pulls whenever the server's cursor is ahead of the local one, one pull at a
 * time (a change told while a pull runs is read by one more pull after it, so a burst costs at most two). A
 * broken stream is opened again with jittered exponential backoff; while it is down the client pulls every
 * {@link #PULL_EVERY} and when the window regains focus. A reply that another device is having written, in the
 * conversation shown here, is followed with the re-attach of §5.3 and told as {@link RemoteReply}s. The stream
 * and the pulls it triggers are read-only. Thread-safe; the owner closes it.
 */
public final class LiveSync implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LiveSync.class);
    /** How often the client pulls while it cannot hold the stream. */
    public static final Duration PULL_EVERY = Duration.ofMinutes(3);
    /** The shortest time between two pulls that a window focus asks for. */
    private static final Duration FOCUS_PULL_GAP = Duration.ofSeconds(5);

    private final ServerApi api;
    private final TokenStore tokens;
    private final SyncEngine engine;
    private final Events events;
    private final ObjectMapper json;
    private final Supplier<CompletableFuture<Integer>> pull;
    private final Predicate<GeneratingEvent> ours;
    private final IntervalFunction backoff;
    private final Thread thread;
    private final ExecutorService followers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "parley-live-follow");
        t.setDaemon(true);
        return t;
    });
    private final Object lock = new Object();
    private final AtomicBoolean pulling = new AtomicBoolean();
    private final AtomicLong pulls = new AtomicLong();
    private final AtomicLong changesHeard = new AtomicLong();
    /** Generations told by the stream and not yet over, by reply id. */
    private final Map<String, GeneratingEvent> generating = new ConcurrentHashMap<>();
    /** The replies followed now, by reply id. */
    private final Map<String, Follow> following = new ConcurrentHashMap<>();
    /** Bumped by every account change, so that a stream opened for the account before is dropped. */
    private final AtomicInteger accountEpoch = new AtomicInteger();
    private final AtomicInteger pullRetries = new AtomicInteger();
    private final Runnable signInExpired;
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "parley-live-retry");
        t.setDaemon(true);
        return t;
    });
    private boolean wakeRequested;
    private volatile boolean closed;
    private volatile LiveState state = LiveState.OFF;
    private volatile Call current;
    private volatile long told = -1;
    /** When this last asked for a pull; as if long ago at first, so that the first focus pulls. */
    private volatile long lastPull = System.nanoTime() - PULL_EVERY.toNanos();
    private volatile String shown;

    /**
     * @param pull   pulls and tells the listeners what it merged
     * @param ours   true for a generation this device runs itself, or whose reply it holds already: not followed
     * @param backoffMax the longest wait between two attempts to open the stream
     * @param signInExpired the server refused the account's tokens, the refresh too: it must sign in again
     */
    public LiveSync(ServerApi api, TokenStore tokens, SyncEngine engine, Events events, ObjectMapper json,
                    Supplier<CompletableFuture<Integer>> pull, Predicate<GeneratingEvent> ours, Duration backoffMax,
                    Runnable signInExpired) {
        this.api = api;
        this.tokens = tokens;
        this.engine = engine;
        this.events = events;
        this.json = json;
        this.pull = pull;
        this.ours = ours;
        this.backoff = IntervalFunction.ofExponentialRandomBackoff(Duration.ofSeconds(1), 2.0, 0.5, backoffMax);
        this.signInExpired = signInExpired;
        this.thread = new Thread(this::run, "parley-live");
        thread.setDaemon(true);
    }

    /** Starts holding the stream (when signed in). */
    public void start() {
        thread.start();
    }

    public LiveState state() {
        return state;
    }

    /** Pulls this client made because the stream, a focus or the timer asked; for tests and benchmarks. */
    public long pulls() {
        return pulls.get();
    }

    /** {@code changed} events heard, the first of each stream included; for tests and benchmarks. */
    public long changesHeard() {
        return changesHeard.get();
    }

    /**
     * The account changed (a sign-in, a sign-out, a sign-in that expired): the stream open now is dropped and
     * opened again at once with the current account, if any.
     */
    public void accountChanged() {
        accountEpoch.incrementAndGet();
        Call open = current;
        if (open != null) {
            open.cancel();
        }
        following.values().forEach(Follow::cancel); // the replies of the account before are no longer shown
        generating.clear();
        wake();
    }

    /** The network is back: without a live stream, try to open it now rather than after its backoff. */
    public void connectivityRegained() {
        if (state != LiveState.LIVE) {
            wake();
        }
    }

    /** The window regained focus: without a live stream, pull (at most every few seconds). */
    public void windowFocused() {
        if (state != LiveState.LIVE && tokens.load().isPresent()
                && System.nanoTime() - lastPull >= FOCUS_PULL_GAP.toNanos()) {
            requestPull();
        }
    }

    /**
     * The conversation the user looks at ({@code null}: none): a reply being written for it on another device is
     * followed, one told before it was opened included; the replies of the conversation shown before are let go.
     * Blocks briefly on local I/O (whether this device holds the reply already).
     */
    public void showing(String sessionId) {
        shown = sessionId;
        following.values().stream().filter(f -> !f.event.sessionId().equals(sessionId)).forEach(Follow::cancel);
        if (sessionId == null || state != LiveState.LIVE) {
            return;
        }
        tokens.load().ifPresent(account -> generating.values().stream()
                .filter(g -> g.sessionId().equals(sessionId)).forEach(g -> follow(g, account)));
    }

    private void run() {
        int failures = 0;
        while (!closed) {
            int epoch = accountEpoch.get();
            // Read after the epoch: a change of account from here on drops the stream opened with these tokens.
            Optional<AuthResponse> account = tokens.load();
            if (account.isEmpty()) {
                setState(LiveState.OFF);
                await(PULL_EVERY.toMillis());
                failures = 0;
                continue;
            }
            setState(failures == 0 ? LiveState.CONNECTING : LiveState.RECONNECTING);
            boolean wasLive = hold(account.get(), epoch);
            if (closed) {
                break;
            }
            failures = wasLive ? 1 : failures + 1;
            generating.clear(); // the next stream tells again of the generations still live
            if (tokens.load().isPresent()) {
                setState(LiveState.RECONNECTING);
                if (System.nanoTime() - lastPull >= PULL_EVERY.toNanos()) {
                    requestPull();
                }
            }
            await(Math.min(backoff.apply(failures), PULL_EVERY.toMillis()));
        }
    }

    /** Holds one stream until it ends; true when it was open (an event came). */
    private boolean hold(AuthResponse account, int epoch) {
        Call call = api.events(account);
        current = call;
        if (closed || accountEpoch.get() != epoch) {
            call.cancel(); // closing, or the account changed since its tokens were read
            return false;
        }
        AtomicBoolean opened = new AtomicBoolean();
        try (Response response = api.open(call)) {
            EventSources.processResponse(response, new EventSourceListener() {
                @Override
                public void onEvent(EventSource source, String id, String type, String data) {
                    opened.set(true);
                    try {
                        heard(type, data, account);
                    } catch (IOException | RuntimeException e) {
                        LOG.warn("a live change event could not be read: {}", e.getMessage());
                    }
                }
            });
        } catch (ServerError e) {
            if (e.status() == 401 && accountEpoch.get() == epoch) {
                signInExpired.run(); // the refresh was refused as well: as the push loop does
            }
            LOG.debug("live change stream refused: {}", e.getMessage());
        } catch (IOException e) {
            LOG.debug("live change stream not held: {}", e.getMessage());
        } finally {
            current = null;
        }
        return opened.get();
    }

    private void heard(String type, String data, AuthResponse account) throws IOException {
        switch (type) {
            case StreamEvents.CHANGED -> {
                told = Long.parseLong(json.readValue(data, ChangedEvent.class).cursor());
                changesHeard.incrementAndGet();
                setState(LiveState.LIVE);
                if (behind(account)) {
                    requestPull();
                }
            }
            case StreamEvents.GENERATING -> {
                GeneratingEvent event = json.readValue(data, GeneratingEvent.class);
                generating.put(event.replyId(), event); // whether it is this device's own, follow decides
                if (event.sessionId().equals(shown)) {
                    follow(event, account);
                }
            }
            default -> LOG.debug("live change event '{}' ignored", type);
        }
    }

    /**
     * One pull at a time; a change told while it ran gets one more pull after it. A pull that left the client
     * behind what was told (the server did not answer) is tried again with backoff.
     */
    private void requestPull() {
        if (!pulling.compareAndSet(false, true)) {
            return;
        }
        long toldAtStart = told;
        lastPull = System.nanoTime();
        pulls.incrementAndGet();
        pull.get().whenComplete((merged, failure) -> {
            pulling.set(false);
            Optional<AuthResponse> account = tokens.load();
            if (closed || account.isEmpty() || !behind(account.get())) {
                pullRetries.set(0);
            } else if (told != toldAtStart) {
                requestPull();
            } else {
                retryPull();
            }
        });
    }

    /** True while the account's pulled cursor is behind the newest one the stream told. */
    private boolean behind(AuthResponse account) {
        return told > engine.cursor(account.user().id());
    }

    private void retryPull() {
        try {
            retries.schedule(this::requestPull, backoff.apply(pullRetries.incrementAndGet()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // closing: the next start pulls
        }
    }

    /** Follows another device's reply as it is written; tells it as {@link RemoteReply}s, the last one ended. */
    private void follow(GeneratingEvent event, AuthResponse account) {
        if (following.containsKey(event.replyId()) || ours.test(event)) {
            return;
        }
        Follow follow = new Follow(event, account);
        if (following.putIfAbsent(event.replyId(), follow) != null) {
            return;
        }
        try {
            followers.execute(() -> {
                try {
                    follow.run();
                } finally {
                    following.remove(event.replyId(), follow);
                    if (!follow.cancelled) {
                        generating.remove(event.replyId()); // over; one let go is followed again when shown again
                    }
                }
            });
        } catch (RejectedExecutionException closing) {
            following.remove(event.replyId(), follow);
        }
    }

    /**
     * One reply followed: attached to with §5.3's re-attach, and attached to again from the text it has when the
     * connection breaks (with backoff, a few times in a row without progress), until it ends or is let go.
     */
    private final class Follow {
        private static final int TRIES_WITHOUT_PROGRESS = 5;
        final GeneratingEvent event;
        private final AuthResponse account;
        private final StringBuilder text = new StringBuilder();
        private String question = "";
        private volatile boolean cancelled;
        private volatile boolean ended;
        private volatile Call call;

        Follow(GeneratingEvent event, AuthResponse account) {
            this.event = event;
            this.account = account;
        }

        void cancel() {
            cancelled = true;
            Call open = call;
            if (open != null) {
                open.cancel();
            }
        }

        void run() {
            int tries = 0;
            while (!ended && !cancelled && !closed && tries < TRIES_WITHOUT_PROGRESS) {
                int before = text.length();
                attachOnce();
                tries = text.length() > before ? 1 : tries + 1;
                if (!ended && !cancelled && !closed) {
                    try {
                        Thread.sleep(backoff.apply(tries));
                    } catch (InterruptedException e) {
                        return; // closing
                    }
                }
            }
            if (!cancelled) {
                tell(event, question, text.toString(), true);
            }
        }

        private void attachOnce() {
            Call next = api.attach(event.messageId(), event.replyId(), text.length(), account);
            call = next;
            if (cancelled || closed) {
                next.cancel();
            }
            try (Response response = api.open(next)) {
                if (!ServerApi.isStream(response)) {
                    ended = true; // finished already: the pull brings it
                    return;
                }
                EventSources.processResponse(response, new EventSourceListener() {
                    @Override
                    public void onEvent(EventSource source, String id, String type, String data) {
                        heardOfReply(type, data);
                    }
                });
            } catch (ServerError e) {
                ended = true; // nothing to follow (404: never arrived, or another account's): the pull tells the rest
                LOG.debug("reply {} not followed: {}", event.replyId(), e.getMessage());
            } catch (IOException e) {
                LOG.debug("following reply {} broke: {}", event.replyId(), e.getMessage());
            }
        }

        private void heardOfReply(String type, String data) {
            try {
                switch (type) {
                    case StreamEvents.START -> question = json.readValue(data, StreamStart.class).userMessage()
                            .content();
                    case StreamEvents.DELTA -> text.append(json.readValue(data, StreamDelta.class).text());
                    case StreamEvents.DONE, StreamEvents.ERROR -> {
                        ended = true;
                        return; // the end is told once the loop stops
                    }
                    default -> {
                        return;
                    }
                }
            } catch (IOException e) {
                LOG.warn("a followed reply's event could not be read: {}", e.getMessage());
                return;
            }
            if (!cancelled) {
                tell(event, question, text.toString(), false);
            }
        }
    }

    private void tell(GeneratingEvent event, String question, String text, boolean ended) {
        RemoteReply reply = new RemoteReply(event.sessionId(), event.messageId(), question, event.replyId(), text,
                ended);
        events.fire(l -> l.remoteReply(reply));
    }

    private void setState(LiveState next) {
        if (state != next) {
            state = next;
            events.fire(l -> l.liveStateChanged(next));
        }
    }

    private void wake() {
        synchronized (lock) {
            wakeRequested = true;
            lock.notifyAll();
        }
    }

    private void await(long millis) {
        long deadline = System.currentTimeMillis() + millis;
        synchronized (lock) {
            while (!wakeRequested && !closed) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    break;
                }
                try {
                    lock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    closed = true;
                }
            }
            wakeRequested = false;
        }
    }

    @Override
    public void close() {
        closed = true;
        Call open = current;
        if (open != null) {
            open.cancel();
        }
        wake();
        following.values().forEach(Follow::cancel);
        followers.shutdownNow();
        retries.shutdownNow();
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
