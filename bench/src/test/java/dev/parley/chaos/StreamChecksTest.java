package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.parley.chaos.DeviceActions.User;
import dev.parley.chaos.StreamingUser.Plan;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.FinishReason;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming side of the chaos run on two real server processes sharing one SQLite file, without faults: a
 * stream read whole, dropped and re-attached on the other process, stopped, or cut by a server that closes is
 * followed to its end and passes {@link StreamChecks}; and each check sees its violation.
 */
class StreamChecksTest {
    private static final User ADA = new User("ada@example.com", "correct horse battery");
    private static final TimeBasedEpochGenerator IDS = Generators.timeBasedEpochGenerator();

    @TempDir
    Path dir;

    String dbUrl;
    final List<ParleyServer> servers = new ArrayList<>();
    final Ledger ledger = new Ledger();
    DirectChat chat;
    StreamingUser user;
    String sessionId = IDS.generate().toString();

    @BeforeEach
    void start() throws Exception {
        dbUrl = "jdbc:sqlite:" + dir.resolve("server.db");
        servers.add(server(0));
        servers.add(server(0));
        chat = new DirectChat(servers.stream().map(ParleyServer::url).toList());
        user = new StreamingUser("device", chat, ledger);
        HttpResponse<String> signUp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(servers.get(0).url() + "/api/auth/signup"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"email\":\"" + ADA.email() + "\",\"password\":\""
                        + ADA.password() + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(signUp.statusCode()).isEqualTo(201);
    }

    /** A server whose model streams a word every 40 ms and whose claims lapse after a second. */
    private ParleyServer server(int port) {
        return ParleyServer.start(ServerConfig.builder().port(port).databaseUrl(dbUrl)
                .modelProvider(new FlakyModel(1, 0.0, 0, 40, 40, new FaultLog()))
                .claimTtl(Duration.ofSeconds(1))
                .build());
    }

    @AfterEach
    void stop() {
        chat.close();
        servers.forEach(ParleyServer::close);
    }

    @Test
    void aStreamReadToItsEndMatchesWhatIsStored() throws Exception {
        StreamedExchange x = user.stream(ADA, request("Read me whole"), 0, Plan.follow());

        assertThat(x.state()).isEqualTo(StreamedExchange.State.ANSWERED);
        assertThat(x.answers()).singleElement().satisfies(a -> assertThat(a.streamed())
                .isEqualTo(a.response().assistantMessage().content()).isNotEmpty());
        StreamChecks.Findings findings = verify();
        assertThat(findings.details()).isEmpty();
        assertThat(findings.stats().streams()).isEqualTo(1);
    }

    @Test
    void aStreamDroppedAndReattachedOnTheOtherServerHasEveryCharacterOnce() throws Exception {
        StreamedExchange x = user.stream(ADA, request("Drop me and come back"), 0, new Plan(2, true, -1, 0));

        assertThat(x.dropped()).isTrue();
        assertThat(x.reattachedCount()).isEqualTo(1);
        assertThat(x.state()).isEqualTo(StreamedExchange.State.ANSWERED);
        assertThat(x.answers().get(0).streamed()).isEqualTo(storedReplyOf(x.messageId));
        StreamChecks.Findings findings = verify();
        assertThat(findings.details()).isEmpty();
        assertThat(findings.stats().dropped()).isEqualTo(1);
        assertThat(findings.stats().reattached()).isEqualTo(1);
    }

    @Test
    void aStoppedReplyIsStoredAsStopped() throws Exception {
        StreamedExchange x = user.stream(ADA, request("Stop me after a word or two"), 0, new Plan(-1, false, 2, 1));

        assertThat(x.stopAnswers()).singleElement().satisfies(r -> assertThat(r.assistantMessage().finishReason())
                .isEqualTo(FinishReason.STOPPED));
        StreamChecks.Findings findings = verify();
        assertThat(findings.details()).isEmpty();
        assertThat(findings.stats().stopped()).isEqualTo(1);

        sql("UPDATE chat_messages SET finish_reason = 'stop' WHERE role = 'assistant'");

        assertThat(verify().diverged()).isPositive();
    }

    @Test
    void aGenerationCutByAServerThatClosesIsSentAgainAndLeavesNoClaim() throws Exception {
        StreamedExchange x = user.stream(ADA, request("Cut me off"), 0, new Plan(2, false, -1, 0));
        servers.remove(0).close(); // its generation stores nothing; its claim lapses after a second
        assertThat(claims()).isEqualTo(1);
        assertThat(verify().stuck()).as("an unfinished exchange and its claim").isEqualTo(2);

        servers.add(0, server(0));
        DirectChat again = new DirectChat(servers.stream().map(ParleyServer::url).toList());
        try {
            assertThat(new StreamingUser("device", again, ledger).resolve(x, System.nanoTime() + 30_000_000_000L))
                    .isTrue();
        } finally {
            again.close();
        }

        assertThat(x.interruptedCount()).isPositive();
        assertThat(x.resentCount()).isPositive();
        assertThat(claims()).isZero();
        StreamChecks.Findings findings = verify();
        assertThat(findings.details()).isEmpty();
        assertThat(List.of(findings.lost(), findings.stuck(), findings.diverged())).containsOnly(0);
    }

    @Test
    void aReplyChangedBehindTheClientsBackIsDiverged() throws Exception {
        user.stream(ADA, request("Keep my words"), 0, Plan.follow());

        sql("UPDATE chat_messages SET content = content || ' (edited)' WHERE role = 'assistant'");

        assertThat(verify().diverged()).isPositive();
    }

    @Test
    void aDeltaWhoseIdIsNotTheLengthSoFarIsDiverged() throws Exception {
        StreamedExchange x = user.stream(ADA, request("Count my characters"), 0, Plan.follow());

        x.newView();
        x.delta("7", "abc");

        assertThat(verify().diverged()).isPositive();
    }

    @Test
    void anAnsweredMessageTheServerDoesNotHaveIsLost() throws Exception {
        StreamedExchange x = user.stream(ADA, request("Forget me"), 0, Plan.follow());

        sql("DELETE FROM chat_messages WHERE id = '" + x.messageId + "'");

        assertThat(verify().lost()).isPositive();
    }

    @Test
    void everyLeftoverClaimIsStuckAndOneInADeletedConversationIsAlsoNamedOrphaned() throws Exception {
        sql("INSERT INTO chat_sessions (id, user_id, title, created_at, updated_at, deleted_at)"
                + " SELECT 'gone', id, 'Gone', 0, 0, 1 FROM users");
        sql("INSERT INTO chat_claims (message_id, claim_token, user_id, reply_id, holder, start_event, claimed_at,"
                + " expires_at) SELECT 'm1', 't1', id, 'r1', 'h', '{\"session\":{\"id\":\"gone\"}}', 0, 1 FROM users");
        sql("INSERT INTO chat_claims (message_id, claim_token, user_id, reply_id, holder, start_event, claimed_at,"
                + " expires_at) SELECT 'm2', 't2', id, 'r2', 'h', '{\"session\":{\"id\":\"live\"}}', 0, 1 FROM users");

        StreamChecks.Findings findings = verify();

        assertThat(findings.orphanedClaims()).singleElement().asString().contains("m1");
        assertThat(findings.stuck()).isEqualTo(2);
    }

    private ChatRequest request(String text) {
        return new ChatRequest(sessionId, IDS.generate().toString(), text, null,
                Instant.now().truncatedTo(ChronoUnit.MILLIS), "Streams", List.of());
    }

    private StreamChecks.Findings verify() throws Exception {
        return new StreamChecks().verify(dbUrl, ledger.streamed(), ledger.regenerated());
    }

    private String storedReplyOf(String messageId) throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT content FROM chat_messages WHERE user_message_id = '" + messageId
                     + "'")) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    private long claims() throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM chat_claims")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }
}
