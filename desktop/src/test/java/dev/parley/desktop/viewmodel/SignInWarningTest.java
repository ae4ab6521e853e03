package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SPEC §8: before a password goes over plain http:// to another machine, the sign-in form warns and sends it only
 * on a second click. The client talks to a real local server; the address the form judges is the one given.
 */
class SignInWarningTest {
    @TempDir
    Path dir;

    ParleyServer server;
    ChatClient client;
    QueuedUi ui;

    @BeforeEach
    void start() {
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url())
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200)).build());
        ui = new QueuedUi();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void aPasswordForPlainHttpToAnotherMachineWaitsForASecondClick() {
        SignInViewModel signIn = new SignInViewModel(client, ui, "http://chat.example.org:8080");
        signIn.emailProperty().set("ada@example.com");
        signIn.passwordProperty().set("correct horse battery");

        signIn.signUp();

        assertThat(signIn.warningProperty().get()).contains("chat.example.org", "not encrypted");
        assertThat(signIn.doneProperty().get()).isFalse();
        assertThat(client.account()).as("nothing was sent yet").isEmpty();
        assertThat(signIn.passwordProperty().get()).isEqualTo("correct horse battery");

        signIn.signUp();

        assertThat(signIn.doneProperty().get()).isTrue();
        assertThat(client.account()).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://chat.example.org", "http://127.0.0.1:4711", "http://localhost:8080",
            "http://[::1]:8080", "embedded (http://127.0.0.1:4711)"})
    void aSafeConnectionSignsInAtTheFirstClick(String address) {
        SignInViewModel signIn = new SignInViewModel(client, ui, address);
        signIn.emailProperty().set("bob@example.com");
        signIn.passwordProperty().set("correct horse battery");

        signIn.signUp();

        assertThat(signIn.warningProperty().get()).isEmpty();
        assertThat(signIn.doneProperty().get()).isTrue();
    }

    @Test
    void anInvalidFormIsReportedBeforeAnyWarning() {
        SignInViewModel signIn = new SignInViewModel(client, ui, "http://192.168.1.20:8080");
        signIn.emailProperty().set("not an address");
        signIn.passwordProperty().set("correct horse battery");

        signIn.signIn();

        assertThat(signIn.errorProperty().get()).contains("e-mail address");
        assertThat(signIn.warningProperty().get()).isEmpty();
    }
}
