package dev.parley.desktop.bench;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.desktop.FxUiExecutor;
import dev.parley.desktop.ParleyDesktop;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.protocol.Role;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javafx.application.Platform;
import javafx.collections.ListChangeListener;
import javafx.scene.Node;
import javafx.scene.Parent;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.ComboBox;
import javafx.scene.control.ListCell;
import javafx.scene.control.ListView;
import javafx.scene.control.TextArea;
import javafx.stage.Stage;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./parley bench ui-stream}: what a long reply streaming at 100 pieces a second costs the JavaFX application
 * thread, in the real window. A real {@link ParleyServer} on a loopback port, with a SQLite file and a model that
 * streams a long Markdown reply (headings, paragraphs with inline marks and links, lists, code blocks, quotes) in
 * equal pieces at a fixed rate ({@link ScriptedReplies}); a real {@link ChatClient}, signed up; and the window
 * {@link ParleyDesktop#show} builds — {@code MainViewModel}, which hands the growing text to the FX thread at most
 * every 66 ms ({@code GrowingReplies}), and {@code MainView}, whose message cells render Markdown with
 * {@code MarkdownView}. The question is typed into the composer and sent with the Send button. An unmeasured reply
 * (by default as long as the measured one) streams first, in a conversation of its own, so that the measured one
 * meets compiled code at every length it reaches, and starts in a new, empty conversation.
 *
 * <p>The window of measurement runs from the moment the model hands over the reply's first piece to the end of the
 * pulse that lays out the finished reply (the stored message that replaces the growing one). Every duration is the
 * FX thread's CPU time ({@link ThreadMXBean#getThreadCpuTime}), which other work on the machine does not inflate,
 * except where a field says wall time. Over the window:
 * <ul>
 *   <li>{@code pieces}, {@code chars}: the pieces the model streamed and the reply's length.</li>
 *   <li>{@code fx_busy_pct}: the FX thread's CPU time over the window divided by its wall time — everything that
 *       thread did: the view model's hand-overs, the list changes, the cells' Markdown rendering, CSS, layout,
 *       syncing the scene to the render thread, other pulses. {@code fx_busy_max_1s_pct}: the same over the
 *       busiest second (CPU time sampled every 100 ms), since a render costs more as the reply grows.</li>
 *   <li>{@code renders}: pulses of the window's scene that follow a change of the message list — each shows the
 *       reply as handed over. A render's cost runs from the end of the previous pulse's layout to the end of its
 *       own: the hand-over, in which the list cell re-renders the whole reply's Markdown (parse and nodes), and the
 *       pulse's CSS and layout pass of the new nodes, timed with {@link Scene#addPreLayoutPulseListener} and
 *       {@link Scene#addPostLayoutPulseListener} (see {@link RenderLog}). {@code render_p50_us} and
 *       {@code render_p95_us} are its percentiles; {@code layout_p95_us} that of its CSS and layout pass
 *       alone.</li>
 *   <li>{@code per_delta_us}: the FX thread's CPU time over the window divided by the pieces streamed.
 *       {@code per_delta_p95_us}: the 95th percentile, over the renders that showed new text, of a render's cost
 *       divided by the pieces it showed for the first time.</li>
 * </ul>
 *
 * <p><b>How it runs, and why here.</b> The class lives in the desktop's test sources: the bench module may depend
 * only on client-db and server-stub, the desktop's own code writes nothing to standard output (its
 * {@code LayersTest} says so) and ships no benchmark, and headless runs need Monocle, a test dependency. The
 * launcher runs it as a plain JVM — the bench's fixed heap, output straight to the terminal (Surefire would send it
 * to a report file), the same options as every scenario — on {@code desktop/target/test-classes}, the desktop's
 * runtime class path and the Monocle jar, with the system properties the desktop's tests run under (Monocle's
 * headless platform, Prism's software pipeline), so it needs no display and measures the same rendering on any
 * machine. {@code UiStreamQuickRunTest} runs {@link #measure} at the quick size inside the test run.
 */
@Command(name = "parley bench ui-stream", mixinStandardHelpOptions = true, version = "parley 0.1.0",
        description = "What a long reply streaming at 100 pieces a second costs the JavaFX thread, in the real window.")
public final class UiStream implements Callable<Integer> {
    static final String SCENARIO = "ui-stream";
    private static final String LOG_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";
    private static final long SAMPLE_EVERY_MS = 100;
    private static final Duration SETTLE = Duration.ofSeconds(1);

    /** How much to stream: the measured reply's seconds and characters, the rate, and the warm-up's seconds. */
    record Size(int seconds, int chars, int piecesPerSecond, int warmupSeconds) {
        /** A smoke run: checks that the scenario works, not how fast. */
        static final Size QUICK = new Size(3, 5_000, 100, 1);

        Size {
            if (seconds < 1 || piecesPerSecond < 1 || warmupSeconds < 0) {
                throw new IllegalArgumentException("--seconds and --rate must be at least 1, --warmup-seconds 0");
            }
            if (chars < seconds * piecesPerSecond) {
                throw new IllegalArgumentException("--chars must be at least --seconds × --rate ("
                        + seconds * piecesPerSecond + "), so that every piece holds text");
            }
        }

        int pieces() {
            return seconds * piecesPerSecond;
        }
    }

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--seconds", defaultValue = "25",
            description = "How long the measured reply streams (default ${DEFAULT-VALUE}; --quick 3).")
    int seconds;

    @Option(names = "--chars", defaultValue = "30000",
            description = "Its length in characters of Markdown (default ${DEFAULT-VALUE}; --quick 5000).")
    int chars;

    @Option(names = "--rate", defaultValue = "100", description = "Pieces a second (default ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--warmup-seconds", description = "How long the unmeasured reply streamed first runs, at the same "
            + "rate and piece size, so the measured one meets compiled code (default: as --seconds; --quick 1).")
    Integer warmupSeconds;

    @Option(names = "--quick", description = "Tiny sizes: a smoke run that checks the scenario works, not its speed.")
    boolean quick;

    @Option(names = "--work-dir", description = "Where the client store and the server database go "
            + "(default: a new temporary directory, deleted afterwards).")
    Path workDir;

    @Option(names = "--keep", description = "Keep the work directory afterwards.")
    boolean keep;

    public static void main(String[] args) {
        // The server's start-up and migration notes would bury the table; warnings and errors still show.
        if (System.getProperty(LOG_LEVEL) == null) {
            System.setProperty(LOG_LEVEL, "warn");
        }
        CommandLine line = new CommandLine(new UiStream());
        line.setOut(new PrintWriter(System.out, true));
        line.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("bench failed: " + e);
            e.printStackTrace(cmd.getErr());
            return 1;
        });
        int code = line.execute(args);
        Platform.exit();
        System.exit(code);
    }

    @Override
    public Integer call() throws Exception {
        Size size = quick ? Size.QUICK
                : new Size(seconds, chars, rate, warmupSeconds != null ? warmupSeconds : seconds);
        Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("parley-bench-");
        CompletableFuture<Void> started = new CompletableFuture<>();
        Platform.startup(() -> started.complete(null));
        Platform.setImplicitExit(false);
        started.get(30, TimeUnit.SECONDS);
        try {
            measure(size, dir, spec.commandLine().getOut());
        } finally {
            if (!keep && workDir == null) {
                delete(dir);
            }
        }
        return 0;
    }

    /**
     * Runs the scenario at {@code size} in {@code dir} and prints its notes, table and RESULT line to {@code out};
     * returns the RESULT's fields in order. Call from any thread but the FX thread, with the FX toolkit running;
     * everything it opens it closes, and its window is closed when it returns.
     *
     * @throws IllegalStateException when the window does not end up showing the whole reply
     */
    static Map<String, String> measure(Size size, Path dir, PrintWriter out) throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (!threads.isThreadCpuTimeSupported()) {
            throw new IllegalStateException("this JVM cannot measure a thread's CPU time");
        }
        threads.setThreadCpuTimeEnabled(true);
        note(out, "%s on %d cores, Java %s, load average %s", SCENARIO, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), loadAverage());
        note(out, "glass.platform=%s monocle.platform=%s prism.order=%s (headless when Monocle, software when sw)",
                System.getProperty("glass.platform", "default"), System.getProperty("monocle.platform", "-"),
                System.getProperty("prism.order", "default"));

        String text = markdown(size.chars());
        List<String> pieces = cut(text, size.pieces());
        int warmPieces = size.warmupSeconds() * size.piecesPerSecond();
        String warmText = markdown((int) ((long) size.chars() * warmPieces / size.pieces()));
        int shortest = text.length() / pieces.size();
        int longest = (text.length() + pieces.size() - 1) / pieces.size();
        note(out, "reply: %,d characters of Markdown in %,d pieces, %d a second (%s characters each); first an "
                        + "unmeasured reply of %,d pieces (%,d characters) in another conversation", text.length(),
                pieces.size(), size.piecesPerSecond(), shortest == longest ? shortest : shortest + "–" + longest,
                warmPieces, warmText.length());

        Window window = new Window(threads);
        ScriptedReplies model = new ScriptedReplies(Duration.ofNanos(1_000_000_000L / size.piecesPerSecond()));
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ui-stream-sampler");
            t.setDaemon(true);
            return t;
        });
        ParleyServer server = ParleyServer.start(ServerConfig.builder().host("127.0.0.1").port(0)
                .databaseUrl("jdbc:sqlite:" + dir.resolve("server.db").toAbsolutePath()).modelProvider(model)
                .build());
        ChatClient client = null;
        FxUiExecutor ui = null;
        Stage stage = null;
        try {
            client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url()).build());
            client.signUp("ui-stream@example.com", "a long enough password");
            ui = new FxUiExecutor();
            ChatClient signedIn = client;
            FxUiExecutor executor = ui;
            stage = onFx(() -> {
                Stage s = new Stage();
                ParleyDesktop.show(s, signedIn, executor, SCENARIO, new SettingsStore(dir), Settings.DEFAULTS);
                return s;
            });
            Stage shown = stage;
            RenderLog log = onFx(() -> RenderLog.install(shown.getScene(), ends(pieces), threads));
            window.fxThread = log.fxThread;
            window.renderThread = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("QuantumRenderer")).mapToLong(Thread::getId).findFirst()
                    .orElse(-1);
            awaitFx("the window knows the server's models", Duration.ofSeconds(30),
                    () -> ((ComboBox<?>) shown.getScene().lookup("#model")).getValue() != null);

            if (warmPieces > 0) {
                model.next(new ScriptedReplies.Script(cut(warmText, warmPieces), () -> { }));
                send(stage, "A first answer, please.");
                awaitFx("the warm-up reply is shown whole", Duration.ofSeconds(size.warmupSeconds() * 4L + 60),
                        () -> finished(lastReply(log.list, null), warmText));
                String warmSession = onFx(() -> lastReply(log.list, null).message().sessionId());
                onFx(() -> {
                    ((Button) shown.getScene().lookup("#newChat")).fire();
                    return null;
                });
                awaitFx("a new, empty conversation is open", Duration.ofSeconds(30), () -> log.list.getItems()
                        .isEmpty() && selectedSession(shown) != null && !selectedSession(shown).equals(warmSession));
                log.session = onFx(() -> selectedSession(shown));
            }
            Thread.sleep(SETTLE.toMillis()); // the warm-up's sync and the new conversation's list refresh
            if (log.session != null && !onFx(() -> log.session.equals(selectedSession(shown))
                    && log.list.getItems().isEmpty())) {
                throw new IllegalStateException("the window left the new conversation before the question was sent");
            }

            long[] gcBefore = gc();
            model.next(new ScriptedReplies.Script(pieces, () -> {
                window.start();
                log.measuring = true;
                sampler.scheduleAtFixedRate(window::sample, SAMPLE_EVERY_MS, SAMPLE_EVERY_MS, TimeUnit.MILLISECONDS);
            }));
            send(stage, "Please write the whole guide, with examples.");
            String shownText;
            try {
                shownText = log.finished.get(size.seconds() * 4L + 120, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                LocalMessage last = onFx(() -> lastReply(log.list, log.session));
                boolean elsewhere = onFx(() -> log.session != null && !log.session.equals(selectedSession(shown)));
                throw new IllegalStateException("the reply did not finish in the window, which shows " + (elsewhere
                        ? "another conversation" : last == null ? "no reply" : last.message().content().length()
                        + " characters of it, " + (last.unfinished() ? "still growing" : "finished")), e);
            }
            sampler.shutdownNow();
            long[] gcAfter = gc();
            window.end(log.endNanos, log.endFxCpu);
            if (!shownText.equals(text)) {
                int differs = 0;
                while (differs < Math.min(text.length(), shownText.length())
                        && text.charAt(differs) == shownText.charAt(differs)) {
                    differs++;
                }
                throw new IllegalStateException("the finished reply has " + shownText.length() + " characters, the "
                        + "model streamed " + text.length() + "; they differ from character " + differs);
            }
            List<Render> renders = onFx(() -> List.copyOf(log.renders));
            int pulses = onFx(() -> log.pulses);
            note(out, "the finished reply is drawn with %,d nodes", onFx(() -> replyNodes(log.list)));
            return report(out, size, text, renders, pulses, window, gcAfter[0] - gcBefore[0],
                    gcAfter[1] - gcBefore[1]);
        } finally {
            sampler.shutdownNow();
            if (stage != null) {
                Stage open = stage;
                onFx(() -> {
                    open.close();
                    return null;
                });
            }
            if (ui != null) {
                ui.close();
            }
            if (client != null) {
                client.close();
            }
            server.close();
            model.close();
        }
    }

    private static Map<String, String> report(PrintWriter out, Size size, String text, List<Render> renders,
                                              int pulses, Window window, long gcCount, long gcMillis) {
        long wall = window.endNanos - window.startNanos;
        long fxCpu = window.endFxCpu - window.startFxCpu;
        note(out, "window: %.2f s from the first piece to the finished reply laid out; %,d pulses of the window's "
                        + "scene, %,d of them renders (%,d showed no new text), which took %.1f %% of the FX thread's "
                        + "CPU time; %,d collections, %,d ms, meanwhile", wall / 1e9, pulses, renders.size(),
                renders.stream().filter(r -> r.newPieces() == 0).count(),
                100.0 * renders.stream().mapToLong(Render::cpuNanos).sum() / fxCpu, gcCount, gcMillis);
        note(out, "load average at the end: %s", loadAverage());

        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"part of the window", "chars shown", "renders", "render CPU µs p50",
                "render CPU µs p95", "hand-over µs p50", "CSS+layout µs p50", "CSS+layout wall µs p50",
                "FX thread busy %", "render thread busy %"});
        for (int part = 0; part < 5; part++) {
            long from = window.startNanos + wall * part / 5;
            long to = window.startNanos + wall * (part + 1) / 5;
            List<Render> in = renders.stream().filter(r -> r.startNanos() >= from && r.startNanos() < to).toList();
            rows.add(row((part * 20) + "–" + ((part + 1) * 20) + " %", in, window, from, to));
        }
        rows.add(row("whole window", renders, window, window.startNanos, window.endNanos + 1));
        table(out, rows);

        long[] cpus = renders.stream().mapToLong(Render::cpuNanos).toArray();
        long[] layouts = renders.stream().mapToLong(Render::layoutCpuNanos).toArray();
        long[] perPiece = renders.stream().filter(r -> r.newPieces() > 0)
                .mapToLong(r -> r.cpuNanos() / r.newPieces()).toArray();
        Map<String, String> result = new LinkedHashMap<>();
        result.put("pieces", String.valueOf(size.pieces()));
        result.put("chars", String.valueOf(text.length()));
        result.put("renders", String.valueOf(renders.size()));
        result.put("render_p50_us", number(percentile(cpus, 50) / 1e3));
        result.put("render_p95_us", number(percentile(cpus, 95) / 1e3));
        result.put("layout_p95_us", number(percentile(layouts, 95) / 1e3));
        result.put("per_delta_us", number(fxCpu / 1e3 / size.pieces()));
        result.put("per_delta_p95_us", number(percentile(perPiece, 95) / 1e3));
        result.put("fx_busy_pct", number(100.0 * fxCpu / wall));
        result.put("fx_busy_max_1s_pct", number(window.busiestSecondPct()));
        StringBuilder line = new StringBuilder("RESULT ").append(SCENARIO);
        result.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        out.println(line);
        out.flush();
        return result;
    }

    private static String[] row(String label, List<Render> renders, Window window, long from, long to) {
        long[] cpus = renders.stream().mapToLong(Render::cpuNanos).toArray();
        long[] handOvers = renders.stream().mapToLong(r -> r.cpuNanos() - r.layoutCpuNanos()).toArray();
        long[] layouts = renders.stream().mapToLong(Render::layoutCpuNanos).toArray();
        long[] layoutWalls = renders.stream().mapToLong(Render::layoutWallNanos).toArray();
        int shown = renders.stream().mapToInt(Render::shownChars).max().orElse(0);
        return new String[] {label, String.format(Locale.ROOT, "%,d", shown), String.valueOf(renders.size()),
                micros(cpus, 50), micros(cpus, 95), micros(handOvers, 50), micros(layouts, 50),
                micros(layoutWalls, 50), number(window.busyPct(from, to, true)),
                number(window.busyPct(from, to, false))};
    }

    private static String micros(long[] nanos, double percentile) {
        return nanos.length == 0 ? "-" : number(percentile(nanos, percentile) / 1e3);
    }

    // ------------------------------------------------------------------ the window and what happens on the FX thread

    /**
     * One render: the hand-over of new text and the pulse after it.
     *
     * @param startNanos      when the pulse began
     * @param cpuNanos        the FX thread's CPU time from the end of the previous pulse's layout to the end of this
     *                        one's: the hand-over (the list change, in which the cell renders the Markdown) and this
     *                        pulse's CSS and layout
     * @param layoutCpuNanos  the part of it in this pulse's CSS and layout pass
     * @param layoutWallNanos that pass's wall time
     * @param shownChars      the reply's length as shown
     * @param newPieces       pieces shown for the first time
     */
    record Render(long startNanos, long cpuNanos, long layoutCpuNanos, long layoutWallNanos, int shownChars,
                  int newPieces) {
    }

    /**
     * What the FX thread did while the reply streamed. Installed on the window's scene and then touched on the FX
     * thread only, but for {@link #measuring} and {@link #session}, which the bench's threads set.
     *
     * <p>A render's Markdown is not rendered in the pulse: the view model's hand-over replaces the reply in the
     * message list, and the list cell showing it updates at once, inside that change ({@code ListCell} listens to
     * its list's items). Most of the new nodes' CSS, and their layout, wait for the pulse. So a render is timed on
     * the FX thread's CPU clock from the end of the previous pulse to the end of its own pulse's layout, which holds
     * both; a pulse always follows a change of the list, so nothing of one render falls into the next.
     */
    private static final class RenderLog {
        final ListView<LocalMessage> list;
        final long fxThread = Thread.currentThread().getId();
        final List<Render> renders = new ArrayList<>();
        final CompletableFuture<String> finished = new CompletableFuture<>();
        /** The measured reply's piece ends: its length after each piece. */
        private final int[] ends;
        private final ThreadMXBean threads;
        volatile boolean measuring;
        /** The conversation the measured reply is written in; null until known (then any). */
        volatile String session;
        int pulses;
        long endNanos;
        long endFxCpu;
        private boolean listChanged;
        private boolean rendering;
        private long layoutStart;
        private long layoutStartCpu;
        private long lastPulseEndCpu;
        private int mostShown;

        private RenderLog(ListView<LocalMessage> list, int[] ends, ThreadMXBean threads) {
            this.list = list;
            this.ends = ends;
            this.threads = threads;
        }

        @SuppressWarnings("unchecked")
        static RenderLog install(Scene scene, int[] ends, ThreadMXBean threads) {
            RenderLog log = new RenderLog((ListView<LocalMessage>) scene.lookup("#messages"), ends, threads);
            log.list.getItems().addListener((ListChangeListener<LocalMessage>) c -> {
                if (log.measuring) {
                    log.listChanged = true;
                }
            });
            scene.addPreLayoutPulseListener(log::beforeLayout);
            scene.addPostLayoutPulseListener(log::afterLayout);
            return log;
        }

        private void beforeLayout() {
            if (!measuring) {
                return;
            }
            pulses++;
            if (listChanged) {
                listChanged = false;
                rendering = true;
                layoutStart = System.nanoTime();
                layoutStartCpu = threads.getCurrentThreadCpuTime();
            }
        }

        private void afterLayout() {
            long cpu = threads.getCurrentThreadCpuTime();
            long previousEnd = lastPulseEndCpu;
            lastPulseEndCpu = cpu;
            if (!rendering) {
                return;
            }
            rendering = false;
            long wall = System.nanoTime() - layoutStart;
            LocalMessage reply = lastReply(list, session);
            int shown = reply == null ? 0 : reply.message().content().length();
            int newPieces = piecesWithin(shown) - piecesWithin(mostShown);
            mostShown = Math.max(mostShown, shown);
            renders.add(new Render(layoutStart, cpu - previousEnd, cpu - layoutStartCpu, wall, shown,
                    Math.max(0, newPieces)));
            if (reply != null && !reply.unfinished()) { // the stored reply replaced the growing one
                endNanos = System.nanoTime();
                endFxCpu = cpu;
                measuring = false;
                finished.complete(reply.message().content());
            }
        }

        /** How many whole pieces the first {@code chars} characters hold. */
        private int piecesWithin(int chars) {
            int at = Arrays.binarySearch(ends, chars);
            return at >= 0 ? at + 1 : -at - 1;
        }
    }

    /** The window of measurement and the CPU samples taken over it. Samples are guarded by the list. */
    private static final class Window {
        private final ThreadMXBean threads;
        private final List<long[]> samples = new ArrayList<>(); // {nanos, FX CPU, render thread CPU}
        long fxThread;
        long renderThread;
        volatile long startNanos;
        volatile long startFxCpu;
        long endNanos;
        long endFxCpu;

        Window(ThreadMXBean threads) {
            this.threads = threads;
        }

        void start() {
            startFxCpu = threads.getThreadCpuTime(fxThread);
            startNanos = System.nanoTime();
            synchronized (samples) {
                samples.add(new long[] {startNanos, startFxCpu, renderCpu()});
            }
        }

        void sample() {
            long fx = threads.getThreadCpuTime(fxThread);
            long nanos = System.nanoTime();
            long render = renderCpu();
            synchronized (samples) {
                samples.add(new long[] {nanos, fx, render});
            }
        }

        void end(long nanos, long fxCpu) {
            endNanos = nanos;
            endFxCpu = fxCpu;
            synchronized (samples) {
                samples.removeIf(s -> s[0] > nanos);
                samples.add(new long[] {nanos, fxCpu, renderCpu()});
            }
        }

        private long renderCpu() {
            return renderThread < 0 ? 0 : Math.max(0, threads.getThreadCpuTime(renderThread));
        }

        /** The FX (or render) thread's CPU share between the samples nearest {@code from} and {@code to}, in %. */
        double busyPct(long from, long to, boolean fx) {
            synchronized (samples) {
                long[] a = nearest(from);
                long[] b = nearest(to);
                int column = fx ? 1 : 2;
                return b[0] == a[0] ? 0 : 100.0 * (b[column] - a[column]) / (b[0] - a[0]);
            }
        }

        /** The FX thread's highest CPU share over any stretch of at least a second between samples, in %. */
        double busiestSecondPct() {
            synchronized (samples) {
                double most = 0;
                int j = 0;
                for (int i = 0; i < samples.size(); i++) {
                    j = Math.max(j, i);
                    while (j < samples.size() && samples.get(j)[0] - samples.get(i)[0] < 1_000_000_000L) {
                        j++;
                    }
                    if (j == samples.size()) {
                        break;
                    }
                    long[] a = samples.get(i);
                    long[] b = samples.get(j);
                    most = Math.max(most, 100.0 * (b[1] - a[1]) / (b[0] - a[0]));
                }
                return most;
            }
        }

        private long[] nearest(long nanos) {
            return samples.stream().min(Comparator.comparingLong(s -> Math.abs(s[0] - nanos))).orElseThrow();
        }
    }

    // ------------------------------------------------------------------ driving the window

    /** Types {@code question} into the composer and presses Send. */
    private static void send(Stage stage, String question) throws Exception {
        onFx(() -> {
            ((TextArea) stage.getScene().lookup("#composer")).setText(question);
            ((Button) stage.getScene().lookup("#send")).fire();
            return null;
        });
    }

    private static boolean finished(LocalMessage reply, String text) {
        return reply != null && !reply.unfinished() && reply.message().content().equals(text);
    }

    /** The last reply {@code list} shows, in conversation {@code session} (any when null), or null. FX thread. */
    private static LocalMessage lastReply(ListView<LocalMessage> list, String session) {
        List<LocalMessage> items = list.getItems();
        for (int i = items.size() - 1; i >= 0; i--) {
            LocalMessage m = items.get(i);
            if (m.message().role() == Role.ASSISTANT && (session == null || session.equals(m.message().sessionId()))) {
                return m;
            }
        }
        return null;
    }

    /** The nodes under the graphic of the list cell showing the last reply (its skins' included). FX thread. */
    private static int replyNodes(ListView<LocalMessage> list) {
        LocalMessage reply = lastReply(list, null);
        for (Node node : list.lookupAll(".list-cell")) {
            if (node instanceof ListCell<?> cell && cell.getIndex() >= 0 && cell.getItem() == reply
                    && cell.getGraphic() != null) {
                int count = 0;
                Deque<Node> todo = new ArrayDeque<>(List.of(cell.getGraphic()));
                while (!todo.isEmpty()) {
                    Node next = todo.pop();
                    count++;
                    if (next instanceof Parent parent) {
                        todo.addAll(parent.getChildrenUnmodifiable());
                    }
                }
                return count;
            }
        }
        return 0;
    }

    /** The id of the conversation selected in the sidebar, or null. FX thread. */
    @SuppressWarnings("unchecked")
    private static String selectedSession(Stage stage) {
        LocalSession selected = ((ListView<LocalSession>) stage.getScene().lookup("#sessions")).getSelectionModel()
                .getSelectedItem();
        return selected == null ? null : selected.id();
    }

    private static <T> T onFx(Callable<T> work) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Platform.runLater(() -> {
            try {
                result.complete(work.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(30, TimeUnit.SECONDS);
    }

    private static void awaitFx(String what, Duration timeout, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!onFx(condition::getAsBoolean)) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    // ------------------------------------------------------------------ the reply

    /**
     * A long Markdown reply of exactly {@code chars} characters: numbered sections, each a heading, a paragraph
     * with bold, italic, inline code and a link, a bullet list, an ordered list, a fenced Java block and a quote
     * (about 1,050 characters a section), cut where the length is reached.
     */
    static String markdown(int chars) {
        StringBuilder text = new StringBuilder(chars + 1_200);
        for (int i = 1; text.length() < chars; i++) {
            text.append("## ").append(i).append(". Keeping part ").append(i).append(" of the outbox small\n\n")
                    .append("Every message is written to the local store first, and the **outbox** keeps what the ")
                    .append("server has not seen yet. A push sends only those rows, so its cost is what is unsent, ")
                    .append("not what is stored. See [the sync notes](https://example.com/docs/sync/").append(i)
                    .append(") and `SyncEngine.pushNow()` for the details; *nothing is lost* when the connection ")
                    .append("drops in the middle of step ").append(i).append(".\n\n")
                    .append("- The store is SQLite in WAL mode, with `synchronous=FULL`.\n")
                    .append("- Each write carries an idempotency id, so a retry counts once.\n")
                    .append("- A failed push backs off, from 1 s up to ").append(i % 9 + 1).append(" min.\n")
                    .append("- Sign-in uploads the local history in pages of 500.\n\n")
                    .append("1. Write the message and its outbox entry in one transaction.\n")
                    .append("2. Return to the caller before the network is touched.\n")
                    .append("3. Push in the background, and mark the rows synced when the server answers.\n\n")
                    .append("```java\n")
                    .append("try (var tx = store.begin()) {\n")
                    .append("    tx.insert(message);               // section ").append(i).append('\n')
                    .append("    tx.enqueue(message.id());\n")
                    .append("    tx.commit();\n")
                    .append("}\n")
                    .append("```\n\n")
                    .append("> A reply that is cut off is kept as it stands, and marked as stopped.\n\n");
        }
        return text.substring(0, chars);
    }

    /** {@code text} in {@code n} pieces whose lengths differ by at most one character. */
    static List<String> cut(String text, int n) {
        List<String> pieces = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int from = (int) ((long) text.length() * i / n);
            int to = (int) ((long) text.length() * (i + 1) / n);
            pieces.add(text.substring(from, to));
        }
        return pieces;
    }

    private static int[] ends(List<String> pieces) {
        int[] ends = new int[pieces.size()];
        int length = 0;
        for (int i = 0; i < ends.length; i++) {
            length += pieces.get(i).length();
            ends[i] = length;
        }
        return ends;
    }

    // ------------------------------------------------------------------ printing

    private static void note(PrintWriter out, String format, Object... args) {
        out.println("# " + String.format(Locale.ROOT, format, args));
        out.flush();
    }

    private static void table(PrintWriter out, List<String[]> rows) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        out.println();
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                String cell = rows.get(r)[i];
                line.append(i == 0 ? "" : " | ")
                        .append(i == 0 ? String.format("%-" + widths[i] + "s", cell)
                                : String.format("%" + widths[i] + "s", cell));
            }
            out.println(line.toString().stripTrailing());
            if (r == 0) {
                StringBuilder rule = new StringBuilder();
                for (int width : widths) {
                    rule.append(rule.isEmpty() ? "" : "-+-").append("-".repeat(width));
                }
                out.println(rule);
            }
        }
        out.println();
    }

    /** Two decimals below 100, none from there: the figures' precision, not the clock's. */
    private static String number(double value) {
        return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.0f" : "%.2f", value);
    }

    /** The {@code p}-th percentile by nearest rank; 0 when there are no samples. */
    private static long percentile(long[] samples, double p) {
        if (samples.length == 0) {
            return 0;
        }
        long[] sorted = samples.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** Collections and their total time in ms so far, over every collector. */
    private static long[] gc() {
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, bean.getCollectionCount());
            millis += Math.max(0, bean.getCollectionTime());
        }
        return new long[] {count, millis};
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException | RuntimeException e) {
            return String.format(Locale.ROOT, "%.2f",
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }
}
