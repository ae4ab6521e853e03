package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chaos.FaultInjectingProxy.Faults;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.IOException;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each fault of the proxy does what it says: a lost acknowledgement reaches the server, a cut request does not. */
class FaultInjectingProxyTest {
    @TempDir
    Path dir;

    String dbUrl;
    ParleyServer server;
    FaultLog log = new FaultLog();
    FaultInjectingProxy proxy;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        dbUrl = "jdbc:sqlite:" + dir.resolve("server.db");
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl(dbUrl).build());
        proxy = new FaultInjectingProxy(server.port(), 42, log);
    }

    @AfterEach
    void stop() {
        proxy.close();
        server.close();
    }

    @Test
    void withoutFaultsRequestsPassBothWays() throws Exception {
        assertThat(signUp("pass@example.com").statusCode()).isEqualTo(201);
        assertThat(log.total()).isZero();
    }

    @Test
    void lostAcknowledgementReachesTheServerButNeverTheClient() throws Exception {
        proxy.faults(new Faults(0, 0, 1.0, 0, 0));

        assertThatThrownBy(() -> signUp("lost@example.com")).isInstanceOf(IOException.class);

        assertThat(users()).isEqualTo(1);
        assertThat(log.count(FaultLog.LOST_ACK)).isPositive();
    }

    @Test
    void requestCutBeforeItArrivedDoesNothingOnTheServer() throws Exception {
        proxy.faults(new Faults(0, 1.0, 0, 0, 0));

        assertThatThrownBy(() -> signUp("cut@example.com")).isInstanceOf(IOException.class);

        assertThat(users()).isZero();
        assertThat(log.count(FaultLog.CUT_BEFORE_REQUEST)).isPositive();
    }

    @Test
    void resetAndOfflineRefuseTheConnection() throws Exception {
        proxy.faults(new Faults(1.0, 0, 0, 0, 0));
        assertThatThrownBy(() -> signUp("reset@example.com")).isInstanceOf(IOException.class);
        assertThat(log.count(FaultLog.RESET)).isPositive();

        proxy.faults(Faults.NONE);
        proxy.offline(true);
        assertThatThrownBy(() -> signUp("offline@example.com")).isInstanceOf(IOException.class);
        proxy.offline(false);
        assertThat(signUp("back@example.com").statusCode()).isEqualTo(201);
        assertThat(users()).isEqualTo(1);
    }

    @Test
    void delaysSlowTheAnswerWithoutBreakingIt() throws Exception {
        proxy.faults(new Faults(0, 0, 0, 1.0, 200));

        assertThat(signUp("slow@example.com").statusCode()).isEqualTo(201);
        assertThat(log.count(FaultLog.DELAY)).isPositive();
    }

    private HttpResponse<String> signUp(String email) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/api/auth/signup"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"email\":\"" + email
                        + "\",\"password\":\"correct horse battery\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private long users() throws Exception {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM users")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
