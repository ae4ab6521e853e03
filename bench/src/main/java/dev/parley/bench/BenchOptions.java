package dev.parley.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import picocli.CommandLine.Option;

/** Options every scenario takes. */
final class BenchOptions {
    @Option(names = "--db", description = "Server database: jdbc:sqlite:FILE or jdbc:postgresql://… "
            + "(default: a fresh SQLite file in the work directory).")
    String db;

    @Option(names = "--pool-size", description = "Server database connections (default: the server's default).")
    Integer poolSize;

    @Option(names = "--quick", description = "Tiny sizes: a smoke run that checks the scenario works, not its speed.")
    boolean quick;

    @Option(names = "--work-dir", description = "Where client stores and the default server database go "
            + "(default: a new temporary directory, deleted afterwards).")
    Path workDir;

    @Option(names = "--keep", description = "Keep the work directory afterwards.")
    boolean keep;

    private Path created;

    /** The work directory, created on first use. */
    Path workDir() {
        if (created == null) {
            try {
                created = workDir != null ? Files.createDirectories(workDir)
                        : Files.createTempDirectory("parley-bench-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return created;
    }

    /** The server database URL: the one given, or a fresh SQLite file named {@code name} in the work directory. */
    String databaseUrl(String name) {
        return db != null ? db : "jdbc:sqlite:" + workDir().resolve(name + "-server.db");
    }

    boolean postgres() {
        return db != null && db.startsWith("jdbc:postgresql:");
    }

    /** Deletes the work directory unless asked to keep it or it was given. */
    void cleanUp() {
        if (created == null || keep || workDir != null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(created)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }
}
