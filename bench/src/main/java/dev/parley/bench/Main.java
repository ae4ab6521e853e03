package dev.parley.bench;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code parley bench SCENARIO [--db URL] [--quick]}: runs one benchmark over the real client and server on
 * loopback. Each scenario prints a readable table and ends with one line {@code RESULT <scenario> key=value …}.
 */
@Command(name = "parley bench", mixinStandardHelpOptions = true, version = "parley 0.1.0",
        description = "Measures Parley's claims: push cost, local writes, sign-in sync, chat throughput, triggers,"
                + " streamed replies, live sync, history import.",
        subcommands = {PushVsHistory.class, Enqueue.class, SigninUpload.class, HistoryDownload.class,
                ChatThroughput.class, TriggerCost.class, StreamLatency.class, StreamCapacity.class, LiveLatency.class,
                IdleConnections.class, ImportHistory.class})
public final class Main {
    static final String LOG_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

    public static void main(String[] args) {
        // The servers' start-up and migration notes would bury the tables; warnings and errors still show.
        if (System.getProperty(LOG_LEVEL) == null) {
            System.setProperty(LOG_LEVEL, "warn");
        }
        System.exit(run(new PrintWriter(System.out, true), args));
    }

    /** Runs a command line, printing to {@code out}, and returns its exit code. */
    public static int run(PrintWriter out, String... args) {
        CommandLine line = new CommandLine(new Main());
        line.setOut(out);
        line.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("bench failed: " + e);
            e.printStackTrace(cmd.getErr());
            return 1;
        });
        return line.execute(args);
    }
}
