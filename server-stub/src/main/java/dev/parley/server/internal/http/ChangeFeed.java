package dev.parley.server.internal.http;

import dev.parley.protocol.ChangedEvent;
import dev.parley.protocol.GeneratingEvent;
import dev.parley.protocol.StreamEvents;
import dev.parley.server.internal.chat.LiveChanges;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The live change stream of one client (SPEC §5.5): {@code changed} with the newest cursor (first of all on
 * connect), and {@code generating} for each reply that starts. Cursors that arrive between two drains are coalesced
 * into the last; a stream carries no row data. It ends when the caller's access token expires.
 */
final class ChangeFeed implements EventStreams.Feed, LiveChanges.Listener {
    private final LiveChanges changes;
    private final String userId;
    private final BooleanSupplier expired;
    private final List<GeneratingEvent> generating = new ArrayList<>();
    private volatile LiveChanges.Subscription subscription;
    private volatile EventStreams.Stream stream;
    private String cursor;
    private String sentCursor;
    private boolean closed;

    /** @param expired true once the caller's access token has expired: the stream then ends */
    ChangeFeed(LiveChanges changes, String userId, BooleanSupplier expired) {
        this.changes = changes;
        this.userId = userId;
        this.expired = expired;
    }

    @Override
    public void begin(EventStreams.Stream stream) {
        this.stream = stream;
        synchronized (this) {
            if (closed) {
                return;
            }
            subscription = changes.subscribe(userId, this);
        }
    }

    @Override
    public synchronized void changed(String cursor) {
        this.cursor = cursor;
        stream.changed();
    }

    @Override
    public synchronized void generating(GeneratingEvent event) {
        generating.add(event);
        stream.changed();
    }

    @Override
    public boolean drain(EventStreams.Stream stream) {
        List<GeneratingEvent> started;
        String latest;
        synchronized (this) {
            started = List.copyOf(generating);
            generating.clear();
            latest = cursor;
        }
        if (latest != null && !latest.equals(sentCursor)) {
            sentCursor = latest;
            stream.send(StreamEvents.CHANGED, new ChangedEvent(latest), null);
        }
        started.forEach(event -> stream.send(StreamEvents.GENERATING, event, null));
        return expired.getAsBoolean(); // checked at each event and keep-alive, so at most a keep-alive late
    }

    @Override
    public void left() {
        LiveChanges.Subscription open;
        synchronized (this) {
            closed = true;
            open = subscription;
        }
        if (open != null) {
            open.close();
        }
    }
}
