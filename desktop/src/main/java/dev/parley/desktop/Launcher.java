package dev.parley.desktop;

import dev.parley.client.DataDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import javafx.application.Application;

/**
 * The entry point: a plain main class, so the app starts from a class path without JavaFX modules set up. Two
 * options answer on the command line without starting JavaFX: {@code --version} prints {@code Parley <version>};
 * {@code --self-check} runs {@link SelfCheck} (headless) and exits 0 when it passed, 1 when it did not. Anything
 * else starts the window.
 */
public final class Launcher {
    private Launcher() {
    }

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals("--version")) {
            System.out.println("Parley " + version());
            return;
        }
        if (args.length == 1 && args[0].equals("--self-check")) {
            // One report line, not the embedded server's start-up log; warnings and errors still show.
            if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
                System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
            }
            // exit, not return: a library thread left running must not keep a finished check alive.
            System.exit(SelfCheck.run(DataDirectory.resolve(), System::getenv, System.out, System.err));
        }
        Application.launch(ParleyDesktop.class, args);
    }

    /** The project's version (the root pom's {@code <version>}, put into {@code version.properties} by Maven). */
    static String version() {
        try (InputStream in = Launcher.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IllegalStateException("version.properties is missing from the desktop's classes");
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read version.properties", e);
        }
    }
}
