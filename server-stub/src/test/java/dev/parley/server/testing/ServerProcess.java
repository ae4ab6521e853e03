package dev.parley.server.testing;

import dev.parley.server.cli.Main;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code parley server} in a child JVM, as an operator runs it: started with the test's class path, ready once it
 * printed its announcement line, stopped with SIGTERM. Its standard error goes to a file in the test directory.
 * Not thread-safe; close it after the test.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("Parley server listening on (http://\\S+)");

    private final Process process;
    private final Path stderr;
    private final CompletableFuture<String> announced;

    private ServerProcess(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        // Read on another thread, so that a child that never announces fails the test instead of hanging it.
        this.announced = CompletableFuture.supplyAsync(() -> announcedUrl(out));
    }

    /** Starts {@code parley server ARGS…} (add {@code --port 0}); call {@link #awaitUrl()} for its address. */
    public static ServerProcess start(Path logDir, String name, String... args) throws IOException {
        return start(logDir, name, List.of(), args);
    }

    /** As {@link #start(Path, String, String...)}, the child JVM run with {@code jvmOptions} (such as a heap size). */
    public static ServerProcess start(Path logDir, String name, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "server"));
        command.addAll(List.of(args));
        Path stderr = logDir.resolve(name + ".stderr.txt");
        Process process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        return new ServerProcess(process, stderr);
    }

    /** Runs {@code parley ARGS…} in a child JVM to its end; the exit code and everything it printed. */
    public static Finished run(Path logDir, String name, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        Path output = logDir.resolve(name + ".out.txt");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("parley " + String.join(" ", args) + " did not finish");
        }
        return new Finished(process.exitValue(), Files.readString(output));
    }

    /** Exit code and output of a finished command. */
    public record Finished(int exitCode, String output) {
    }

    /** The base URL the server announced; fails with its standard error when it did not start. */
    public String awaitUrl() throws Exception {
        String url = announced.get(180, TimeUnit.SECONDS);
        if (url == null) {
            throw new AssertionError("the server exited without announcing itself; stderr:\n" + Files.readString(stderr));
        }
        return url;
    }

    /** Stops the server as Ctrl+C would; true when it ended in time. */
    public boolean stop() throws InterruptedException {
        process.destroy();
        return process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Kills the server as {@code kill -9} would: no shutdown hook runs, nothing is closed. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the killed server did not end");
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (!stop()) {
            process.destroyForcibly();
        }
    }

    private static String announcedUrl(BufferedReader out) {
        try {
            String line;
            while ((line = out.readLine()) != null) {
                Matcher matcher = LISTENING.matcher(line);
                if (matcher.matches()) {
                    return matcher.group(1);
                }
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
