package dev.parley.desktop;

import atlantafx.base.theme.PrimerDark;
import atlantafx.base.theme.PrimerLight;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.DataDirectory;
import dev.parley.desktop.settings.Settings;
import dev.parley.desktop.settings.SettingsStore;
import dev.parley.desktop.view.MainView;
import dev.parley.desktop.view.SettingsDialog;
import dev.parley.desktop.view.SignInDialog;
import dev.parley.desktop.viewmodel.MainViewModel;
import dev.parley.desktop.viewmodel.SettingsViewModel;
import dev.parley.desktop.viewmodel.SignInViewModel;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import javafx.application.Application;
import javafx.scene.Scene;
import javafx.stage.Stage;

/**
 * The Parley desktop app. The server comes from {@code PARLEY_SERVER_URL}, else from Settings; with neither it
 * starts an embedded server on a loopback port, so a first run needs no setup, and stops it on exit.
 * {@code PARLEY_THEME=dark|light} overrides the saved theme.
 */
public final class ParleyDesktop extends Application {
    private EmbeddedServer embedded;
    private ChatClient client;
    private FxUiExecutor ui;

    @Override
    public void start(Stage stage) {
        Path dataDir = DataDirectory.resolve();
        SettingsStore store = new SettingsStore(dataDir);
        Settings settings = store.load();
        String theme = System.getenv("PARLEY_THEME");
        if (theme != null && !theme.isBlank()) {
            settings = new Settings(settings.serverUrl(), settings.defaultModel(), "dark".equalsIgnoreCase(theme));
        }
        String configured = System.getenv("PARLEY_SERVER_URL");
        String serverUrl = configured != null && !configured.isBlank() ? configured : settings.serverUrl();
        String label;
        if (serverUrl == null) {
            embedded = EmbeddedServer.start(dataDir);
            serverUrl = embedded.url();
            label = "embedded (" + serverUrl + ")";
        } else {
            label = serverUrl;
        }
        client = ChatClient.open(ClientConfig.builder(dataDir, serverUrl).build());
        ui = new FxUiExecutor();
        show(stage, client, ui, label, store, settings);
    }

    /**
     * Builds and shows the main window over {@code client} with {@code settings} in use, saving changes to
     * {@code store}; used by the app and by UI tests. Call on the FX thread.
     */
    public static MainView show(Stage stage, ChatClient client, FxUiExecutor ui, String serverLabel,
                                SettingsStore store, Settings settings) {
        return show(stage, client, ui, serverLabel, store, settings, MainView.ExportTarget.fileChooser());
    }

    /** As {@link #show(Stage, ChatClient, FxUiExecutor, String, SettingsStore, Settings)}, choosing export files. */
    public static MainView show(Stage stage, ChatClient client, FxUiExecutor ui, String serverLabel,
                                SettingsStore store, Settings settings, MainView.ExportTarget exportTarget) {
        applyTheme(settings.dark());
        MainViewModel vm = new MainViewModel(client, ui, serverLabel);
        vm.applySettings(settings);
        AtomicReference<Settings> current = new AtomicReference<>(settings);
        Runnable openSettings = () -> {
            if (isOpen(stage, "Settings")) {
                return;
            }
            SettingsDialog.open(stage, new SettingsViewModel(store, ui, current.get(),
                    vm.models().stream().map(ModelInfo::id).toList(), store.file().getParent(), saved -> {
                        Settings before = current.getAndSet(saved);
                        applyTheme(saved.dark());
                        vm.applySettings(saved);
                        if (!Objects.equals(before.serverUrl(), saved.serverUrl())) {
                            vm.notify("Saved. Parley uses " + (saved.embedded() ? "the embedded server"
                                    : saved.serverUrl()) + " from its next start.");
                        }
                    }));
        };
        Runnable openSignIn = () -> {
            if (!isOpen(stage, "Sign in")) {
                SignInDialog.open(stage, new SignInViewModel(client, ui));
            }
        };
        MainView view = new MainView(vm, openSignIn, openSettings, exportTarget);
        Scene scene = new Scene(view.root(), 1100, 720);
        scene.getStylesheets().add(ParleyDesktop.class.getResource("parley.css").toExternalForm());
        stage.setTitle("Parley");
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

    @Override
    public void stop() {
        if (ui != null) {
            ui.close();
        }
        if (client != null) {
            client.close();
        }
        if (embedded != null) {
            embedded.close();
        }
    }
}
