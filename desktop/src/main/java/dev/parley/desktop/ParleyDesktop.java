package dev.parley.desktop;

import atlantafx.base.theme.PrimerDark;
import atlantafx.base.theme.PrimerLight;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.DataDirectory;
import dev.parley.client.Exchange;
import dev.parley.client.SyncState;
import dev.parley.desktop.models.EmbeddedModels;
import dev.parley.desktop.models.LocalServers;
import dev.parley.desktop.models.ModelSetup;
import dev.parley.desktop.settings.ProviderKeys;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.desktop.view.MainView;
import dev.parley.desktop.view.MarkdownView;
import dev.parley.desktop.view.SettingsDialog;
import dev.parley.desktop.view.SignInDialog;
import dev.parley.desktop.viewmodel.MainViewModel;
import dev.parley.desktop.viewmodel.SettingsViewModel;
import dev.parley.desktop.viewmodel.SignInViewModel;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import javafx.application.Application;
import javafx.application.Platform;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.ProgressIndicator;
import javafx.scene.image.Image;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Parley desktop app. The server comes from {@code PARLEY_SERVER_URL}, else from Settings; with neither it
 * starts an embedded server on a loopback port, so a first run needs no setup, and stops it on exit.
 * {@code PARLEY_THEME=dark|light} overrides the saved theme; {@code PARLEY_LOCAL_MODEL_TOKEN_MS} slows the embedded
 * server's built-in model down, to watch replies grow; {@code PARLEY_KEYS=file} keeps API keys in an owner-only file
 * instead of the system keyring. Start-up does its I/O off the FX thread behind a
 * "Starting Parley…" window, which shows the reason instead when start-up fails.
 */
public final class ParleyDesktop extends Application {
    private static final Logger LOG = LoggerFactory.getLogger(ParleyDesktop.class);

    /** The longest closing waits for the replies being written. */
    static final Duration FINISH_REPLIES = Duration.ofSeconds(60);

    private final Supplier<Path> dataDirectory;
    private final UnaryOperator<String> environment;
    /** What start-up opened, newest first, for {@link #stop()} to close; guarded by itself, as is stopped. */
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();
    private boolean stopped;
    private FxUiExecutor ui;

    /** The app as {@link Launcher} starts it: the platform's data directory and the process's environment. */
    public ParleyDesktop() {
        this(DataDirectory::resolve, System::getenv);
    }

    /** The app over the data directory {@code dataDirectory} gives, reading its variables from {@code environment}. */
    ParleyDesktop(Supplier<Path> dataDirectory, UnaryOperator<String> environment) {
        this.dataDirectory = dataDirectory;
        this.environment = environment;
    }

    /**
     * Shows "Starting Parley…" while the settings are read, the embedded server (and its migrations) started when
     * it is needed and the local store opened, all off the FX thread; then the main window, or what went wrong.
     */
    @Override
    public void start(Stage stage) {
        MarkdownView.openLinksWith(getHostServices()::showDocument);
        applyTheme("dark".equalsIgnoreCase(environment.apply("PARLEY_THEME")));
        Path dataDir = dataDirectory.get();
        stage.getIcons().add(icon());
        Stage splash = splash();
        ui = new FxUiExecutor();
        ui.run(() -> open(dataDir), started -> {
            try {
                show(stage, started.client(), ui, started.serverLabel(), started.store(), started.settings(),
                        started.models(), MainView.ExportTarget.fileChooser());
            } catch (RuntimeException e) {
                showFailure(splash, dataDir, e);
                return;
            }
            splash.close(); // after the main window shows: closing the only window would end the app
        }, failure -> showFailure(splash, dataDir, failure));
    }

    /** What the main window needs, opened off the FX thread. */
    private record Started(ChatClient client, String serverLabel, SettingsStore store, Settings settings,
                           ModelSetup models) {
    }

    private Started open(Path dataDir) {
        SettingsStore store = new SettingsStore(dataDir);
        Settings settings = store.load();
        String theme = environment.apply("PARLEY_THEME");
        if (theme != null && !theme.isBlank()) {
            settings = settings.withDark("dark".equalsIgnoreCase(theme));
        }
        String configured = environment.apply("PARLEY_SERVER_URL");
        String serverUrl = configured != null && !configured.isBlank() ? configured : settings.serverUrl();
        String label;
        ModelSetup models;
        String launchSecret = null;
        if (serverUrl == null) {
            // The models the user set up: the built-in one, Ollama / LM Studio if they answer, the added providers.
            ProviderKeys keys = ProviderKeys.open(dataDir, environment.apply("PARLEY_KEYS"));
            LocalServers localServers = new LocalServers(LocalServers.DEFAULT);
            EmbeddedModels embeddedModels = new EmbeddedModels(keys, localModelTokenDelay());
            List<LocalServers.Found> found = localServers.find();
            EmbeddedModels.Built built = embeddedModels.build(settings, found);
            EmbeddedServer embedded = keep(EmbeddedServer.start(dataDir, built));
            models = ModelSetup.embedded(keys, localServers, embeddedModels, embedded::useModels);
            models.started(settings, found, built.problems());
            serverUrl = embedded.url();
            launchSecret = embedded.launchSecret();
            label = "embedded (" + serverUrl + ")";
        } else {
            models = ModelSetup.remote();
            label = serverUrl;
        }
        ChatClient client = ChatClient.open(ClientConfig.builder(dataDir, serverUrl).launchSecret(launchSecret)
                .build());
        keep(() -> {
            finishSignedOutReplies(client);
            client.close();
        });
        return new Started(client, label, store, settings, models);
    }

    /**
     * Waits (at most {@link #FINISH_REPLIES}; the window is gone by now) for the signed-out replies still being
     * written: the server keeps nothing of those, so closing their connection would lose them. A signed-in reply is
     * the server's to finish, and the next start fetches it.
     */
    private static void finishSignedOutReplies(ChatClient client) {
        CompletableFuture<?>[] signedOut = client.liveExchanges().stream()
                .filter(e -> e.userMessage().syncState() == SyncState.LOCAL).map(Exchange::outcome)
                .toArray(CompletableFuture<?>[]::new);
        if (signedOut.length == 0) {
            return;
        }
        LOG.info("finishing {} signed-out replies before Parley closes", signedOut.length);
        try {
            CompletableFuture.allOf(signedOut).get(FINISH_REPLIES.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("a signed-out reply did not finish before Parley closed: {}", e.toString());
        }
    }

    /** {@code PARLEY_LOCAL_MODEL_TOKEN_MS}: the built-in model's pause between pieces (none when unset). */
    private Duration localModelTokenDelay() {
        String value = environment.apply("PARLEY_LOCAL_MODEL_TOKEN_MS");
        if (value == null || value.isBlank()) {
            return Duration.ZERO;
        }
        try {
            return Duration.ofMillis(Long.parseLong(value.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("PARLEY_LOCAL_MODEL_TOKEN_MS must be a number of milliseconds, not '"
                    + value + "'", e);
        }
    }

    /** Hands {@code resource} to {@link #stop()}; closes it at once when the app stopped while it was opening. */
    private <T extends AutoCloseable> T keep(T resource) {
        synchronized (opened) {
            if (!stopped) {
                opened.push(resource);
                return resource;
            }
        }
        close(resource);
        throw new CancellationException("Parley was closed while it was starting");
    }

    private static Stage splash() {
        ProgressIndicator progress = new ProgressIndicator();
        progress.setId("startupProgress");
        Label status = new Label("Starting Parley…");
        status.setId("startupStatus");
        VBox box = new VBox(12, progress, status);
        box.setAlignment(Pos.CENTER);
        box.setPadding(new Insets(32));
        box.setPrefWidth(320);
        Stage splash = new Stage();
        splash.getIcons().add(icon());
        splash.setTitle("Starting Parley");
        splash.setScene(styled(new Scene(box)));
        splash.show();
        return splash;
    }

    /** Start-up failed: the splash says so and why, in place, until the user quits. Logged here, once. */
    private static void showFailure(Stage splash, Path dataDir, Throwable failure) {
        if (failure instanceof CancellationException) {
            return; // the app is stopping
        }
        LOG.error("Parley could not start (data directory {})", dataDir, failure);
        Label heading = new Label("Parley could not start");
        heading.setId("startupError");
        heading.getStyleClass().add("danger");
        Label reason = new Label(reason(failure));
        reason.setId("startupReason");
        reason.setWrapText(true);
        Label where = new Label("Data directory: " + dataDir.toAbsolutePath());
        where.getStyleClass().add("text-muted");
        where.setWrapText(true);
        Button quit = new Button("Quit");
        quit.setId("startupQuit");
        quit.setDefaultButton(true);
        quit.setOnAction(e -> Platform.exit());
        VBox box = new VBox(10, heading, reason, where, quit);
        box.setPadding(new Insets(24));
        box.setPrefWidth(460);
        splash.setTitle("Parley could not start");
        splash.setScene(styled(new Scene(box)));
        splash.sizeToScene();
    }

    /** The failure's own words: the first message along its causes, else what kind of failure it was. */
    private static String reason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage();
            }
        }
        return failure.getClass().getSimpleName();
    }

    /** The window icon, the same picture as the installed app's (desktop/src/main/packaging/DrawIcon.java). */
    private static Image icon() {
        return new Image(ParleyDesktop.class.getResource("parley.png").toExternalForm());
    }

    private static Scene styled(Scene scene) {
        scene.getStylesheets().add(ParleyDesktop.class.getResource("parley.css").toExternalForm());
        return scene;
    }

    /**
     * Builds and shows the main window over {@code client} with {@code settings} in use, saving changes to
     * {@code store}; used by UI tests, whose Settings leave models to the server. Call on the FX thread.
     */
    public static MainView show(Stage stage, ChatClient client, FxUiExecutor ui, String serverLabel,
                                SettingsStore store, Settings settings) {
        return show(stage, client, ui, serverLabel, store, settings, MainView.ExportTarget.fileChooser());
    }

    /** As {@link #show(Stage, ChatClient, FxUiExecutor, String, SettingsStore, Settings)}, choosing export files. */
    public static MainView show(Stage stage, ChatClient client, FxUiExecutor ui, String serverLabel,
                                SettingsStore store, Settings settings, MainView.ExportTarget exportTarget) {
        return show(stage, client, ui, serverLabel, store, settings, ModelSetup.remote(), exportTarget);
    }

    /**
     * Builds and shows the main window; Settings sets up models through {@code models} (the embedded server's, or
     * nothing for a remote server). Call on the FX thread.
     */
    public static MainView show(Stage stage, ChatClient client, FxUiExecutor ui, String serverLabel,
                                SettingsStore store, Settings settings, ModelSetup models,
                                MainView.ExportTarget exportTarget) {
        applyTheme(settings.dark());
        MainViewModel vm = new MainViewModel(client, ui, serverLabel);
        vm.applySettings(settings);
        AtomicReference<Settings> current = new AtomicReference<>(settings);
        Runnable openSettings = () -> {
            if (isOpen(stage, "Settings")) {
                return;
            }
            AtomicReference<SettingsViewModel> dialog = new AtomicReference<>();
            dialog.set(new SettingsViewModel(store, ui, current.get(),
                    vm.models().stream().map(ModelInfo::id).toList(), store.file().getParent(), models, saved -> {
                        Settings before = current.getAndSet(saved);
                        applyTheme(saved.dark());
                        vm.applySettings(saved);
                        vm.reloadModels(); // the embedded server took the new models as Settings saved
                        if (!Objects.equals(before.serverUrl(), saved.serverUrl())) {
                            vm.notify("Saved. Parley uses " + (saved.embedded() ? "the embedded server"
                                    : saved.serverUrl()) + " from its next start.");
                        } else if (!dialog.get().modelProblems().isEmpty()) {
                            vm.notify(String.join(" ", dialog.get().modelProblems()));
                        }
                    }));
            SettingsDialog.open(stage, dialog.get());
        };
        Runnable openSignIn = () -> {
            if (!isOpen(stage, "Sign in")) {
                SignInDialog.open(stage, new SignInViewModel(client, ui, serverLabel));
            }
        };
        MainView view = new MainView(vm, openSignIn, openSettings, exportTarget);
        if (!models.startProblems().isEmpty()) {
            vm.notify(String.join(" ", models.startProblems()));
        }
        Scene scene = styled(new Scene(view.root(), 1100, 720));
        stage.setTitle("Parley");
        // Without a live change stream the client pulls when the window comes back to the front (SPEC §6).
        stage.focusedProperty().addListener((obs, was, focused) -> {
            if (focused) {
                vm.windowFocused();
            }
        });
        stage.setScene(scene);
        stage.show();
        vm.start();
        view.focusComposer();
        return view;
    }

    /** Whether a dialog of {@code owner} with this title is showing: a second Ctrl+, does not open a second one. */
    private static boolean isOpen(Stage owner, String title) {
        return Stage.getWindows().stream().anyMatch(w -> w instanceof Stage s && s.getOwner() == owner
                && title.equals(s.getTitle()) && s.isShowing());
    }

    private static void applyTheme(boolean dark) {
        Application.setUserAgentStylesheet(dark ? new PrimerDark().getUserAgentStylesheet()
                : new PrimerLight().getUserAgentStylesheet());
    }

    /** Closes what start-up opened, the local store before the embedded server; called on the FX thread at exit. */
    @Override
    public void stop() {
        if (ui != null) {
            ui.close();
        }
        List<AutoCloseable> toClose;
        synchronized (opened) {
            stopped = true;
            toClose = List.copyOf(opened);
            opened.clear();
        }
        toClose.forEach(ParleyDesktop::close);
    }

    private static void close(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            LOG.warn("could not close {}", resource, e);
        }
    }
}
