package dev.parley.client.internal;

import dev.parley.client.SyncState;
import dev.parley.client.SyncStatus;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The sync status the status bar shows, counted from the unsent-row indexes. Publishing is coalesced: however many
 * changes ask for it, one count is queued at a time, taken when it is delivered, so listeners never see an older
 * status after a newer one. Thread-safe.
 */
public final class SyncStatusReporter {
    private final LocalDatabase db;
    private final Supplier<String> owner;
    private final SyncEngine engine;
    private final Events events;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();
    private final AtomicBoolean queued = new AtomicBoolean();

    public SyncStatusReporter(LocalDatabase db, Supplier<String> owner, SyncEngine engine, Events events) {
        this.db = db;
        this.owner = owner;
        this.engine = engine;
        this.events = events;
    }

    /** Tells listeners the status soon (once for any number of calls before it goes out). */
    public void publish() {
        if (queued.compareAndSet(false, true)) {
            events.fireComputed(() -> {
                queued.set(false);
                return status(engine.progress());
            }, dev.parley.client.ChatListener::syncStatusChanged);
        }
    }

    /** Tells listeners the status with this upload progress. */
    public void publish(int done, int total) {
        events.fireComputed(() -> status(new int[] {done, total}), dev.parley.client.ChatListener::syncStatusChanged);
    }

    public SyncStatus status() {
        return status(engine.progress());
    }

    private SyncStatus status(int[] progress) {
        String account = owner.get();
        SyncState unsent = account == null ? SyncState.LOCAL : SyncState.PENDING;
        int[] counts = db.inTransaction(c -> new int[] {
                messages.count(c, account, unsent) + sessions.count(c, account, unsent),
                messages.count(c, account, SyncState.REJECTED) + sessions.count(c, account, SyncState.REJECTED)});
        SyncStatus.State state;
        if (account == null) {
            state = SyncStatus.State.SIGNED_OUT;
        } else if (progress[1] > 0) {
            state = SyncStatus.State.SYNCING;
        } else if (engine.offline()) {
            state = SyncStatus.State.OFFLINE;
        } else {
            state = counts[0] > 0 ? SyncStatus.State.PENDING : SyncStatus.State.SYNCED;
        }
        return new SyncStatus(state, counts[0], counts[1], progress[0], progress[1]);
    }
}
