package dev.parley.server.internal.chat;

import dev.parley.server.ModelStream;
import dev.parley.server.internal.signal.ChangeSignals;
import dev.parley.server.internal.signal.Topics;
import dev.parley.server.internal.store.ClaimRepository;
import dev.parley.server.internal.store.Database;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generations this process runs (SPEC §5.3), and their heartbeat. One timer, every {@code flushEvery}, writes
 * in one transaction what each generation produced since the last beat and renews its claim (at least every
 * {@code lapse / 5}), then reads which of them another process asked to stop; a beat that finds a claim no longer
 * ours ends that generation as interrupted. Model calls start, and outcomes are stored, on a pool of their own, off
 * the request threads and the providers' threads. The heartbeat's bookkeeping of each generation ({@code flushed},
 * {@code renewed}) is touched by the heartbeat thread only. Every {@code lapse / 2} the same timer starts the sweep
 * of claims that lapsed long ago.
 * Thread-safe. The owner closes it, which stops the heartbeat: the claims of generations still running lapse.
 */
final class Generations implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Generations.class);

    /** One generation of this process: its claim, its live text and how much of it the database has. */
    static final class Running {
        final String messageId;
        final String userId;
        final String token;
        final LiveReply reply;
        private volatile ModelStream stream;
        private volatile boolean stopRequested;
        private volatile boolean abandoned;
        private int flushed;
        private Instant renewed;

        Running(String messageId, String userId, String token, LiveReply reply, Instant claimedAt) {
            this.messageId = messageId;
            this.userId = userId;
            this.token = token;
            this.reply = reply;
            this.renewed = claimedAt;
        }

        /** Attaches the model's stream; a stop asked for before it existed takes effect now. */
        void attach(ModelStream modelStream) {
            stream = modelStream;
            if (stopRequested) {
                modelStream.cancel();
            }
        }

        void stop() {
            stopRequested = true;
            ModelStream current = stream;
            if (current != null) {
                current.cancel();
            }
        }

        /** Stops the model and stores nothing: the claim is not ours any more, or this process is closing. */
        void abandon() {
            abandoned = true;
            stop();
        }

        boolean abandoned() {
            return abandoned;
        }
    }

    private final String holder = UUID.randomUUID().toString();
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final Database db;
    private final ChangeSignals signals;
    private final Clock clock;
    private final Duration lapse;
    private final Duration renewEvery;
    private final ClaimRepository claims = new ClaimRepository();
    private final ScheduledExecutorService timer;
    private final ExecutorService work;
    private final java.util.function.Consumer<Running> onLost;

    /**
     * @param lapse  how long a claim lives without renewal
     * @param onLost ends a generation whose claim was taken from it
     */
    Generations(Database db, ChangeSignals signals, Clock clock, Duration lapse, Duration flushEvery,
                java.util.function.Consumer<Running> onLost, Runnable sweep) {
        this.db = db;
        this.signals = signals;
        this.clock = clock;
        this.lapse = lapse;
        // Renewed at the first beat on or after lapse / 5 minus one beat, so never later than lapse / 5 (SPEC: 2 s).
        this.renewEvery = lapse.dividedBy(5).minus(flushEvery);
        this.onLost = onLost;
        AtomicInteger n = new AtomicInteger();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "parley-generation-beat"));
        this.work = Executors.newCachedThreadPool(r -> daemon(r, "parley-exchange-" + n.incrementAndGet()));
        long millis = flushEvery.toMillis();
        timer.scheduleWithFixedDelay(this::beat, millis, millis, TimeUnit.MILLISECONDS);
        long sweepMillis = lapse.toMillis() / 2;
        timer.scheduleWithFixedDelay(() -> execute(() -> sweepQuietly(sweep)), sweepMillis, sweepMillis,
                TimeUnit.MILLISECONDS);
    }

    private static void sweepQuietly(Runnable sweep) {
        try {
            sweep.run();
        } catch (RuntimeException e) {
            LOG.warn("sweeping lapsed claims failed; trying again later: {}", e.getMessage());
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** This process's name in the claims it holds. */
    String holder() {
        return holder;
    }

    Duration lapse() {
        return lapse;
    }

    /** Registers a generation whose claim was just taken, and starts {@code job} (the model call) off this thread. */
    void start(Running generation, Runnable job) {
        running.put(generation.messageId, generation);
        execute(job);
    }

    /**
     * Runs a job of this process's exchanges off the caller's thread: starting a model call, storing its outcome,
     * reading another process's reply. Once closing, a job runs on the caller's thread instead, so that no outcome
     * is dropped.
     */
    void execute(Runnable job) {
        try {
            work.execute(job);
        } catch (RejectedExecutionException closing) {
            job.run();
        }
    }

    /**
     * Forgets a generation whose model call ended, before its outcome is stored: the heartbeat leaves its claim
     * alone from now on, and the transaction that stores the outcome releases it.
     */
    void ended(Running generation) {
        running.remove(generation.messageId, generation);
    }



    Optional<Running> local(String messageId) {
        return Optional.ofNullable(running.get(messageId));
    }

    /** Live generations of this process, for tests and metrics. */
    int count() {
        return running.size();
    }

    private void beat() {
        if (running.isEmpty()) {
            return;
        }
        try {
            List<Running> lost = new ArrayList<>();
            List<String> stops = db.inTransaction(c -> {
                Instant now = clock.instant();
                try (PreparedStatement update = claims.prepareProgress(c)) {
                    for (Running g : running.values()) {
                        String text = g.reply.textFrom(g.flushed);
                        boolean renewDue = !now.isBefore(g.renewed.plus(renewEvery));
                        if (text.isEmpty() && !renewDue) {
                            continue;
                        }
                        int length = g.flushed + text.length();
                        if (!claims.progress(update, g.messageId, g.token, text, length, now.plus(lapse))) {
                            lost.add(g);
                            continue;
                        }
                        g.flushed = length;
                        g.renewed = now;
                        if (!text.isEmpty()) {
                            signals.announce(c, Topics.reply(g.messageId));
                        }
                    }
                }
                return claims.stopRequests(c, holder);
            });
            for (Running g : lost) {
                // Still registered, so its outcome is not being stored: the claim lapsed and was taken over.
                if (running.remove(g.messageId, g)) {
                    LOG.warn("the claim on message {} was taken over; its generation here ends", g.messageId);
                    onLost.accept(g);
                }
            }
            for (String id : stops) {
                local(id).ifPresent(Running::stop);
            }
        } catch (RuntimeException e) {
            LOG.warn("heartbeat of {} generations failed; retrying: {}", running.size(), e.getMessage());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        running.values().forEach(Running::abandon);
        work.shutdown();
        try {
            // Outcomes being stored right now finish before the database closes.
            if (!work.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("exchange jobs still running at close: {}", work.shutdownNow().size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
