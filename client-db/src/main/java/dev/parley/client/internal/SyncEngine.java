package dev.parley.client.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.SyncState;
import dev.parley.client.SyncStatus;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Limits;
import dev.parley.protocol.Message;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.Session;
import dev.parley.protocol.SyncPage;
import io.github.resilience4j.core.IntervalFunction;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The push loop and the pull (SPEC §6). All sync work runs on one thread, so pushes never overlap. A push reads
 * only pending rows of the signed-in account, through the outbox index, in creation order, in batches of at most
 * {@value Limits#MAX_PUSH_ROWS} rows and under the request size limit, and applies the per-row results in one
 * local transaction. A row stays pending until its result is applied, and the server applies each id at most
 * once, so a crash at any point loses nothing and duplicates nothing. After a failure the next push waits an
 * exponentially growing delay with jitter (a wait between half and all of 1 s, 2 s, 4 s … up to 5 min by
 * default). Thread-safe; the owner closes it.
 */
public final class SyncEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SyncEngine.class);
    /** Pushes stay well under the server's 1 MiB body limit. */
    private static final int BATCH_BYTES = 900 * 1024;
    private static final int PULL_PAGE = Limits.MAX_PAGE_LIMIT;

    private final LocalDatabase db;
    private final ServerApi api;
    private final TokenStore tokens;
    private final ObjectMapper json;
    private final ProgressListener statusChanged;
    private final Runnable signInExpired;
    private final java.time.Clock clock;
    private final IntervalFunction backoff;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();
    private final Settings settings = new Settings();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "parley-sync");
        t.setDaemon(true);
        return t;
    });

    private ScheduledFuture<?> next;
    private int failures;
    private volatile boolean offline;
    private volatile int progressDone;
    private volatile int progressTotal;

    public SyncEngine(LocalDatabase db, ServerApi api, TokenStore tokens, ObjectMapper json, java.time.Clock clock,
                      Duration backoffInitial, Duration backoffMax, ProgressListener statusChanged,
                      Runnable signInExpired) {
        this.db = db;
        this.clock = clock;
        this.api = api;
        this.tokens = tokens;
        this.json = json;
        this.statusChanged = statusChanged;
        this.signInExpired = signInExpired;
        this.backoff = IntervalFunction.ofExponentialBackoff(backoffInitial, 2.0, backoffMax);
    }

    /** Asks for a push soon (a new pending row, connectivity regained); cancels a backoff wait. */
    public synchronized void wake() {
        if (loop.isShutdown()) {
            return;
        }
        if (next != null) {
            next.cancel(false);
        }
        next = loop.schedule(this::pushQuietly, 0, TimeUnit.MILLISECONDS);
    }

    /** Runs a push on the sync thread now; the future completes when the outbox is drained or a push failed. */
    public CompletableFuture<PushReport> pushNow() {
        return CompletableFuture.supplyAsync(() -> pushAll(n -> { }), loop);
    }

    /** Pushes everything pending with progress (rows done), then pulls; runs on the sync thread. */
    public CompletableFuture<PushReport> uploadAndPull(IntConsumer progress) {
        return CompletableFuture.supplyAsync(() -> {
            PushReport report = pushAll(progress);
            pull(); // read-only, and the merge keeps local unsent rows: safe even when the upload stopped early
            return report;
        }, loop);
    }

    /** Pulls the account's changes since the remembered cursor; read-only for the server. */
    public CompletableFuture<Integer> pullNow() {
        return CompletableFuture.supplyAsync(this::pull, loop);
    }

    /** The cursor the account {@code owner} has pulled up to; 0 before its first pull. */
    public long cursor(String owner) {
        String stored = db.inTransaction(c -> settings.get(c, cursorKey(owner)).orElse(""));
        try {
            return stored.isEmpty() ? 0 : Long.parseLong(stored);
        } catch (NumberFormatException e) {
            return 0; // a cursor of another server's making: the next pull starts over from its answer
        }
    }

    private static String cursorKey(String owner) {
        return "sync_cursor:" + owner;
    }

    public boolean offline() {
        return offline;
    }

    /** Current upload progress as (done, total); total is 0 when no upload runs. */
    public int[] progress() {
        return new int[] {progressDone, progressTotal};
    }

    /** Forgets the backoff (used at sign-out). */
    public synchronized void reset() {
        if (next != null) {
            next.cancel(false);
        }
        failures = 0;
        offline = false;
    }

    @Override
    public void close() {
        loop.shutdownNow();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void pushQuietly() {
        try {
            pushAll(n -> { });
        } catch (RuntimeException e) {
            LOG.warn("push failed", e);
        }
    }

    /** Hears status changes with the upload progress of that moment (done of total; total 0 when none runs). */
    @FunctionalInterface
    public interface ProgressListener {
        void changed(int done, int total);
    }

    /** What a push cycle did. {@code completed} is true when no pending row of the account is left. */
    public record PushReport(int pushed, int rejected, boolean completed, String failure) {
    }

    private PushReport pushAll(IntConsumer progress) {
        Optional<AuthResponse> account = tokens.load();
        if (account.isEmpty()) {
            return new PushReport(0, 0, false, "signed out");
        }
        String owner = account.get().user().id();
        int total = db.inTransaction(c -> messages.count(c, owner, SyncState.PENDING)
                + sessions.count(c, owner, SyncState.PENDING));
        int pushed = 0;
        int rejected = 0;
        progressDone = 0;
        progressTotal = total;
        statusChanged.changed(progressDone, progressTotal);
        try {
            while (true) {
                Batch batch = db.inTransaction(c -> nextBatch(c, owner));
                if (batch.isEmpty()) {
                    succeeded();
                    return new PushReport(pushed, rejected, true, null);
                }
                PushResponse response;
                try {
                    response = api.push(new PushRequest(batch.sessionsWire(), batch.messagesWire()), account.get());
                } catch (IOException e) {
                    failed("no answer: " + e.getMessage());
                    return new PushReport(pushed, rejected, false, "offline");
                } catch (ServerError e) {
                    if (e.status() == 401 && e.fromParley()) {
                        offline = false;
                        signInExpired.run(); // the refresh failed too: the account must sign in again
                        return new PushReport(pushed, rejected, false, "sign in again");
                    }
                    if (!e.fromParley() || e.retryable() || e.status() >= 500) {
                        failed("server error: " + e.getMessage());
                        return new PushReport(pushed, rejected, false, e.getMessage());
                    }
                    // Parley refused the batch as a whole (it never should: batches keep to its limits); refuse its
                    // rows so that the outbox cannot jam on them.
                    rejected += db.inTransaction(c -> rejectAll(c, batch, e.code(), e.getMessage()));
                    continue;
                }
                rejected += db.inTransaction(c -> apply(c, batch, response));
                pushed += batch.size();
                progressDone = Math.min(total, pushed);
                progress.accept(progressDone);
                statusChanged.changed(progressDone, progressTotal);
            }
        } finally {
            progressTotal = 0;
            progressDone = 0;
            statusChanged.changed(progressDone, progressTotal);
        }
    }

    private synchronized void succeeded() {
        failures = 0;
        offline = false;
    }

    private synchronized void failed(String why) {
        failures++;
        offline = true;
        long ceiling = backoff.apply(failures);
        // Equal jitter: half the wait is fixed, half random, so clients do not retry in step after an outage.
        long delay = ceiling / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
        LOG.info("push failed ({}); next try in {} ms", why, delay);
        if (!loop.isShutdown()) {
            if (next != null) {
                next.cancel(false);
            }
            next = loop.schedule(this::pushQuietly, delay, TimeUnit.MILLISECONDS);
        }
    }

    private Batch nextBatch(Connection c, String owner) throws SQLException {
        List<SessionRow> pendingSessions = sessions.pending(c, owner, Limits.MAX_PUSH_ROWS);
        List<MessageRow> pendingMessages = messages.pending(c, owner, Limits.MAX_PUSH_ROWS);
        Batch batch = new Batch();
        int s = 0;
        int m = 0;
        int bytes = 64;
        while (batch.size() < Limits.MAX_PUSH_ROWS && (s < pendingSessions.size() || m < pendingMessages.size())) {
            boolean takeSession = m >= pendingMessages.size() || (s < pendingSessions.size()
                    && seq(pendingSessions.get(s).outboxSeq()) <= seq(pendingMessages.get(m).outboxSeq()));
            if (takeSession) {
                SessionRow row = pendingSessions.get(s);
                if (row.deletedAt() != null && !batch.messages.isEmpty()) {
                    break; // the server applies sessions first: earlier messages go in their own batch
                }
                s++;
                bytes += size(row.toWire());
                if (bytes > BATCH_BYTES && !batch.isEmpty()) {
                    break;
                }
                batch.sessions.add(row);
            } else {
                MessageRow row = pendingMessages.get(m++);
                bytes += size(row.message());
                if (bytes > BATCH_BYTES && !batch.isEmpty()) {
                    break;
                }
                batch.messages.add(row);
            }
        }
        return batch;
    }

    private int apply(Connection c, Batch batch, PushResponse response) throws SQLException {
        int rejected = 0;
        for (int i = 0; i < batch.sessions.size(); i++) {
            rejected += applySession(c, batch.sessions.get(i), response.sessions().get(i)) ? 0 : 1;
        }
        return rejected + applyMessages(c, batch.messages, response.messages());
    }

    /** Applies a result per sent message; the number rejected. */
    private int applyMessages(Connection c, List<MessageRow> sentRows, List<RowResult> results) throws SQLException {
        // Messages come in hundreds: read them with one query and acknowledge them with one batched statement.
        Map<String, MessageRow> current = messages.findAll(c, sentRows.stream().map(MessageRow::id).toList());
        List<String> acknowledged = new ArrayList<>(sentRows.size());
        int rejected = 0;
        for (int i = 0; i < sentRows.size(); i++) {
            MessageRow sent = sentRows.get(i);
            RowResult result = results.get(i);
            MessageRow now = current.get(sent.id());
            if (now == null || !now.message().equals(sent.message()) || now.syncState() != SyncState.PENDING) {
                continue; // changed meanwhile (a retry, a pull): its own state stands
            }
            if (result.accepted()) {
                acknowledged.add(sent.id());
            } else {
                messages.put(c, now.withSync(SyncState.REJECTED, null, result.code(), result.reason()));
                rejected++;
            }
        }
        messages.markSynced(c, acknowledged);
        return rejected;
    }

    private boolean applySession(Connection c, SessionRow sent, RowResult result) throws SQLException {
        Optional<SessionRow> current = sessions.find(c, sent.id());
        if (current.isEmpty() || !sameSessionAsSent(current.get(), sent)) {
            return true; // changed again locally meanwhile: stays pending for the next push
        }
        if (result.accepted()) {
            sessions.put(c, current.get().withSync(SyncState.SYNCED, null, null, null));
            return true;
        }
        if (RowResult.SESSION_DELETED.equals(result.code())) {
            // Deleted on another device: the delete wins here too.
            sessions.put(c, current.get().withDeletedAt(current.get().deletedAt() != null
                    ? current.get().deletedAt() : clock.instant()).withSync(SyncState.SYNCED, null, null, null));
            return true;
        }
        sessions.put(c, current.get().withSync(SyncState.REJECTED, null, result.code(), result.reason()));
        return false;
    }

    private int rejectAll(Connection c, Batch batch, String code, String reason) throws SQLException {
        RowResult refused = RowResult.rejected(null, code, reason);
        int rejected = 0;
        for (SessionRow row : batch.sessions) {
            rejected += applySession(c, row, refused) ? 0 : 1;
        }
        return rejected + applyMessages(c, batch.messages, Collections.nCopies(batch.messages.size(), refused));
    }

    private static boolean sameSessionAsSent(SessionRow current, SessionRow sent) {
        return current.syncState() == SyncState.PENDING && java.util.Objects.equals(current.title(), sent.title())
                && java.util.Objects.equals(current.titleUpdatedAt(), sent.titleUpdatedAt())
                && java.util.Objects.equals(current.systemPrompt(), sent.systemPrompt())
                && java.util.Objects.equals(current.systemPromptUpdatedAt(), sent.systemPromptUpdatedAt())
                && java.util.Objects.equals(current.deletedAt(), sent.deletedAt());
    }

    /** Pulls pages after the account's cursor and merges them by id; returns the rows merged. */
    private int pull() {
        Optional<AuthResponse> account = tokens.load();
        if (account.isEmpty()) {
            return 0;
        }
        String owner = account.get().user().id();
        String cursorKey = cursorKey(owner);
        int merged = 0;
        try {
            String cursor = db.inTransaction(c -> settings.get(c, cursorKey).orElse(""));
            boolean more = true;
            while (more) {
                SyncPage page = api.sync(cursor, PULL_PAGE, account.get());
                String nextCursor = page.nextCursor();
                merged += db.inTransaction(c -> {
                    int n = HistoryMerge.merge(c, owner, page, sessions, messages);
                    settings.put(c, cursorKey, nextCursor);
                    return n;
                });
                cursor = nextCursor;
                more = page.hasMore();
            }
            offline = false;
        } catch (IOException | ServerError e) {
            LOG.info("pull stopped: {}", e.getMessage());
        }
        statusChanged.changed(progressDone, progressTotal);
        return merged;
    }

    private int size(Object row) {
        try {
            return json.writeValueAsBytes(row).length + 1;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("rows always serialize", e);
        }
    }

    private static long seq(Long value) {
        return value == null ? Long.MAX_VALUE : value;
    }

    /** The rows of one push, in outbox order per kind. */
    private static final class Batch {
        final List<SessionRow> sessions = new ArrayList<>();
        final List<MessageRow> messages = new ArrayList<>();

        int size() {
            return sessions.size() + messages.size();
        }

        boolean isEmpty() {
            return size() == 0;
        }

        List<Session> sessionsWire() {
            return sessions.stream().map(SessionRow::toWire).toList();
        }

        List<Message> messagesWire() {
            return messages.stream().map(MessageRow::message).toList();
        }
    }
}
