package dev.parley.chaos;

import dev.parley.chaos.DeviceActions.Action;
import dev.parley.chaos.DeviceActions.User;
import dev.parley.chaos.FaultInjectingProxy.Faults;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientException;
import dev.parley.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The fault-injection convergence run behind {@code ./parley chaos}. Several devices, each with its own local store
 * and its own {@link FaultInjectingProxy} to each of two server processes on one database, act like users of three
 * accounts for the given time (one device starts signed out; one runs in a child JVM that is killed with SIGKILL
 * mid-push and started again on its files) while the servers restart — some restarts aimed at generations being
 * streamed — and the model, which streams word by word, fails. Devices also send messages as streams, drop them,
 * re-attach and stop them ({@link StreamingUser}). Then the faults stop, every streamed message is followed to its
 * end (re-attached, or sent again when it was interrupted), every device drains its outbox for every account it
 * holds rows of, and pulls; and {@link ChaosVerifier} and {@link StreamChecks} hold the servers and every store to
 * the promise.
 *
 * <p>Every decision (which device does what, when the server restarts, which connection breaks, which model call
 * fails) comes from random sources seeded by the run's seed, so a seed replays the same plan; the threads'
 * interleaving is the machine's. Not thread-safe: one run at a time.
 */
public final class ChaosRun {
    /** Odds of each network fault while the chaos lasts. */
    static final Faults CHAOS = new Faults(0.03, 0.02, 0.04, 0.08, 400);
    /** Harsher odds for the crashing device, whose pushes should be in flight when it is killed. */
    static final Faults CRASH_DEVICE = new Faults(0.03, 0.02, 0.04, 0.30, 300);
    private static final double MODEL_FAIL_RATE = 0.08;
    /** The model's delay between two words: long enough for a generation to be live when faults come. */
    private static final int MIN_TOKEN_MS = 20;
    private static final int MAX_TOKEN_MS = 50;
    /**
     * Odds (percent per action offered) that a device goes offline for 0.3–3 s instead. An offline period cuts every
     * exchange under way, and a streamed reply lasts seconds: at 4 % (the odds before replies streamed) a device was
     * offline 40 % of the time and three exchanges in four were cut.
     */
    private static final int OFFLINE_PERCENT = 1;
    /** Server processes sharing the database; streams re-attach on the other one. */
    private static final int SERVERS = Ledger.SERVERS;
    /**
     * Odds that a restart waits (up to {@link #AIM_WAIT}) for a stream being read from that server while the server
     * holds a generation.
     */
    private static final double AIMED_RESTARTS = 0.6;
    private static final Duration AIM_WAIT = Duration.ofSeconds(5);
    /** The longest the resolution follows one streamed message after the faults. */
    private static final Duration RESOLVE_TIMEOUT = Duration.ofSeconds(60);
    private static final Action[] PLAN = weighted(new Object[][] {
            {Action.SEND, 30}, {Action.STREAM, 20}, {Action.RETRY, 10}, {Action.REGENERATE, 6}, {Action.EDIT, 5},
            {Action.RENAME, 7}, {Action.NEW_SESSION, 4}, {Action.DELETE, 2},
            {Action.PUSH, 4}, {Action.PULL, 4}, {Action.SIGN_OUT, 2}, {Action.SIGN_IN, 6},
            {Action.SWITCH_ACCOUNT, 1}});
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(120);
    /** How long a signed-in device may take, once the faults stop, to hold its live change stream again. */
    private static final Duration LIVE_TIMEOUT = Duration.ofSeconds(30);

    /**
     * What to run.
     *
     * @param duration how long the faults last
     * @param seed     seeds every random decision
     * @param dbUrl    the server database, or {@code null} for a new SQLite file in {@code workDir}
     * @param workDir  where the devices' data directories, the server database and the logs go
     */
    public record Config(Duration duration, long seed, String dbUrl, Path workDir) {
        public Config {
            Objects.requireNonNull(duration, "duration");
            Objects.requireNonNull(workDir, "workDir");
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException("--seconds must be positive");
            }
        }
    }

    private final Config config;
    private final Consumer<String> progress;
    private final FaultLog faults = new FaultLog();
    private final Ledger ledger = new Ledger();
    private final Map<String, String> userIds = new ConcurrentHashMap<>();
    private final AtomicInteger restartsMidStream = new AtomicInteger();
    private final AtomicInteger generationsCut = new AtomicInteger();
    private final String dbUrl;

    /** @param progress hears one line now and then about what the run is doing */
    public ChaosRun(Config config, Consumer<String> progress) {
        this.config = config;
        this.progress = progress;
        this.dbUrl = config.dbUrl() != null ? config.dbUrl()
                : "jdbc:sqlite:" + config.workDir().resolve("server.db").toAbsolutePath();
    }

    public ChaosReport run() throws Exception {
        Files.createDirectories(config.workDir());
        long seed = config.seed();
        FlakyModel model = new FlakyModel(seed + 7, MODEL_FAIL_RATE, 250, MIN_TOKEN_MS, MAX_TOKEN_MS, faults);
        // Accounts new to the database, so that a run can reuse one (a PostgreSQL database, say).
        String run = Long.toString(System.currentTimeMillis(), 36);
        List<User> users = List.of(new User("chaos-" + run + "-1@example.com", "chaos password one " + seed),
                new User("chaos-" + run + "-2@example.com", "chaos password two " + seed),
                new User("chaos-" + run + "-3@example.com", "chaos password three " + seed));
        List<FaultInjectingProxy> proxies = new ArrayList<>();
        List<SimulatedDevice> devices = new ArrayList<>();
        List<RestartableServer> servers = new ArrayList<>();
        CrashingDevice crashing = null;
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "chaos-timers");
            t.setDaemon(true);
            return t;
        });
        progress.accept("chaos: seed " + seed + ", " + config.duration().toSeconds() + " s of faults, files in "
                + config.workDir());
        try {
            for (int s = 0; s < SERVERS; s++) {
                servers.add(new RestartableServer(port -> ServerConfig.builder()
                        .port(port)
                        .databaseUrl(dbUrl)
                        .modelProvider(model)
                        .accessTokenTtl(Duration.ofSeconds(30)) // refreshes happen under faults too
                        .signInAttemptsPerMinute(120)
                        .anonymousChatsPerMinute(60)
                        .claimTtl(Duration.ofSeconds(10)) // SPEC 5.3's lapse: a restart's generations end after it
                        .build()));
            }
            RestartableServer server = servers.get(0);
            String[] names = {"d1", "d2", "d3", "d4"};
            int[] homes = {0, 0, 1, 2};
            for (int i = 0; i < names.length; i++) {
                List<FaultInjectingProxy> lines = new ArrayList<>();
                for (int s = 0; s < SERVERS; s++) {
                    lines.add(new FaultInjectingProxy(servers.get(s).port(), seed * 31 + i + 1_000L * s, faults));
                }
                proxies.addAll(lines);
                devices.add(new SimulatedDevice(names[i], config.workDir().resolve(names[i]), users.get(homes[i]), users,
                        lines, seed * 17 + i, ledger));
            }
            devices.get(0).client().signUp(users.get(0).email(), users.get(0).password());
            devices.get(1).client().signIn(users.get(0).email(), users.get(0).password());
            devices.get(2).client().signUp(users.get(1).email(), users.get(1).password());
            devices.get(3).client().signUp(users.get(2).email(), users.get(2).password());
            devices.get(3).client().signOut(); // starts signed out: its first rows are written for nobody

            FaultInjectingProxy crashProxy = new FaultInjectingProxy(server.port(), seed * 31 + 99, faults);
            proxies.add(crashProxy);
            crashing = new CrashingDevice("crash", config.workDir().resolve("crash"), users.get(1), crashProxy, seed,
                    ledger, faults);
            crashing.start();

            for (FaultInjectingProxy proxy : proxies) {
                proxy.faults(proxy == crashProxy ? CRASH_DEVICE : CHAOS);
            }
            long deadline = System.nanoTime() + config.duration().toNanos();
            CrashingDevice crashes = crashing;
            Thread crashLoop = new Thread(() -> crashUntil(crashes, deadline, new SplittableRandom(seed + 3)),
                    "chaos-crashes");
            crashLoop.setDaemon(true);
            crashLoop.start();
            Thread restartLoop = new Thread(() -> restartUntil(servers, deadline, new SplittableRandom(seed + 5)),
                    "chaos-restarts");
            restartLoop.setDaemon(true);
            restartLoop.start();
            drive(devices, timers, deadline, new SplittableRandom(seed));
            crashLoop.join();
            restartLoop.join();

            progress.accept("chaos: faults stop; draining every device");
            timers.shutdownNow();
            timers.awaitTermination(5, TimeUnit.SECONDS);
            for (FaultInjectingProxy proxy : proxies) {
                proxy.faults(Faults.NONE);
                proxy.offline(false);
            }
            model.failRate(0);
            servers.forEach(RestartableServer::start);
            crashing.kill();
            devices.add(new SimulatedDevice("crash", crashing.dataDir, users.get(1), users, List.of(crashProxy),
                    seed * 17 + 99, ledger));
            for (SimulatedDevice device : devices) {
                device.stopActions(DRAIN_TIMEOUT);
                device.awaitExchanges(DRAIN_TIMEOUT);
            }
            int unresolved = resolveStreams(devices);
            List<ChaosVerifier.DeviceStore> stores = new ArrayList<>();
            for (SimulatedDevice device : devices) {
                drain(device, users);
            }
            // Live sync survived the faults and restarts: every signed-in device holds its change stream again.
            int liveConnects = 0;
            int notLive = 0;
            for (SimulatedDevice device : devices) {
                liveConnects += device.liveConnects();
                if (device.client().account().isPresent() && !device.awaitLive(LIVE_TIMEOUT)) {
                    notLive++;
                    progress.accept("chaos: " + device.name + " is signed in but not live "
                            + LIVE_TIMEOUT.toSeconds() + " s after the faults stopped");
                }
            }
            for (SimulatedDevice device : devices) {
                pull(device); // so that every device shows what the others pushed, before Try again
            }
            tryInterruptedAgain(devices);
            for (SimulatedDevice device : devices) {
                pull(device);
                stores.add(new ChaosVerifier.DeviceStore(device.name, device.dataDir,
                        device.client().account().map(a -> a.userId()).orElse("(signed out)")));
            }
            int unexpected = ledger.unexpectedErrors();
            ledger.unexpectedErrorKinds().forEach((error, device) -> progress.accept("chaos: unexpected error on "
                    + device + ": " + error));
            for (SimulatedDevice device : devices) {
                device.close();
            }
            devices.clear();
            ChaosVerifier.Findings findings = new ChaosVerifier().verify(dbUrl, stores, ledger.created(),
                    ledger.regenerated());
            StreamChecks.Findings streams = new StreamChecks().verify(dbUrl, ledger.streamed(),
                    ledger.regenerated());
            if (unresolved > 0) {
                progress.accept("chaos: " + unresolved + " streamed messages had no final outcome after "
                        + RESOLVE_TIMEOUT.toSeconds() + " s each");
            }
            List<String> details = new ArrayList<>(findings.details());
            details.addAll(streams.details());
            return new ChaosReport(stores.size(), findings.messages(), faults.snapshot(),
                    findings.lost() + streams.lost(), findings.duplicated() + streams.duplicated(),
                    findings.analyticsMismatches(), findings.stuck() + streams.stuck(),
                    findings.diverged() + streams.diverged(), unexpected,
                    findings.refusedAsDeleted() + streams.refusedAsDeleted(), crashing.crashesMidPush(),
                    List.copyOf(details), streams.stats(), restartsMidStream.get(), generationsCut.get(),
                    streams.orphanedClaims(), ledger.regenerated().values().stream().mapToInt(Set::size).sum(),
                    ledger.edited(), liveConnects, notLive);
        } finally {
            timers.shutdownNow();
            if (crashing != null) {
                crashing.close();
            }
            for (SimulatedDevice device : devices) {
                device.close();
            }
            for (FaultInjectingProxy proxy : proxies) {
                proxy.close();
            }
            servers.forEach(RestartableServer::close);
        }
    }

    /**
     * Follows every streamed message to its end now that the faults stopped, on the device that sent it, as its
     * client would after a restart: re-attach to what is unfinished, send again what was interrupted or failed.
     * The devices do this at the same time, each its own messages in order. Returns how many found no final
     * outcome in time (each is reported as stuck).
     */
    private int resolveStreams(List<SimulatedDevice> devices) throws Exception {
        List<StreamedExchange> streamed = ledger.streamed();
        Map<String, Integer> seen = new TreeMap<>();
        for (StreamedExchange exchange : streamed) {
            seen.merge(exchange.state() == StreamedExchange.State.ANSWERED ? "answered"
                    : exchange.state().name().toLowerCase(Locale.ROOT) + " (" + exchange.lastError() + ")",
                    1, Integer::sum);
        }
        progress.accept("chaos: following " + streamed.size() + " streamed messages to their end; their clients saw "
                + seen);
        long started = System.nanoTime();
        int unresolved = 0;
        ExecutorService resolvers = Executors.newFixedThreadPool(devices.size(), r -> {
            Thread t = new Thread(r, "chaos-resolve");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (SimulatedDevice device : devices) {
                List<StreamedExchange> own = streamed.stream().filter(x -> x.device.equals(device.name)).toList();
                results.add(resolvers.submit(() -> {
                    int open = 0;
                    for (StreamedExchange exchange : own) {
                        if (!device.streaming().resolve(exchange, System.nanoTime() + RESOLVE_TIMEOUT.toNanos())) {
                            open++;
                        }
                    }
                    return open;
                }));
            }
            for (Future<Integer> result : results) {
                unresolved += result.get();
            }
        } finally {
            resolvers.shutdownNow();
        }
        progress.accept("chaos: streamed messages followed to their end in "
                + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s");
        return unresolved;
    }

    /** The user actions and network outages, until the deadline. */
    private void drive(List<SimulatedDevice> devices, ScheduledExecutorService timers, long deadline,
                       SplittableRandom random) throws InterruptedException {
        long nextReport = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        long started = System.nanoTime();
        while (System.nanoTime() < deadline) {
            Thread.sleep(5 + random.nextInt(35));
            long now = System.nanoTime();
            if (now >= nextReport) {
                progress.accept("chaos: " + Duration.ofNanos(now - started).toSeconds() + " s, "
                        + ledger.created().size() + " messages written, " + ledger.streamed().size() + " streamed, "
                        + faults.total() + " faults injected");
                nextReport = now + Duration.ofSeconds(15).toNanos();
            }
            SimulatedDevice device = devices.get(random.nextInt(devices.size()));
            if (random.nextInt(100) < OFFLINE_PERCENT && !device.proxy.isOffline()) {
                device.offline(true);
                faults.record(FaultLog.OFFLINE);
                timers.schedule(() -> {
                    device.offline(false);
                    device.client().connectivityRegained();
                }, 300 + random.nextInt(2700), TimeUnit.MILLISECONDS);
                continue;
            }
            device.offer(PLAN[random.nextInt(PLAN.length)]);
        }
    }

    /**
     * Stops one of the servers now and then (requests in flight are cut, its generations end unstored) and starts it
     * again on the same port. Most restarts first wait a little for a stream being read from that server, so that
     * they come in the middle of a streamed reply. The generations the server held when it stopped are counted cut.
     */
    private void restartUntil(List<RestartableServer> servers, long deadline, SplittableRandom random) {
        try {
            while (true) {
                long wait = 5_000 + random.nextInt(12_000);
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait + 3_000) > deadline) {
                    return;
                }
                Thread.sleep(wait);
                int which = random.nextInt(servers.size());
                if (random.nextDouble() < AIMED_RESTARTS) {
                    long until = System.nanoTime() + AIM_WAIT.toNanos();
                    while ((ledger.streamingOn(which) == 0 || servers.get(which).liveGenerations() == 0)
                            && System.nanoTime() < until) {
                        Thread.sleep(10);
                    }
                }
                RestartableServer server = servers.get(which);
                boolean midStream = ledger.streamingOn(which) > 0;
                int live = server.liveGenerations();
                long stopping = System.nanoTime();
                server.stop();
                faults.record(FaultLog.SERVER_RESTART);
                if (midStream) {
                    restartsMidStream.incrementAndGet();
                }
                generationsCut.addAndGet(live);
                Thread.sleep(200 + random.nextInt(1300));
                server.start();
                progress.accept("chaos: server " + (which + 1) + " restarted, down "
                        + Duration.ofNanos(System.nanoTime() - stopping).toMillis() + " ms, " + live
                        + " generations cut" + (midStream ? ", streams among them" : ""));
            }
        } catch (Exception e) {
            ledger.unexpected("server", e);
        }
    }

    private void crashUntil(CrashingDevice device, long deadline, SplittableRandom random) {
        try {
            while (true) {
                long wait = 3_000 + random.nextInt(7_000);
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait + 6_000) > deadline) {
                    return;
                }
                Thread.sleep(wait);
                device.crashAndRestart(random);
            }
        } catch (Exception e) {
            ledger.unexpected(device.name, e);
        }
    }

    /**
     * Pushes everything the device holds: first for its own account (which adopts rows written signed out), then
     * for every other account it holds unsent rows of, then signs in to its own account again.
     */
    private void drain(SimulatedDevice device, List<User> users) throws Exception {
        pushAs(device, device.home);
        for (String owner : unsentOwners(device)) {
            for (User user : users) {
                if (user != device.home && owner.equals(userId(user))) {
                    pushAs(device, user);
                }
            }
        }
        pushAs(device, device.home);
    }

    /**
     * A generation cut by a restart leaves its claim, which only sending the message again clears (SPEC §5.3: the
     * message "can be sent again"). A device whose JSON exchange was cut shows the message as failed, with Try
     * again; so, after the drain, each such message is tried again on a device signed in to its account that
     * shows it — as its user would. A claim no device can clear is left to the end checks, which call it stuck.
     */
    private void tryInterruptedAgain(List<SimulatedDevice> devices) throws Exception {
        long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
        Map<String, Integer> attempts = new HashMap<>();
        int tried = 0;
        while (System.nanoTime() < deadline) {
            List<String[]> claims = new ArrayList<>();
            try (Connection c = DriverManager.getConnection(dbUrl);
                 PreparedStatement ps = c.prepareStatement("SELECT c.message_id, c.user_id, m.session_id"
                         + " FROM chat_claims c JOIN chat_messages m ON m.id = c.message_id AND m.role = 'user'"
                         + " AND m.error_message IS NOT NULL");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    claims.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
                }
            }
            int tries = 0;
            for (String[] claim : claims) {
                if (attempts.merge(claim[0], 1, Integer::sum) > 3) {
                    continue;
                }
                for (SimulatedDevice device : devices) {
                    ChatClient client = device.client();
                    boolean shown = client.account().map(a -> a.userId().equals(claim[1])).orElse(false)
                            && client.messages(claim[2]).stream().anyMatch(m -> m.id().equals(claim[0]) && m.failed());
                    if (!shown) {
                        continue;
                    }
                    try {
                        client.retry(claim[0]).outcome().get(60, TimeUnit.SECONDS);
                        tries++;
                    } catch (ClientException | ExecutionException e) {
                        // in progress or refused: the next round, or the end checks, tell
                    }
                    break;
                }
            }
            tried += tries;
            if (tries == 0) {
                break;
            }
        }
        if (tried > 0) {
            progress.accept("chaos: " + tried + " messages whose generation a restart cut were tried again");
        }
    }

    private void pushAs(SimulatedDevice device, User user) throws Exception {
        ChatClient client = device.client();
        long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                device.signInAs(user);
                if (client.pushNow().get(60, TimeUnit.SECONDS) && client.syncStatus().unsent() == 0) {
                    return;
                }
            } catch (ClientException e) {
                // e.g. rate limited sign-in: wait and try again
            }
            Thread.sleep(250);
        }
        progress.accept("chaos: " + device.name + " could not drain for " + user.email());
    }

    private void pull(SimulatedDevice device) throws Exception {
        device.client().pullNow().get(60, TimeUnit.SECONDS);
    }

    /** The server's id of {@code user}, read from the database. */
    private String userId(User user) throws SQLException {
        String cached = userIds.get(user.email());
        if (cached != null) {
            return cached;
        }
        try (Connection c = DriverManager.getConnection(dbUrl);
             PreparedStatement ps = c.prepareStatement("SELECT id FROM users WHERE email = ?")) {
            ps.setString(1, user.email());
            try (ResultSet rs = ps.executeQuery()) {
                String id = rs.next() ? rs.getString(1) : "";
                userIds.put(user.email(), id);
                return id;
            }
        }
    }

    /** Accounts the device holds unsent rows of. */
    private static Set<String> unsentOwners(SimulatedDevice device) throws SQLException {
        Set<String> owners = new LinkedHashSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:"
                + device.dataDir.resolve("parley-client.db").toAbsolutePath());
             PreparedStatement ps = c.prepareStatement("SELECT owner FROM messages WHERE sync_state = 'pending'"
                     + " UNION SELECT owner FROM sessions WHERE sync_state = 'pending'");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                if (rs.getString(1) != null) {
                    owners.add(rs.getString(1));
                }
            }
        }
        return owners;
    }

    /** Expands {@code {action, weight}} pairs into an array to draw from uniformly. */
    static Action[] weighted(Object[][] weights) {
        List<Action> plan = new ArrayList<>();
        for (Object[] pair : weights) {
            for (int i = 0; i < (Integer) pair[1]; i++) {
                plan.add((Action) pair[0]);
            }
        }
        return plan.toArray(new Action[0]);
    }
}
