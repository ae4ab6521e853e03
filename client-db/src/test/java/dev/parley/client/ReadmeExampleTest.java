package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.UsageResponse;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The examples of docs/client-db.md, kept compiling and true. */
class ReadmeExampleTest {
    @TempDir
    Path dir;

    @Test
    void exampleFromTheDocsRuns() throws Exception {
        try (ParleyServer server = ParleyServer.start(ServerConfig.builder().port(0)
                .databaseUrl("jdbc:sqlite:" + dir.resolve("server.db")).build())) {
            String serverUrl = server.url();
            Path dataDir = dir.resolve("client");

            // --- example start
            try (ChatClient client = ChatClient.open(ClientConfig.builder(dataDir, serverUrl).build())) {
                client.addListener(new ChatListener() {
                    @Override
                    public void syncStatusChanged(SyncStatus status) {
                        System.out.println("sync: " + status.state() + ", unsent " + status.unsent());
                    }
                });

                // Signed out: written locally, answered anonymously, kept until a sign-in adopts it.
                LocalSession session = client.newSession("Trip planning");
                Exchange exchange = client.send(session.id(), "Three things to pack for Lisbon?", null);
                System.out.println("shown at once: " + exchange.userMessage().message().content());
                exchange.addListener(new ExchangeListener() {
                    @Override
                    public void textAppended(Exchange e, String piece) {
                        System.out.print(piece); // the reply as it is written (on the client's event thread)
                    }
                });
                Exchange.Outcome outcome = exchange.outcome().get(30, TimeUnit.SECONDS);
                System.out.println("reply: " + outcome.reply().message().content());

                // Sign up: the signed-out conversation is pushed once, then history is pulled.
                client.signUp("ada@example.com", "correct horse battery");
                System.out.println(client.syncStatus()); // SYNCED, unsent 0

                for (LocalMessage message : client.messages(session.id())) {
                    System.out.println(message.message().role() + " [" + message.syncState() + "] "
                            + message.message().content());
                }
            }
            // --- example end

            try (ChatClient reopened = ChatClient.open(ClientConfig.builder(dataDir, serverUrl).build())) {
                assertThat(reopened.account()).isPresent();
                assertThat(reopened.syncStatus().unsent()).isZero();
                assertThat(reopened.sessions(null, null, 10)).extracting(LocalSession::title)
                        .containsExactly("Trip planning");
                assertThat(reopened.messages(reopened.sessions(null, null, 10).get(0).id())).hasSize(2)
                        .allSatisfy(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));
            }
        }
    }

    @Test
    void settingsAndUsageExampleFromTheDocsRuns() throws Exception {
        try (ParleyServer server = ParleyServer.start(ServerConfig.builder().port(0)
                .databaseUrl("jdbc:sqlite:" + dir.resolve("server.db")).build())) {
            String serverUrl = server.url();
            Path dataDir = dir.resolve("client");
            UsageReport usage;
            LocalSession session;

            try (ChatClient client = ChatClient.open(ClientConfig.builder(dataDir, serverUrl).build())) {
                // --- settings example start
                client.setDefaultParameters(new ChatParameters(0.7, null)); // from the app's settings, at start
                session = client.newSession("Trip planning");
                client.setSystemPrompt(session.id(), "You are a concise travel agent."); // synced, like the title
                client.setChatParameters(session.id(), new ChatParameters(null, 800)); // this device only
                client.send(session.id(), "Three things to pack for Lisbon?", null).outcome().get(30, TimeUnit.SECONDS);
                client.lastModel(session.id()).ifPresent(model -> System.out.println("reselect " + model));

                // The server's figures when signed in and it answers, else this device's; blocks: off the UI thread.
                LocalDate today = LocalDate.now(ZoneOffset.UTC);
                usage = client.usage(today.minusDays(29), today);
                for (UsageResponse.UsageDay day : usage.days()) {
                    System.out.println(day.date() + ": " + day.messagesSent() + " sent, " + day.totalTokens()
                            + " tokens (" + usage.source() + ")");
                }
                // --- settings example end

                assertThat(client.lastModel(session.id())).contains("parley-local");
                assertThat(client.chatParameters(session.id())).isEqualTo(new ChatParameters(null, 800));
            }

            assertThat(usage.source()).isEqualTo(UsageReport.Source.THIS_DEVICE);
            assertThat(usage.days()).singleElement().satisfies(day -> assertThat(day.messagesSent()).isEqualTo(1));
            try (ChatClient reopened = ChatClient.open(ClientConfig.builder(dataDir, serverUrl).build())) {
                assertThat(reopened.session(session.id()).orElseThrow().systemPrompt())
                        .isEqualTo("You are a concise travel agent.");
            }
        }
    }
}
