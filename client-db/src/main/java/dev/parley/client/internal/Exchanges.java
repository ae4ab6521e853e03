package dev.parley.client.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.protocol.Limits;
import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exchanges of this device: sending, editing, regenerating, trying again, stopping, and resuming after a restart
 * every exchange a previous run left under way. One {@link ExchangeRun} per user message at a time (a send, a retry
 * or a regenerate of it). Thread-safe; the client closes it.
 */
public final class Exchanges implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Exchanges.class);
    /** Live generations the server allows one user (SPEC §5.3). */
    static final int PARALLEL = 4;

    private final ExchangeRecords records;
    private final Conversations conversations;
    private final Events events;
    private final ExchangeRun.Services services;
    private final Map<String, ExchangeRun> live = new ConcurrentHashMap<>();
    /** One thread per live exchange (a handful: the server lets one user generate {@value #PARALLEL} at once). */
    private final ExecutorService runs = Executors.newCachedThreadPool(daemon("parley-exchange"));
    private final ExecutorService stops = Executors.newSingleThreadExecutor(daemon("parley-stop"));
    /** Tries again, with backoff, what could not reach the server: a stop sent offline, an end not stored. */
    private final ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor(daemon("parley-resume"));
    /** Writes the growing replies' text to the store at a bounded rate. */
    private final ScheduledExecutorService keeper = Executors.newSingleThreadScheduledExecutor(daemon("parley-keep"));
    private final Map<String, Integer> tries = new ConcurrentHashMap<>();
    private static final IntervalFunction RESUME_BACKOFF =
            IntervalFunction.ofExponentialRandomBackoff(Duration.ofSeconds(1), 2.0, 0.5, Duration.ofMinutes(1));

    /** @param ended hears every exchange that ended, after its outcome was stored */
    public Exchanges(ServerApi api, ExchangeRecords records, ExchangeRequests requests, Conversations conversations,
                     TokenStore tokens, ObjectMapper json, Events events, Consumer<ExchangeRun.EndedRun> ended) {
        this.records = records;
        this.conversations = conversations;
        this.events = events;
        this.services = new ExchangeRun.Services(api, records, requests, tokens, json, events, stops, keeper, done -> {
            live.remove(done.run().messageId(), done.run());
            if (done.recorded() == null) {
                resumeLater(done.run().messageId()); // it ended here, not on the server: a stop still to send
            } else {
                tries.remove(done.run().messageId());
            }
            ended.accept(done);
        });
    }

    /** Writes a user message locally (one transaction), at the end of the shown path, and starts its exchange. */
    public Exchange send(String sessionId, String content, String model) {
        requireContent(content);
        ExchangeRecords.Begun begun = records.write(sessionId, content, model, conversations.owner());
        events.changed(begun.change());
        return start(new ExchangeRun(begun.row(), services), false);
    }

    /** Writes an edit of a question as a new sibling of it (one transaction) and starts its exchange. */
    public Exchange edit(String messageId, String content, String model) {
        requireContent(content);
        ExchangeRecords.Begun begun = records.edit(messageId, content, model, conversations.owner());
        events.changed(begun.change());
        return start(new ExchangeRun(begun.row(), services), false);
    }

    /** Starts another reply to the question that {@code replyId} answers, under a new id. */
    public Exchange regenerate(String replyId, String model) {
        ExchangeRecords.Begun begun = records.regenerate(replyId, model);
        events.changed(begun.change());
        return start(new ExchangeRun(begun.row(), services, begun.regeneration()), false);
    }

    private static void requireContent(String content) {
        if (content == null || content.isBlank()) {
            throw new ClientException("bad_request", "Write a message first.", false, null);
        }
        if (content.length() > Limits.MAX_CONTENT_CHARS) {
            throw new ClientException("bad_request", "A message can be at most " + Limits.MAX_CONTENT_CHARS
                    + " characters long.", false, null);
        }
    }

    /**
     * Sends a failed message again, with the same id (so the server counts it once); for a failed regenerate,
     * regenerates again under the same reply id.
     */
    public Exchange retry(String messageId) {
        if (records.isFailedReply(messageId)) {
            ExchangeRecords.Begun begun = records.retryReply(messageId);
            events.changed(begun.change());
            return start(new ExchangeRun(begun.row(), services, begun.regeneration()), false);
        }
        ExchangeRecords.Begun begun = records.retry(messageId);
        return start(new ExchangeRun(begun.row(), services), false);
    }

    /**
     * Stops the reply being written here to the user message {@code id}, or the reply named {@code id}; false when no
     * such exchange is live.
     */
    public boolean stop(String id) {
        Optional<ExchangeRun> run = find(id);
        run.ifPresent(ExchangeRun::stop);
        return run.isPresent();
    }

    /** True while the exchange of the user message {@code id}, or of the reply {@code id}, is live here. */
    public boolean isLive(String id) {
        return find(id).isPresent();
    }

    /** The live exchange of the user message {@code id}, else the one writing the reply {@code id}. */
    private Optional<ExchangeRun> find(String id) {
        ExchangeRun run = live.get(id);
        return run != null ? Optional.of(run)
                : live.values().stream().filter(r -> id.equals(r.replyId())).findFirst();
    }

    /** Every exchange live on this device. */
    public List<Exchange> live() {
        return List.copyOf(live.values());
    }

    /**
     * Gives up what a crash left of signed-out exchanges (which cannot be re-attached to), at start-up, before any
     * exchange runs.
     */
    public void failInterrupted() {
        records.failInterrupted("Parley was closed before the reply came. Try again.");
    }

    /**
     * Resumes the signed-in account's exchanges left under way (by a restart, a crash, a stop not yet sent) that
     * are not live now: each re-attaches to its reply, or sends its stop. Call at start, at sign-in and when the
     * connection is back.
     */
    public void resume() {
        String owner = conversations.owner();
        if (owner == null) {
            return;
        }
        live.values().forEach(ExchangeRun::wake);
        for (ExchangeRecords.Resumable left : records.resumable(owner)) {
            if (!live.containsKey(left.row().id())) {
                // A stop still to send is no reply being written: it is sent quietly.
                boolean onlyAStop = left.reply() != null && left.reply().stopRequested();
                UnfinishedReplies.Row reply = left.reply();
                ExchangeRecords.Regeneration regeneration = reply != null && reply.regenerate()
                        ? new ExchangeRecords.Regeneration(reply.replyId(), reply.model(), reply.startedAt()) : null;
                start(new ExchangeRun(left.row(), services, regeneration).resumedFrom(reply), true, !onlyAStop);
            }
        }
    }

    private Exchange start(ExchangeRun run, boolean resumed) {
        return start(run, resumed, true);
    }

    private Exchange start(ExchangeRun run, boolean resumed, boolean announce) {
        ExchangeRun previous = live.putIfAbsent(run.messageId(), run);
        if (previous != null) {
            return previous; // followed already (a resumed exchange): the same one
        }
        if (announce) {
            events.fire(l -> l.exchangeStarted(run));
        }
        runs.execute(resumed ? run::resume : run::send);
        return run;
    }

    /**
     * Lets go of every live exchange without ending it: its message stays under way, with the text kept so far,
     * and the next start resumes it (the server goes on generating meanwhile).
     */
    /** Resumes the account's exchanges again after a backoff that grows with each try of {@code messageId}. */
    private void resumeLater(String messageId) {
        int attempt = tries.merge(messageId, 1, Integer::sum);
        try {
            later.schedule(() -> {
                try {
                    resume();
                } catch (RuntimeException e) {
                    LOG.warn("resuming the exchanges left under way failed", e);
                }
            }, RESUME_BACKOFF.apply(attempt), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // the client is closing: the next start resumes it
        }
    }

    @Override
    public void close() {
        later.shutdownNow();
        stops.shutdown(); // a stop the user asked for is sent, or remembered, first
        try {
            stops.awaitTermination(5, TimeUnit.SECONDS);
            live.values().forEach(ExchangeRun::abandon);
            keeper.shutdown();
            runs.shutdown();
            runs.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
