package dev.parley.server.internal.chat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.GeneratingEvent;
import dev.parley.server.internal.signal.ChangeSignals;
import dev.parley.server.internal.signal.Topics;
import dev.parley.server.internal.store.ClaimRepository;
import dev.parley.server.internal.store.ClaimRepository.LiveClaim;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.UserRepository;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live changes of SPEC §5.5 for the users with an open event stream on this process. Each watched user has one
 * watch on the {@link ChangeSignals}, the channel re-attach uses too: a commit that moves the user's change clock,
 * or a claim that starts a generation, wakes it (PostgreSQL at commit, SQLite at its next poll). A single reader
 * thread then waits {@code coalesce} so that a burst becomes one read, reads the change clocks and live claims of
 * every woken user in a few batched queries, and tells each subscriber what it has not been told: the clock when
 * it moved, a generation when it is new. Idle subscribers cost a small object each and no thread. Reads only.
 * Thread-safe; the owner closes it, which ends every subscription's wakes.
 */
public final class LiveChanges implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LiveChanges.class);
    /** Users read per query, well under every dialect's limit of bound parameters. */
    private static final int USERS_PER_READ = 500;
    private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(1);

    /**
     * What one subscriber is told, on the reader thread: each method must return quickly (hand writing to another
     * thread).
     */
    public interface Listener {
        /** The user's change clock is {@code cursor} (a sync cursor); first on subscribing, then when it moves. */
        void changed(String cursor);

        /** A generation started for the user (or was live when the subscription began). */
        void generating(GeneratingEvent event);
    }

    /** One subscription; closing it stops its events. Idempotent. */
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    private final Database db;
    private final ChangeSignals signals;
    private final Clock clock;
    private final ObjectMapper json;
    private final Duration coalesce;
    private final UserRepository users;
    private final ClaimRepository claims = new ClaimRepository();
    private final Map<String, WatchedUser> watched = new HashMap<>();
    private final Set<String> due = ConcurrentHashMap.newKeySet();
    private final Semaphore wakeUp = new Semaphore(0);
    private final Thread reader;
    private volatile boolean closed;

    /** @param coalesce how long the reader waits after a wake before reading, so that a burst is read once */
    public LiveChanges(Database db, ChangeSignals signals, Clock clock, ObjectMapper json, Duration coalesce) {
        this.db = db;
        this.signals = signals;
        this.clock = clock;
        this.json = json;
        this.coalesce = coalesce;
        this.users = new UserRepository(db.dialect());
        this.reader = new Thread(this::readLoop, "parley-live-changes");
        reader.setDaemon(true);
        reader.start();
    }

    /** Subscribes {@code listener} to the changes of {@code userId}; its first event comes within one read. */
    public Subscription subscribe(String userId, Listener listener) {
        Subscriber subscriber = new Subscriber(listener);
        synchronized (watched) {
            watched.computeIfAbsent(userId, WatchedUser::new).subscribers.add(subscriber);
        }
        markDue(userId);
        return () -> unsubscribe(userId, subscriber);
    }

    /** Subscriptions open now, over all users. */
    public int subscriptions() {
        synchronized (watched) {
            return watched.values().stream().mapToInt(user -> user.subscribers.size()).sum();
        }
    }

    private void unsubscribe(String userId, Subscriber subscriber) {
        synchronized (watched) {
            WatchedUser user = watched.get(userId);
            if (user != null && user.subscribers.remove(subscriber) && user.subscribers.isEmpty()) {
                watched.remove(userId);
                user.watch.close();
            }
        }
    }

    private void markDue(String userId) {
        if (due.add(userId)) {
            wakeUp.release();
        }
    }

    private void readLoop() {
        while (!closed) {
            try {
                wakeUp.acquire();
                TimeUnit.NANOSECONDS.sleep(coalesce.toNanos());
            } catch (InterruptedException e) {
                return;
            }
            wakeUp.drainPermits();
            List<String> batch = new ArrayList<>(due);
            due.removeAll(batch);
            for (int from = 0; from < batch.size() && !closed; from += USERS_PER_READ) {
                List<String> chunk = batch.subList(from, Math.min(batch.size(), from + USERS_PER_READ));
                if (!readAndTell(chunk)) {
                    chunk.forEach(this::markDue);
                    pauseAfterFailure();
                }
            }
        }
    }

    private boolean readAndTell(List<String> userIds) {
        Instant now = clock.instant();
        Map<String, Long> clocks;
        List<LiveClaim> live;
        try {
            Read read = db.read(c -> new Read(users.changeClocks(c, userIds), claims.liveOf(c, userIds, now)));
            clocks = read.clocks();
            live = read.claims();
        } catch (RuntimeException e) {
            LOG.warn("reading live changes of {} users failed; trying again: {}", userIds.size(), e.getMessage());
            return false;
        }
        Map<String, List<LiveClaim>> liveByUser = new HashMap<>();
        live.forEach(claim -> liveByUser.computeIfAbsent(claim.userId(), u -> new ArrayList<>()).add(claim));
        for (String userId : userIds) {
            WatchedUser user;
            synchronized (watched) {
                user = watched.get(userId);
            }
            Long cursor = clocks.get(userId);
            if (user != null && cursor != null) {
                try {
                    user.tell(cursor, liveByUser.getOrDefault(userId, List.of()));
                } catch (RuntimeException e) {
                    // One subscriber's failure must not stop this thread, which every stream of the process needs.
                    LOG.warn("telling the live changes of a user failed", e);
                }
            }
        }
        return true;
    }

    private record Read(Map<String, Long> clocks, List<LiveClaim> claims) {
    }

    private void pauseAfterFailure() {
        try {
            Thread.sleep(RETRY_AFTER_FAILURE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    /** The {@code generating} event of a claim: its start event names the user message it answers. */
    private GeneratingEvent generatingOf(LiveClaim claim) {
        String messageId = claim.claimKey();
        if (claim.startEvent() != null) {
            try {
                messageId = json.readTree(claim.startEvent()).path("userMessage").path("id").asText(messageId);
            } catch (IOException e) {
                LOG.warn("a claim's start event does not read as JSON; naming the claim instead: {}", e.getMessage());
            }
        }
        return new GeneratingEvent(messageId, claim.replyId(), claim.sessionId());
    }

    @Override
    public void close() {
        closed = true;
        reader.interrupt();
        try {
            reader.join(2_000); // before the database closes under its read
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (watched) {
            watched.values().forEach(user -> user.watch.close());
            watched.clear();
        }
    }

    /** A user with subscribers here: their one watch, and the generations seen live at the last read. */
    private final class WatchedUser {
        final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
        final ChangeSignals.Watch watch;
        /** Live generations by claim token, as of the last read (touched by the reader thread only). */
        Map<String, GeneratingEvent> generating = Map.of();

        WatchedUser(String userId) {
            this.watch = signals.watch(Topics.user(userId), () -> markDue(userId));
        }

        void tell(long cursor, List<LiveClaim> live) {
            Map<String, GeneratingEvent> now = new HashMap<>();
            for (LiveClaim claim : live) {
                GeneratingEvent known = generating.get(claim.token());
                now.put(claim.token(), known != null ? known : generatingOf(claim));
            }
            generating = now;
            for (Subscriber subscriber : subscribers) {
                subscriber.tell(cursor, now);
            }
        }
    }

    /** One listener and what it has been told (touched by the reader thread only). */
    private static final class Subscriber {
        final Listener listener;
        long toldCursor = -1;
        Set<String> toldGenerating = Set.of();

        Subscriber(Listener listener) {
            this.listener = listener;
        }

        void tell(long cursor, Map<String, GeneratingEvent> live) {
            if (cursor != toldCursor) {
                toldCursor = cursor;
                listener.changed(Long.toString(cursor));
            }
            for (Map.Entry<String, GeneratingEvent> entry : live.entrySet()) {
                if (!toldGenerating.contains(entry.getKey())) {
                    listener.generating(entry.getValue());
                }
            }
            toldGenerating = live.isEmpty() ? Set.of() : new HashSet<>(live.keySet());
        }
    }
}
