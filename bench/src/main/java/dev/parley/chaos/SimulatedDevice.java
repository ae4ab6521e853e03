package dev.parley.chaos;

import dev.parley.chaos.DeviceActions.Action;
import dev.parley.chaos.DeviceActions.User;
import dev.parley.client.ChatClient;
import dev.parley.client.ChatListener;
import dev.parley.client.ClientConfig;
import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.client.LiveState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One device in this process: its own data directory and {@link ChatClient}, its own {@link FaultInjectingProxy}
 * to each server process (the client talks to the first; streams go to any), its {@link StreamingUser}, and one
 * thread that runs its user's actions in order (a busy device drops actions offered while it is behind, as a person
 * would not queue them). Thread-safe; the owner closes it (the proxies are the owner's).
 */
final class SimulatedDevice implements AutoCloseable {
    final String name;
    final Path dataDir;
    final User home;
    /** The proxy the device's {@link ChatClient} goes through, to the first server process. */
    final FaultInjectingProxy proxy;
    /** One proxy per server process, {@link #proxy} first: the device's network. */
    final List<FaultInjectingProxy> proxies;
    private final ChatClient client;
    private final DirectChat direct;
    private final StreamingUser streaming;
    private final DeviceActions actions;
    private final ThreadPoolExecutor actor;
    private final Queue<CompletableFuture<Exchange.Outcome>> exchanges = new ConcurrentLinkedQueue<>();
    private final AtomicInteger dropped = new AtomicInteger();
    private final AtomicInteger liveConnects = new AtomicInteger();

    /** @param proxies one per server process; the client goes through the first */
    SimulatedDevice(String name, Path dataDir, User home, List<User> users, List<FaultInjectingProxy> proxies,
                    long seed, Ledger ledger) {
        this.name = name;
        this.dataDir = dataDir;
        this.home = home;
        this.proxies = List.copyOf(proxies);
        this.proxy = proxies.get(0);
        this.client = ChatClient.open(config(dataDir, proxy.url()));
        client.addListener(new ChatListener() {
            @Override
            public void liveStateChanged(LiveState state) {
                if (state == LiveState.LIVE) {
                    liveConnects.incrementAndGet();
                }
            }
        });
        this.direct = new DirectChat(proxies.stream().map(FaultInjectingProxy::url).toList());
        this.streaming = new StreamingUser(name, direct, ledger);
        this.actions = new DeviceActions(name, client, new SplittableRandom(seed), users, home,
                new DeviceActions.Reporter() {
                    @Override
                    public void created(String messageId) {
                        ledger.created(messageId, name);
                    }

                    @Override
                    public void edited(String messageId) {
                        ledger.edited(messageId, name);
                    }

                    @Override
                    public void regenerated(String messageId, String replyId) {
                        ledger.regenerated(messageId, replyId);
                    }

                    @Override
                    public void exchange(CompletableFuture<Exchange.Outcome> outcome) {
                        exchanges.add(outcome);
                        exchanges.removeIf(CompletableFuture::isDone);
                    }

                    @Override
                    public void unexpected(Throwable e) {
                        ledger.unexpected(name, e);
                    }
                }, streaming);
        this.actor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(2), r -> {
            Thread t = new Thread(r, "device-" + name);
            t.setDaemon(true);
            return t;
        }, (r, executor) -> dropped.incrementAndGet());
    }

    /** The client settings every simulated device uses: fast backoff, so a run sees many retries. */
    static ClientConfig config(Path dataDir, String url) {
        return ClientConfig.builder(dataDir, url)
                .backoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .httpTimeout(Duration.ofSeconds(15))
                .liveBackoffMax(Duration.ofSeconds(2))
                .build();
    }

    ChatClient client() {
        return client;
    }

    /** Times this device's live change stream opened (SPEC §6 Live sync), through faults and restarts. */
    int liveConnects() {
        return liveConnects.get();
    }

    /** Waits until the live change stream is open, for a signed-in device; false when it is not by then. */
    boolean awaitLive(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (client.liveState() != LiveState.LIVE) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** How this device streams; used by one thread at a time (its actions', then the resolution's). */
    StreamingUser streaming() {
        return streaming;
    }

    /** Takes the device's network down, or brings it back: every proxy of the device. */
    void offline(boolean down) {
        proxies.forEach(p -> p.offline(down));
    }

    /** Offers an action; dropped when the device is still busy with earlier ones. */
    void offer(Action action) {
        if (!actor.isShutdown()) {
            actor.execute(() -> actions.run(action));
        }
    }

    void signInAs(User user) {
        actions.signInAs(user);
    }

    /** Waits until every exchange this device started has ended (each is bounded by the HTTP timeout). */
    void awaitExchanges(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (CompletableFuture<Exchange.Outcome> outcome : exchanges) {
            long left = deadline - System.nanoTime();
            try {
                outcome.get(Math.max(1, left), TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // a failed or endless exchange shows in the verification
            } catch (ClientException e) {
                // recorded on the message
            }
        }
    }

    int dropped() {
        return dropped.get();
    }

    /** Stops taking actions and waits for the running one to end. */
    void stopActions(Duration timeout) throws InterruptedException {
        actor.shutdown();
        actor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        actor.shutdownNow();
        direct.close();
        client.close();
    }
}
