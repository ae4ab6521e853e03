package dev.parley.desktop;

import static dev.parley.desktop.FxWait.fx;

import dev.parley.desktop.view.MarkdownView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javafx.application.Application;
import javafx.stage.Stage;
import javafx.stage.Window;

/**
 * The app as {@code ./parley desktop} runs it, in a test: over a temporary data directory, with the environment the
 * test gives; {@link #close} stops it and puts back what it changed for the whole JavaFX application (the theme, the
 * link opener, the windows). Made in a test's {@code @Start}, closed in its {@code @AfterEach}.
 */
final class WholeApp implements AutoCloseable {
    final Stage stage;
    final Path dir;
    private final String userAgentStylesheet;
    private ParleyDesktop app;

    WholeApp(Stage stage, String name) throws IOException {
        this.stage = stage;
        this.userAgentStylesheet = Application.getUserAgentStylesheet();
        this.dir = Files.createTempDirectory(name);
    }

    /** The app over {@code dataDir}, reading its variables from {@code environment}; not started yet. */
    ParleyDesktop app(Path dataDir, UnaryOperator<String> environment) {
        app = new ParleyDesktop(() -> dataDir, environment);
        return app;
    }

    /** Starts the app made last, on the FX thread, as the platform would. */
    void start() throws Exception {
        fx(() -> {
            app.start(stage);
            return null;
        });
    }

    /** What closing the window does: the app stops (closing what it opened) and its windows go. */
    void stop() throws Exception {
        fx(() -> {
            if (app != null) {
                app.stop();
                app = null;
            }
            List.copyOf(Window.getWindows()).forEach(Window::hide);
            return null;
        });
    }

    @Override
    public void close() throws Exception {
        stop();
        fx(() -> {
            Application.setUserAgentStylesheet(userAgentStylesheet);
            MarkdownView.openLinksWith(null);
            return null;
        });
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
