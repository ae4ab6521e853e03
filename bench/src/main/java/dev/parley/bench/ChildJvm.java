package dev.parley.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A scenario run again in a JVM of its own (a capped heap): its standard output relayed line by line. */
final class ChildJvm {
    private ChildJvm() {
    }

    /** Runs {@code command}, copying its output to {@code out} as it comes; returns its exit status. */
    static int relay(List<String> command, PrintWriter out) throws IOException, InterruptedException {
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                out.println(line);
                out.flush();
            }
        }
        return child.waitFor();
    }
}
