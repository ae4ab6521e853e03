package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.LocalSession;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The end checks of the chaos run see each kind of violation, and none where there is none. */
class ChaosVerifierTest {
    @TempDir
    Path dir;

    String dbUrl;
    ParleyServer server;
    FaultInjectingProxy proxy;
    ChatClient client;
    LocalSession session;
    final Map<String, String> created = new HashMap<>();
    final Map<String, Set<String>> regenerated = new HashMap<>();

    @BeforeEach
    void start() throws Exception {
        dbUrl = "jdbc:sqlite:" + dir.resolve("server.db");
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(dbUrl).build());
        proxy = new FaultInjectingProxy(server.port(), 1, new FaultLog());
        client = ChatClient.open(SimulatedDevice.config(dir.resolve("device"), proxy.url()));
        client.signUp("ada@example.com", "correct horse battery");
        session = client.newSession("Checked");
        send("first");
        send("second");
        client.pullNow().get(20, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        client.close();
        proxy.close();
        server.close();
    }

    @Test
    void aConvergedRunHasNoFindings() throws Exception {
        ChaosVerifier.Findings findings = verify();

        assertThat(findings.messages()).isEqualTo(2);
        assertThat(findings.details()).isEmpty();
        assertThat(List.of(findings.lost(), findings.duplicated(), findings.analyticsMismatches(), findings.stuck(),
                findings.diverged())).containsOnly(0);
    }

    @Test
    void aMessageADeviceReportedButNobodyHasIsLost() throws Exception {
        created.put("01936f3c-8a00-7000-8000-00000000abcd", "device");

        assertThat(verify().lost()).isEqualTo(1);
    }

    @Test
    void oneTextStoredUnderTwoIdsIsDuplicated() throws Exception {
        send("first");

        assertThat(verify().duplicated()).isEqualTo(1);
    }

    @Test
    void aRegeneratedReplyIsASiblingAndAReplyNobodyAskedForIsDuplicated() throws Exception {
        send("Tell me twice");
        String reply = client.messages(session.id()).get(1).id();
        var again = client.regenerate(reply, null);
        regenerated.put(again.userMessage().id(), Set.of(again.replyId()));
        again.outcome().get(20, TimeUnit.SECONDS);
        assertThat(verify().duplicated()).as("a regenerate the devices asked for").isZero();

        regenerated.clear();
        assertThat(verify().duplicated()).as("the same reply, asked for by nobody").isEqualTo(1);
    }

    @Test
    void anUnsentRowIsStuck() throws Exception {
        proxy.offline(true);
        send("never delivered");

        assertThat(verify().stuck()).isPositive();
    }

    @Test
    void aTitleChangedOnlyOnTheServerIsDiverged() throws Exception {
        sql("UPDATE chat_sessions SET title = 'Changed behind the device''s back'");

        assertThat(verify().diverged()).isEqualTo(1);
    }

    @Test
    void aMiscountedUsageRowIsAnAnalyticsMismatch() throws Exception {
        sql("UPDATE user_usage_daily SET messages_sent = messages_sent + 5");

        assertThat(verify().analyticsMismatches()).isPositive();
    }

    private void send(String text) throws Exception {
        var exchange = client.send(session.id(), text, null);
        created.put(exchange.userMessage().id(), "device");
        exchange.outcome().get(20, TimeUnit.SECONDS);
    }

    private void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    private ChaosVerifier.Findings verify() throws Exception {
        String userId = client.account().orElseThrow().userId();
        return new ChaosVerifier().verify(dbUrl, List.of(new ChaosVerifier.DeviceStore("device", dir.resolve("device"),
                userId)), created, regenerated);
    }
}
