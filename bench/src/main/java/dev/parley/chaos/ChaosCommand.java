package dev.parley.chaos;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./parley chaos --seconds N --seed S [--db URL]}: the fault-injection convergence run. Prints progress, the
 * faults by kind, any violation, and ends with the line {@code RESULT chaos devices=… messages=… faults=…
 * lost=… duplicated=… analytics_mismatches=… stuck=… streams=… dropped=… reattached=… stopped=… interrupted=…
 * regenerated=… edited=…}. Exits 0 when the run is clean, 1 when it found a violation, 2 on bad options or when
 * the run could not complete (a server that will not start on the database given, say).
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = "Runs devices against a server through faults, then checks nothing was lost or counted twice.")
public final class ChaosCommand implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "120", description = "How long the faults last (default ${DEFAULT-VALUE}).")
    long seconds;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of every random decision (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--db", description = "Server database URL (jdbc:sqlite:… or jdbc:postgresql:…); default: a new"
            + " SQLite file in the work directory. The analytics check covers the whole database.")
    String db;

    @Option(names = "--dir", description = "Work directory for the devices' files and logs; default: a new"
            + " temporary directory.")
    Path dir;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ChaosCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (seconds < 1) {
            System.err.println("chaos: --seconds must be at least 1, not " + seconds);
            return 2;
        }
        if (db != null && !(db.startsWith("jdbc:sqlite:") || db.startsWith("jdbc:postgresql:"))) {
            System.err.println("chaos: --db must be a jdbc:sqlite:… or jdbc:postgresql:… URL, not '" + db + "'");
            return 2;
        }
        Path workDir = dir != null ? dir : Files.createTempDirectory("parley-chaos-");
        Files.createDirectories(workDir);
        if (System.getProperty("org.slf4j.simpleLogger.logFile") == null) {
            // Every injected fault is logged somewhere as a failure: the log goes to a file, not the console.
            System.setProperty("org.slf4j.simpleLogger.logFile", workDir.resolve("chaos.log").toString());
            System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        }
        ChaosReport report;
        try {
            report = new ChaosRun(new ChaosRun.Config(Duration.ofSeconds(seconds), seed, db, workDir), line -> {
                System.out.println(line);
                System.out.flush();
            }).run();
        } catch (RuntimeException e) {
            // e.g. a database URL the server cannot use: say so plainly; the files stay in the work directory
            System.err.println("chaos: the run could not complete: " + e.getMessage() + " (files in " + workDir + ")");
            return 2;
        }
        print(report);
        return report.clean() ? 0 : 1;
    }

    static void print(ChaosReport report) {
        StringBuilder faults = new StringBuilder("faults:");
        for (Map.Entry<String, Long> kind : report.faults().entrySet()) {
            faults.append(' ').append(kind.getKey()).append('=').append(kind.getValue());
        }
        System.out.println(faults);
        for (String detail : report.details()) {
            System.out.println("VIOLATION " + detail);
        }
        for (String claim : report.orphanedClaims()) {
            System.out.println("SERVER " + claim);
        }
        System.out.println("CHECK diverged=" + report.diverged() + " unexpected_errors=" + report.unexpectedErrors()
                + " refused_as_deleted=" + report.refusedAsDeleted() + " crashes_mid_push=" + report.crashesMidPush()
                + " resent=" + report.streams().resent() + " restarts_mid_stream=" + report.restartsMidStream()
                + " generations_cut=" + report.generationsCut()
                + " orphaned_claims=" + report.orphanedClaims().size());
        System.out.println(report.resultLine());
        System.out.flush();
    }
}
