package dev.parley.chaos;

import dev.parley.chaos.DeviceActions.User;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The parent's side of a device that runs in a child JVM ({@link CrashDeviceMain}): starts it, reads what it
 * reports into the {@link Ledger}, and kills it with SIGKILL ({@link Process#destroyForcibly()}) as soon as it
 * starts a push, then starts it again on the same data directory. Everything the process says, and every crash,
 * goes into a transcript beside the data directory. Used by one thread at a time.
 */
final class CrashingDevice implements AutoCloseable {
    final String name;
    final Path dataDir;
    final User home;
    final FaultInjectingProxy proxy;
    private final long seed;
    private final Ledger ledger;
    private final FaultLog faults;
    private final AtomicInteger midPush = new AtomicInteger();
    private final AtomicInteger unexpected = new AtomicInteger();
    private volatile CountDownLatch pushing = new CountDownLatch(1);
    private Process process;
    private int starts;

    CrashingDevice(String name, Path dataDir, User home, FaultInjectingProxy proxy, long seed, Ledger ledger,
                   FaultLog faults) {
        this.name = name;
        this.dataDir = dataDir;
        this.home = home;
        this.proxy = proxy;
        this.seed = seed;
        this.ledger = ledger;
        this.faults = faults;
    }

    /** Starts the device process on its data directory. */
    void start() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.logFile=" + dataDir.resolveSibling(name + ".log"),
                "-cp", System.getProperty("java.class.path"), CrashDeviceMain.class.getName(),
                dataDir.toString(), proxy.url(), home.email(), home.password(), Long.toString(seed * 1_000 + starts)));
        builder.redirectError(ProcessBuilder.Redirect.appendTo(dataDir.resolveSibling(name + ".stderr").toFile()));
        process = builder.start();
        starts++;
        Process running = process;
        Thread reader = new Thread(() -> read(running), "device-" + name + "-out");
        reader.setDaemon(true);
        reader.start();
    }

    private void read(Process running) {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(running.getInputStream(),
                StandardCharsets.UTF_8));
             PrintWriter transcript = new PrintWriter(Files.newBufferedWriter(dataDir.resolveSibling(name + ".out"),
                     StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND), true)) {
            String line;
            while ((line = lines.readLine()) != null) {
                transcript.println(System.currentTimeMillis() + " " + line);
                if (line.startsWith("CREATED ")) {
                    ledger.created(line.substring("CREATED ".length()).strip(), name);
                } else if (line.startsWith("EDITED ")) {
                    ledger.edited(line.substring("EDITED ".length()).strip(), name);
                } else if (line.equals("PUSHING")) {
                    pushing.countDown();
                } else if (line.startsWith("UNEXPECTED ")) {
                    unexpected.incrementAndGet();
                    ledger.unexpected(name, new IllegalStateException(line.substring("UNEXPECTED ".length())));
                }
            }
        } catch (IOException e) {
            // the process died
        }
    }

    /**
     * Takes the device offline for a while so that unsent rows pile up, brings it back, and kills the process
     * shortly after it starts pushing them (or after a few seconds, whatever it is doing). Then starts it again.
     */
    void crashAndRestart(SplittableRandom random) throws Exception {
        note("offline");
        proxy.offline(true);
        faults.record(FaultLog.OFFLINE);
        Thread.sleep(500 + random.nextInt(1500));
        CountDownLatch armed = new CountDownLatch(1);
        pushing = armed;
        proxy.offline(false);
        note("online");
        boolean seenPush = armed.await(4, TimeUnit.SECONDS);
        note(seenPush ? "kill mid-push" : "kill (no push seen)");
        Thread.sleep(random.nextInt(150));
        if (seenPush) {
            midPush.incrementAndGet();
        }
        kill();
        faults.record(FaultLog.CRASH);
        Thread.sleep(random.nextInt(500));
        start();
    }

    /** Adds a line to the device's transcript ({@code NAME.out}, beside its data directory). */
    private void note(String event) throws IOException {
        Files.writeString(dataDir.resolveSibling(name + ".out"), System.currentTimeMillis() + " parent: " + event + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Kills the process with SIGKILL and waits for it to be gone. */
    void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Crashes that came while the device was pushing. */
    int crashesMidPush() {
        return midPush.get();
    }

    int starts() {
        return starts;
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
