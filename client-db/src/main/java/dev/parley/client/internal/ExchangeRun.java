package dev.parley.client.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.Exchange;
import dev.parley.client.ExchangeListener;
import dev.parley.client.LocalMessage;
import dev.parley.client.SyncState;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.StreamDelta;
import dev.parley.protocol.StreamEvents;
import dev.parley.protocol.StreamStart;
import io.github.resilience4j.core.IntervalFunction;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;
import okhttp3.sse.EventSources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole life of one message's exchange, in one place: sent as a stream (or answered whole by a server without
 * streaming), its reply kept as it grows, re-attached to with jittered backoff when the stream breaks, stopped on
 * request, and ended once — finished, failed or stopped — by one local transaction that replaces the unfinished
 * reply with the rows the server stored.
 *
 * <pre>
 *   Sending ──start──▶ Streaming ──done──▶ Ended(finished | stopped)
 *      │                  │  ▲   └─error─▶ Ended(failed)
 *      │               broken │ re-attached
 *      │                  ▼  │
 *      └─no answer──▶ Reattaching ──404 / gave up──▶ Ended(failed: no answer; the push loop delivers it)
 *   any ──Stop──▶ Stopping ──server kept the text──▶ Ended(stopped);  offline ──▶ Ended(stopped here, sent later)
 * </pre>
 *
 * <p>The exchange runs on one thread of the client's exchange pool; {@link #stop} hands its work to the client's
 * stop thread. Listener callbacks run on the client's event thread. Thread-safe.
 */
public final class ExchangeRun implements Exchange {
    private static final Logger LOG = LoggerFactory.getLogger(ExchangeRun.class);
    /**
     * The reply's text is written to the local store at most this often: a period after the first piece it does
     * not hold yet (and at the end, whole, with the outcome).
     */
    static final long KEEP_TEXT_EVERY_MS = 250;
    private static final IntervalFunction ATTACH_BACKOFF =
            IntervalFunction.ofExponentialRandomBackoff(Duration.ofMillis(250), 2.0, 0.5, Duration.ofSeconds(8));
    static final String NO_ANSWER =
            "No answer from the server. Parley keeps the message and sends it when the connection is back.";
    static final String NO_REGENERATE_ANSWER = "No answer from the server. Try again when the connection is back.";

    /** Where the exchange stands; every change of it is made under the run's lock. */
    private sealed interface State permits Sending, Streaming, Reattaching, Stopping, Closing, Ended {
    }

    private record Sending() implements State {
    }

    private record Streaming(String replyId) implements State {
    }

    private record Reattaching(int attempt) implements State {
    }

    private record Stopping() implements State {
    }

    /** One path has taken the right to end the exchange and is storing its outcome. */
    private record Closing() implements State {
    }

    private record Ended(Outcome outcome, Ending how) implements State {
    }

    private enum Ending { FINISHED, FAILED, STOPPED }

    /** What a run needs from its client. */
    public record Services(ServerApi api, ExchangeRecords records, ExchangeRequests requests, TokenStore tokens,
                           ObjectMapper json, Events events, Executor stopper, ScheduledExecutorService keeper,
                           Consumer<EndedRun> ended) {
    }

    private final MessageRow row;
    /** What this exchange regenerates, or {@code null} for a send (or a retry of one). */
    private final ExchangeRecords.Regeneration regeneration;
    /** The id this device chose for the reply; the server's start names the one it is stored under. */
    private final String clientReplyId;
    private final Services services;
    private final LocalMessage userMessage;
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    /** Touched on the event thread only. */
    private final List<Subscriber> subscribers = new ArrayList<>();

    // Guarded by this.
    private State state = new Sending();
    private String replyId;
    /** Counts the replies this exchange has shown: a new generation on the server starts the text anew. */
    private int generation;
    private final StringBuilder text = new StringBuilder();
    private boolean stopRequested;
    private Call current;
    private boolean keepScheduled;
    private boolean restartFromZero;
    /** Resumed after a restart: its server may hold a reply even though no stream was seen here. */
    private boolean resumed;
    private boolean wakeUp;

    /** A run of the message {@code row}, marked under way in the local store. */
    ExchangeRun(MessageRow row, Services services) {
        this(row, services, null);
    }

    /** A run of {@code row}'s exchange: a send, or when {@code regeneration} is given another reply to it. */
    ExchangeRun(MessageRow row, Services services, ExchangeRecords.Regeneration regeneration) {
        this.row = row;
        this.services = services;
        this.regeneration = regeneration;
        this.clientReplyId = regeneration != null ? regeneration.replyId() : services.records().newId();
        this.userMessage = row.toLocal();
    }

    /** Continues from what a previous run of this message kept: its reply's text, and a stop not yet sent. */
    ExchangeRun resumedFrom(UnfinishedReplies.Row kept) {
        synchronized (this) {
            resumed = true;
            if (kept != null) {
                replyId = kept.replyId();
                text.append(kept.content());
                stopRequested = kept.stopRequested();
                generation = replyId == null ? 0 : 1;
            }
        }
        return this;
    }

    // ------------------------------------------------------------------------------------------ the public handle

    @Override
    public LocalMessage userMessage() {
        return userMessage;
    }

    @Override
    public synchronized String replyId() {
        return replyId != null ? replyId : clientReplyId;
    }

    /** True for a regenerate: another reply to a user message answered before. */
    public boolean regenerates() {
        return regeneration != null;
    }

    @Override
    public synchronized String text() {
        return text.toString();
    }

    @Override
    public CompletableFuture<Outcome> outcome() {
        return outcome;
    }

    @Override
    public void addListener(ExchangeListener listener) {
        services.events().execute(() -> {
            Subscriber subscriber = new Subscriber(listener);
            subscribers.add(subscriber);
            subscriber.catchUp(snapshot());
        });
    }

    @Override
    public void removeListener(ExchangeListener listener) {
        services.events().execute(() -> subscribers.removeIf(s -> s.listener == listener));
    }

    @Override
    public void stop() {
        synchronized (this) {
            if (over() || stopRequested) {
                return;
            }
            stopRequested = true;
        }
        services.stopper().execute(this::sendStop);
    }

    /** Lets go without ending: nothing more is stored, and the message stays under way for the next start. */
    void abandon() {
        synchronized (this) {
            if (over()) {
                return;
            }
            state = new Closing();
            notifyAll();
        }
        cancelCurrent();
    }

    /** True once the exchange has ended, or one path is storing its end. */
    synchronized boolean ended() {
        return over();
    }

    private boolean over() {
        return state instanceof Ended || state instanceof Closing;
    }

    // ------------------------------------------------------------------------------------------ the run

    /** Sends the message and follows its reply to the end. Runs on an exchange thread. */
    void send() {
        try {
            AuthResponse account = accountOrEnd();
            if (account == null && row.owner() != null) {
                return;
            }
            try {
                Call call = track(request(account));
                try (Response response = services.api().open(call)) {
                    consume(response);
                }
            } catch (ServerError e) {
                if (e.code().equals(ErrorCode.IN_PROGRESS.wire()) && row.owner() != null) {
                    attachLoop(); // a request of this id is live (another device, a retry): follow it instead
                } else {
                    failWith(e);
                }
                return;
            } catch (IOException e) {
                if (ended()) {
                    return;
                }
                LOG.info("stream of message {} broke: {}", row.id(), e.getMessage());
                if (row.owner() == null || !reachedServer(e)) {
                    noAnswer();
                    return;
                }
            }
            if (!ended()) {
                if (row.owner() == null) {
                    noAnswer(); // an anonymous reply cannot be re-attached to
                } else {
                    attachLoop();
                }
            }
        } catch (RuntimeException e) {
            LOG.error("exchange of message {} failed unexpectedly", row.id(), e);
            if (claimEnd()) {
                end(() -> services.records().failed(row, regeneration, LocalMessage.OFFLINE,
                        "Sending failed unexpectedly. Try again.",
                        true, row.owner() == null ? SyncState.LOCAL : SyncState.PENDING, null), Ending.FAILED);
            }
        }
    }

    /**
     * The request that starts the exchange: a send asks {@code POST /api/chat}; a regenerate signed in asks
     * {@code POST /api/chat/regenerate}, and signed out (nothing on a server to regenerate against) the same
     * question again, anonymously, with the new reply's id.
     */
    private Call request(AuthResponse account) throws IOException {
        if (regeneration == null) {
            return services.api().chatStream(services.requests().chatRequest(row, clientReplyId), account);
        }
        if (account == null) {
            return services.api().chatStream(services.requests().chatRequest(row, regeneration.replyId(),
                    regeneration.model()), null);
        }
        return services.api().regenerateStream(services.requests().regenerateRequest(row, regeneration), account);
    }

    /** The reply re-attach and stop select: a regenerate's own; a send's is found by its message. */
    private String selectedReply() {
        return regeneration == null ? null : regeneration.replyId();
    }

    /** Resumes an exchange a restart left under way: sends its stop, or re-attaches to its reply. */
    void resume() {
        try {
            boolean stopping;
            synchronized (this) {
                stopping = stopRequested;
            }
            if (stopping) {
                sendStop();
            } else {
                attachLoop();
            }
        } catch (RuntimeException e) {
            LOG.error("resuming message {} failed unexpectedly", row.id(), e);
            if (claimEnd()) {
                finish(new Ended(new Outcome(userMessage, null), Ending.FAILED), null); // still under way: next start
            }
        }
    }

    /**
     * Re-attaches from the text it has until the exchange ends. While the server cannot be reached it keeps trying,
     * with jittered backoff (the reply is the server's: it is stored whether or not anyone listens), until the
     * client closes — except for a message whose request may never have reached the server (no stream ever
     * started): after one try that is given up as unanswered, and the push loop delivers it.
     */
    private void attachLoop() {
        int attempt = 0;
        while (true) {
            attempt++;
            if (!waitBeforeAttach(attempt)) {
                return;
            }
            AuthResponse account = accountOrEnd();
            if (account == null) {
                return;
            }
            int before;
            boolean everStarted;
            synchronized (this) {
                if (restartFromZero) {
                    restartFromZero = false;
                    text.setLength(0);
                }
                before = text.length();
                everStarted = replyId != null || resumed;
            }
            try {
                Call call = track(services.api().attach(row.id(), selectedReply(), before, account));
                try (Response response = services.api().open(call)) {
                    consume(response);
                }
            } catch (ServerError e) {
                if (e.status() == 404) {
                    noAnswer(); // the server holds no trace of it: the request never arrived whole
                    return;
                }
                if (e.code().equals(ErrorCode.INTERRUPTED.wire()) || e.fromParley() && !e.retryable()) {
                    failWith(e);
                    return;
                }
                // A restart's 503, a proxy's 502, a 429: the reply is still the server's to finish. Again, later.
                LOG.debug("re-attach {} to message {} refused for now: {}", attempt, row.id(), e.getMessage());
                if (!everStarted) {
                    noAnswer();
                    return;
                }
            } catch (IOException e) {
                LOG.debug("re-attach {} to message {} broke: {}", attempt, row.id(), e.getMessage());
                if (!everStarted) {
                    noAnswer();
                    return;
                }
            }
            synchronized (this) {
                if (over()) {
                    return;
                }
                if (text.length() > before || restartFromZero) {
                    attempt = 0; // it made progress: the next break is re-attached to at once
                }
            }
        }
    }

    /** The connection may be back: a re-attach waiting out its backoff goes now. */
    synchronized void wake() {
        wakeUp = true;
        notifyAll();
    }

    /** Waits the jittered backoff of {@code attempt} (none before the first); false when the exchange ended. */
    private synchronized boolean waitBeforeAttach(int attempt) {
        if (over()) {
            return false;
        }
        moveTo(new Reattaching(attempt));
        long until = System.nanoTime() + (attempt == 1 ? 0 : ATTACH_BACKOFF.apply(attempt - 1)) * 1_000_000;
        wakeUp = false;
        try {
            for (long left = until - System.nanoTime(); left > 0 && !over() && !wakeUp;
                 left = until - System.nanoTime()) {
                wait(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return !over();
    }

    /** Reads one answer: a stream of events, or a JSON body (a server without streaming, a proxy that buffers). */
    private void consume(Response response) throws IOException {
        if (!ServerApi.isStream(response)) {
            answered(services.api().chatResponse(response));
            return;
        }
        EventSources.processResponse(response, new EventSourceListener() {
            @Override
            public void onEvent(EventSource source, String id, String type, String data) {
                try {
                    onStreamEvent(id, type, data);
                } catch (IOException e) {
                    LOG.warn("unreadable {} event for message {}: {}", type, row.id(), e.getMessage());
                    cancelCurrent();
                }
            }

            @Override
            public void onFailure(EventSource source, Throwable t, Response failed) {
                LOG.debug("stream of message {} ended: {}", row.id(), t == null ? "closed" : t.getMessage());
            }
        });
    }

    private void onStreamEvent(String id, String type, String data) throws IOException {
        switch (type == null ? "" : type) {
            case StreamEvents.START -> started(services.json().readValue(data, StreamStart.class));
            case StreamEvents.DELTA -> appended(id, services.json().readValue(data, StreamDelta.class).text());
            case StreamEvents.DONE -> answered(services.json().readValue(data, ChatResponse.class));
            case StreamEvents.ERROR -> failWith(services.api().errorEvent(data));
            default -> LOG.debug("ignored {} event for message {}", type, row.id());
        }
    }

    private void started(StreamStart start) {
        synchronized (this) {
            if (over()) {
                return;
            }
            if (replyId != null && start.replyId() != null && !replyId.equals(start.replyId())) {
                // Another generation of this message (the first was lost with its process): its text starts anew.
                restartFromZero = true;
                replyId = start.replyId();
                generation++;
                cancelCurrent();
                return;
            }
            if (replyId == null) {
                replyId = start.replyId();
                generation++;
            }
            moveTo(new Streaming(replyId));
        }
        publish();
    }

    private void appended(String id, String piece) {
        boolean keep = false;
        synchronized (this) {
            if (over() || restartFromZero) {
                return;
            }
            if (id != null && !id.equals(Integer.toString(text.length() + piece.length()))) {
                // Not the piece that follows what is shown: re-attach from what is shown, so no character doubles.
                LOG.warn("a delta of message {} ends at {} after {} characters; re-attaching", row.id(), id,
                        text.length());
                cancelCurrent();
                return;
            }
            text.append(piece);
            if (!keepScheduled) {
                keepScheduled = true;
                keep = true;
            }
        }
        if (keep) {
            try {
                services.keeper().schedule(this::keepText, KEEP_TEXT_EVERY_MS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                // the client is closing: what was kept last stands
            }
        }
        publish();
    }

    /**
     * Writes the text so far to the store, a period after the first piece it did not hold yet: a reply that ends
     * sooner is stored whole with its outcome only. On the client's keeper thread.
     */
    private void keepText() {
        String kept;
        String id;
        synchronized (this) {
            keepScheduled = false;
            if (over()) {
                return;
            }
            kept = text.toString();
            id = replyId;
        }
        try {
            services.records().keepText(row, id, kept);
        } catch (RuntimeException e) {
            LOG.warn("the text of message {}'s reply could not be kept: {}", row.id(), e.getMessage());
        }
    }

    private void answered(ChatResponse response) {
        Ending how = response.assistantMessage() == null
                || response.assistantMessage().finishReason() == FinishReason.STOPPED ? Ending.STOPPED
                : Ending.FINISHED;
        if (response.assistantMessage() == null && !response.userMessage().failed() && regeneration == null) {
            how = Ending.FAILED; // an answer without a reply or a failure: treat it as none
        }
        if (claimEnd()) {
            end(() -> services.records().answered(row, regeneration, response), how);
        }
    }

    /** A failure the server answered: stored on the user message, where it stands with the server as it says. */
    private void failWith(ServerError e) {
        SyncState state;
        if (row.owner() == null) {
            state = SyncState.LOCAL;
        } else if (e.persisted()) {
            state = SyncState.SYNCED;
        } else if (e.retryable() || e.status() == 401) {
            state = SyncState.PENDING;
        } else {
            state = SyncState.REJECTED; // refused on its merits (e.g. the conversation was deleted elsewhere)
        }
        if (claimEnd()) {
            end(() -> services.records().failed(row, regeneration, e.code(), e.getMessage(),
                    e.retryable() || e.status() == 401, state, e.getMessage()), Ending.FAILED);
        }
    }

    /** No answer to be had: failed and unsent, so the push loop delivers it (as failed: never counted unanswered). */
    private void noAnswer() {
        if (!claimEnd()) {
            return;
        }
        if (regeneration != null) {
            // Nothing to push: the question is the server's already. Try again regenerates under the same id.
            end(() -> services.records().failed(row, regeneration, LocalMessage.OFFLINE, NO_REGENERATE_ANSWER, true,
                    row.syncState(), null), Ending.FAILED);
        } else if (row.syncState() == SyncState.SYNCED && row.failed()) {
            end(() -> services.records().unchanged(row), Ending.FAILED); // tried again in vain: still as the server has it
        } else {
            end(() -> services.records().failed(row, null, LocalMessage.OFFLINE, NO_ANSWER, true,
                    row.owner() == null ? SyncState.LOCAL : SyncState.PENDING, null), Ending.FAILED);
        }
    }

    // ------------------------------------------------------------------------------------------ stop

    /** Sends the stop (on the stop thread, or on the exchange thread when resuming one a restart left unsent). */
    private void sendStop() {
        try {
            synchronized (this) {
                if (state instanceof Ended || state instanceof Closing) {
                    return;
                }
                state = new Stopping();
            }
            services.records().requestStop(row); // durable first: a crash from here on still sends it
            if (row.owner() == null) {
                // Anonymous: closing the connection stops the server's generation, and nothing was stored there.
                String kept;
                String id;
                synchronized (this) {
                    kept = text.toString();
                    id = replyId;
                }
                if (claimEnd()) {
                    cancelCurrent();
                    end(() -> services.records().stoppedLocally(row, regeneration, id, kept), Ending.STOPPED);
                }
                return;
            }
            AuthResponse account = services.tokens().load().filter(t -> t.user().id().equals(row.owner()))
                    .orElse(null);
            if (account == null) {
                stoppedHere();
                return;
            }
            try {
                ChatResponse response = services.api().stop(row.id(), selectedReply(), account);
                answered(response);
                cancelCurrent();
            } catch (ServerError e) {
                if (e.status() == 404) {
                    // The server never got the message: it is stopped before its first word, and the push loop
                    // delivers it as failed.
                    if (claimEnd()) {
                        cancelCurrent();
                        end(() -> services.records().stoppedBeforeReply(row, regeneration, SyncState.PENDING),
                                Ending.STOPPED);
                    }
                } else {
                    LOG.info("stop of message {} refused ({}); it is sent again later", row.id(), e.getMessage());
                    stoppedHere();
                }
            } catch (IOException e) {
                LOG.info("stop of message {} not delivered ({}); it is sent when the connection is back", row.id(),
                        e.getMessage());
                stoppedHere();
            }
        } catch (RuntimeException e) {
            LOG.error("stopping message {} failed unexpectedly", row.id(), e);
        }
    }

    /**
     * The stop could not reach the server: the reply stops here at once, shown as it was and marked stopped; the
     * message stays under way, with its stop remembered, until the server confirms it.
     */
    private void stoppedHere() {
        if (!claimEnd()) {
            return;
        }
        cancelCurrent();
        String kept;
        String id;
        synchronized (this) {
            kept = text.toString();
            id = replyId;
        }
        services.records().keepText(row, id, kept);
        UnfinishedReplies.Row reply = regeneration == null
                ? new UnfinishedReplies.Row(row.id(), row.message().sessionId(), id, kept, null, true)
                : new UnfinishedReplies.Row(row.id(), row.message().sessionId(), regeneration.replyId(), kept,
                regeneration.startedAt(), true, true, regeneration.model());
        Outcome shown = new Outcome(userMessage, Conversations.unfinishedReply(row, reply));
        finish(new Ended(shown, Ending.STOPPED), null);
    }

    // ------------------------------------------------------------------------------------------ ending

    /** Takes the right to end the exchange; false when another path took it first. */
    private synchronized boolean claimEnd() {
        if (state instanceof Ended || state instanceof Closing) {
            return false;
        }
        state = new Closing();
        return true;
    }

    /** Moves on while the exchange runs; a stop or an end under way is never undone. */
    private void moveTo(State next) {
        if (!(state instanceof Stopping || state instanceof Closing || state instanceof Ended)) {
            state = next;
        }
    }

    /**
     * Stores the end and tells everyone. When storing fails (the disk is full, the store is locked) the exchange still
     * ends here — its outcome completes and it leaves the live ones — with the message left under way in the store,
     * to be resumed at the next start.
     */
    private void end(java.util.function.Supplier<ExchangeRecords.Recorded> store, Ending how) {
        ExchangeRecords.Recorded recorded;
        try {
            recorded = store.get();
        } catch (RuntimeException e) {
            LOG.error("the end of message {}'s exchange could not be stored; it is resumed at the next start",
                    row.id(), e);
            finish(new Ended(new Outcome(userMessage, null), Ending.FAILED), null);
            return;
        }
        finish(new Ended(recorded.outcome(), how), recorded);
    }

    private void finish(Ended ended, ExchangeRecords.Recorded recorded) {
        synchronized (this) {
            state = ended;
            notifyAll();
        }
        if (recorded != null) {
            services.events().changed(recorded.change());
        }
        services.ended().accept(new EndedRun(this, recorded));
        publish();
        outcome.complete(ended.outcome());
    }

    /** An exchange that ended, for its client: what the end stored (none when the stop is still to be sent). */
    public record EndedRun(ExchangeRun run, ExchangeRecords.Recorded recorded) {
    }

    // ------------------------------------------------------------------------------------------ plumbing

    private AuthResponse accountOrEnd() {
        if (row.owner() == null) {
            return null;
        }
        AuthResponse account = services.tokens().load().filter(t -> t.user().id().equals(row.owner())).orElse(null);
        if (account == null && claimEnd()) {
            // Signed out (or another account) since writing it: it waits for its own account's sign-in.
            end(() -> services.records().failed(row, regeneration, "unauthorized",
                    regeneration == null ? "Sign in to send this message." : "Sign in to regenerate this reply.", true,
                    SyncState.PENDING, null), Ending.FAILED);
        }
        return account;
    }

    private synchronized Call track(Call call) {
        current = call;
        if (over()) {
            call.cancel();
        }
        return call;
    }

    private synchronized void cancelCurrent() {
        if (current != null) {
            current.cancel();
        }
    }

    /** Whether a transport failure may have come after the request reached the server (not a refused connection). */
    private static boolean reachedServer(IOException e) {
        return !(e instanceof ConnectException || e instanceof UnknownHostException);
    }

    /** What listeners are told: taken now, delivered in order on the event thread. */
    private record Snapshot(int generation, String replyId, int length, Ended ended) {
    }

    private synchronized Snapshot snapshot() {
        return new Snapshot(generation, replyId, text.length(), state instanceof Ended e ? e : null);
    }

    private void publish() {
        Snapshot snapshot = snapshot();
        services.events().execute(() -> subscribers.forEach(s -> s.catchUp(snapshot)));
    }

    private synchronized String slice(int generationOf, int from, int to) {
        return generationOf == generation && to <= text.length() && from < to ? text.substring(from, to) : null;
    }

    /** One listener and what it has been told so far. Event thread only. */
    private final class Subscriber {
        final ExchangeListener listener;
        int generation;
        int told;
        boolean ended;

        Subscriber(ExchangeListener listener) {
            this.listener = listener;
        }

        void catchUp(Snapshot snapshot) {
            if (ended) {
                return;
            }
            ExchangeRun run = ExchangeRun.this;
            if (snapshot.replyId() != null && snapshot.generation() != generation) {
                generation = snapshot.generation();
                told = 0;
                listener.started(run, snapshot.replyId());
            }
            if (snapshot.length() > told) {
                String piece = slice(snapshot.generation(), told, snapshot.length());
                if (piece != null) {
                    told = snapshot.length();
                    listener.textAppended(run, piece);
                }
            }
            if (snapshot.ended() != null) {
                ended = true;
                Outcome result = snapshot.ended().outcome();
                switch (snapshot.ended().how()) {
                    case FINISHED -> listener.finished(run, result);
                    case FAILED -> listener.failed(run, result);
                    case STOPPED -> listener.stopped(run, result);
                }
            }
        }
    }
}
