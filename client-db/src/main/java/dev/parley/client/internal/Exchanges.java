package dev.parley.client.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.protocol.Limits;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The exchanges of this device: sending, trying again, stopping, and resuming after a restart every exchange a
 * previous run left under way. One {@link ExchangeRun} per message at a time. Thread-safe; the client closes it.
 */
public final class Exchanges implements AutoCloseable {
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

    /** @param ended hears every exchange that ended, after its outcome was stored */
    public Exchanges(ServerApi api, ExchangeRecords records, Conversations conversations, TokenStore tokens,
                     ObjectMapper json, Events events, Consumer<ExchangeRun.EndedRun> ended) {
        this.records = records;
        this.conversations = conversations;
        this.events = events;
        this.services = new ExchangeRun.Services(api, records, tokens, json, events, stops, done -> {
            live.remove(done.run().messageId(), done.run());
            ended.accept(done);
        });
    }

    /** Writes a user message locally (one transaction) and starts its exchange. */
    public Exchange send(String sessionId, String content, String model) {
        if (content == null || content.isBlank()) {
            throw new ClientException("bad_request", "Write a message first.", false, null);
        }
        if (content.length() > Limits.MAX_CONTENT_CHARS) {
            throw new ClientException("bad_request", "A message can be at most " + Limits.MAX_CONTENT_CHARS
                    + " characters long.", false, null);
        }
        ExchangeRecords.Begun begun = records.write(sessionId, content, model, conversations.owner());
        events.changed(begun.change());
        return start(new ExchangeRun(begun.row(), begun.request(), services), false);
    }

    /** Sends a failed message again, with the same id (so the server counts it once). */
    public Exchange retry(String messageId) {
        ExchangeRecords.Begun begun = records.retry(messageId);
        return start(new ExchangeRun(begun.row(), begun.request(), services), false);
    }

    /** Stops the reply to {@code messageId} if it is being written here; false when no exchange of it is live. */
    public boolean stop(String messageId) {
        ExchangeRun run = live.get(messageId);
        if (run == null) {
            return false;
        }
        run.stop();
        return true;
    }

    /** The exchange of {@code messageId}, while it is live on this device. */
    public Optional<Exchange> live(String messageId) {
        return Optional.ofNullable(live.get(messageId));
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
                start(new ExchangeRun(left.row(), null, services).resumedFrom(left.reply()), true);
            }
        }
    }

    private Exchange start(ExchangeRun run, boolean resumed) {
        ExchangeRun previous = live.putIfAbsent(run.messageId(), run);
        if (previous != null) {
            return previous; // followed already (a resumed exchange): the same one
        }
        events.fire(l -> l.exchangeStarted(run));
        runs.execute(resumed ? run::resume : run::send);
        return run;
    }

    /**
     * Lets go of every live exchange without ending it: its message stays under way, with the text kept so far,
     * and the next start resumes it (the server goes on generating meanwhile).
     */
    @Override
    public void close() {
        stops.shutdown(); // a stop the user asked for is sent, or remembered, first
        try {
            stops.awaitTermination(5, TimeUnit.SECONDS);
            live.values().forEach(ExchangeRun::abandon);
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
