package dev.parley.desktop.viewmodel;

import dev.parley.client.Exchange;
import dev.parley.client.ExchangeListener;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The replies being written on this device, for the window: follows every live exchange and hands its text to the
 * UI thread at a bounded rate — however fast the pieces come, a reply is shown again at most every
 * {@link #RENDER_EVERY_MS} ms, so re-rendering its Markdown costs the UI thread a fixed share. A reply's start and
 * end are handed over at once. Knows no controls.
 *
 * <p>{@link #follow} may be called from any thread; everything else, and every callback, runs on the UI thread.
 */
final class GrowingReplies {
    /** The longest a piece waits before it is shown: about 15 renders a second. */
    static final long RENDER_EVERY_MS = 66;

    private final UiExecutor ui;
    private final ScheduledExecutorService ticker;
    private final Consumer<Exchange> show;
    private final BiConsumer<Exchange, Exchange.Outcome> ended;
    /** UI thread only. */
    private final Map<String, Exchange> live = new LinkedHashMap<>();
    /** Exchanges with text not shown yet; guarded by itself (filled on the client's event thread). */
    private final Set<Exchange> dirty = new LinkedHashSet<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    /**
     * @param show  shows an exchange's reply as it stands ({@link Exchange#text()}), on the UI thread
     * @param ended an exchange ended with this outcome, on the UI thread
     */
    GrowingReplies(UiExecutor ui, ScheduledExecutorService ticker, Consumer<Exchange> show,
                   BiConsumer<Exchange, Exchange.Outcome> ended) {
        this.ui = ui;
        this.ticker = ticker;
        this.show = show;
        this.ended = ended;
    }

    /** Follows {@code exchange} until it ends (from any thread; a late start hears what it missed). */
    void follow(Exchange exchange) {
        ui.onUi(() -> followHere(exchange));
    }

    /** As {@link #follow}, called on the UI thread: the exchange counts as live at once. */
    void followHere(Exchange exchange) {
        if (live.get(exchange.messageId()) != exchange) {
            live.put(exchange.messageId(), exchange);
            exchange.addListener(listener());
            show.accept(exchange);
        }
    }

    private ExchangeListener listener() {
        return new ExchangeListener() {
            @Override
            public void started(Exchange e, String replyId) {
                ui.onUi(() -> show.accept(e));
            }

            @Override
            public void textAppended(Exchange e, String piece) {
                synchronized (dirty) {
                    dirty.add(e);
                }
                if (scheduled.compareAndSet(false, true)) {
                    ticker.schedule(() -> ui.onUi(GrowingReplies.this::render), RENDER_EVERY_MS,
                            TimeUnit.MILLISECONDS);
                }
            }

            @Override
            public void finished(Exchange e, Exchange.Outcome outcome) {
                end(e, outcome);
            }

            @Override
            public void failed(Exchange e, Exchange.Outcome outcome) {
                end(e, outcome);
            }

            @Override
            public void stopped(Exchange e, Exchange.Outcome outcome) {
                end(e, outcome);
            }
        };
    }

    private void end(Exchange exchange, Exchange.Outcome outcome) {
        ui.onUi(() -> {
            synchronized (dirty) {
                dirty.remove(exchange);
            }
            live.remove(exchange.messageId(), exchange);
            ended.accept(exchange, outcome);
        });
    }

    /** Shows every reply that grew since the last render. */
    private void render() {
        scheduled.set(false);
        Exchange[] grown;
        synchronized (dirty) {
            grown = dirty.toArray(Exchange[]::new);
            dirty.clear();
        }
        for (Exchange exchange : grown) {
            if (live.get(exchange.messageId()) == exchange) {
                show.accept(exchange);
            }
        }
    }

    /** The exchanges live now, oldest first. */
    Collection<Exchange> live() {
        return live.values();
    }

    /** True while a reply is being written in {@code sessionId}. */
    boolean writingIn(String sessionId) {
        return live.values().stream().anyMatch(e -> e.sessionId().equals(sessionId));
    }
}
