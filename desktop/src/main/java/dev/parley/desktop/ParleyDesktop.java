package dev.parley.desktop;

import atlantafx.base.theme.PrimerDark;
import atlantafx.base.theme.PrimerLight;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.DataDirectory;
import dev.parley.desktop.view.MainView;
import dev.parley.desktop.view.SignInDialog;
import dev.parley.desktop.viewmodel.MainViewModel;
import dev.parley.desktop.viewmodel.SignInViewModel;
import java.nio.file.Path;
import javafx.application.Application;
import javafx.scene.Scene;
import javafx.stage.Stage;

/**
 * The Parley desktop app. With no server configured ({@code PARLEY_SERVER_URL} unset) it starts an embedded server
 * on a loopback port, so a first run needs no setup; it stops it on exit.
 */
public final class ParleyDesktop extends Application {
    private EmbeddedServer embedded;
    private ChatClient client;
    private FxUiExecutor ui;

    @Override
    public void start(Stage stage) {
        Path dataDir = DataDirectory.resolve();
        String configured = System.getenv("PARLEY_SERVER_URL");
        String serverUrl;
        String label;
        if (configured == null || configured.isBlank()) {
            embedded = EmbeddedServer.start(dataDir);
            serverUrl = embedded.url();
            label = "embedded (" + serverUrl + ")";
        } else {
            serverUrl = configured;
            label = configured;
        }
        client = ChatClient.open(ClientConfig.builder(dataDir, serverUrl).build());
        ui = new FxUiExecutor();
        boolean dark = "dark".equalsIgnoreCase(System.getenv("PARLEY_THEME"));
        show(stage, client, ui, label, dark);
    }

    /** Builds and shows the main window over {@code client}; used by the app and by UI tests. */
    public static MainView show(Stage stage, ChatClient client, FxUiExecutor ui, String serverLabel, boolean dark) {
        Application.setUserAgentStylesheet(dark ? new PrimerDark().getUserAgentStylesheet()
                : new PrimerLight().getUserAgentStylesheet());
        MainViewModel vm = new MainViewModel(client, ui, serverLabel);
        MainView[] view = new MainView[1];
        view[0] = new MainView(vm, () -> SignInDialog.open(stage, new SignInViewModel(client, ui)));
        Scene scene = new Scene(view[0].root(), 1100, 720);
        scene.getStylesheets().add(ParleyDesktop.class.getResource("parley.css").toExternalForm());
        stage.setTitle("Parley");
        stage.setScene(scene);
        stage.show();
        vm.start();
        view[0].focusComposer();
        return view[0];
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
