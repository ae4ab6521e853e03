package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Message;
import dev.parley.protocol.RowResult;
import dev.parley.server.cli.Main;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code parley verify-analytics --db URL} (SPEC §4.1, §7): exit 0 and "no mismatches" on a database written only by
 * the server or by admin SQL that the counting triggers see; exit 1 listing every counter that was corrupted behind
 * the triggers' back; exit 2 when the URL is no Parley database.
 */
class VerifyAnalyticsCliTest {
    /** Holds the database with real traffic, written once; each test corrupts its own copy. */
    @TempDir
    static Path template;

    @TempDir
    Path dir;

    private static String userId;
    private static String liveSessionId;
    private static String failedMessageId;
    private static String assistantMessageId;
    private static String templateUrl;

    private String dbUrl;

    /** Real traffic through the API: chats that succeed, fail, are replayed and retried, pushes and a delete. */
    @BeforeAll
    static void writeRealTraffic() throws SQLException {
        try (TestServer server = TestServer.start(template)) {
            templateUrl = server.dbUrl;
            var alice = server.signUp("alice@example.com");
            String token = alice.accessToken();
            userId = alice.user().id();

            liveSessionId = TestIds.next();
            String answered = TestIds.next();
            assertThat(server.chat(token, liveSessionId, answered, "What is SQLite?").status()).isEqualTo(200);
            assertThat(server.chat(token, liveSessionId, answered, "What is SQLite?").json().path("replayed")
                    .asBoolean()).isTrue();

            String retried = TestIds.next();
            server.model.failNext(new ModelException(ErrorCode.UPSTREAM_ERROR, "x"));
            assertThat(server.chat(token, liveSessionId, retried, "And WAL mode?").status()).isEqualTo(502);
            assertThat(server.chat(token, liveSessionId, retried, "And WAL mode?").status()).isEqualTo(200);

            failedMessageId = TestIds.next();
            server.model.failNext(new ModelException(ErrorCode.UPSTREAM_ERROR, "x"));
            assertThat(server.chat(token, liveSessionId, failedMessageId, "Still failing?").status()).isEqualTo(502);

            Instant yesterday = server.now().minusSeconds(86_400);
            String pushedSessionId = TestIds.next();
            Message question = TestServer.userMessage(pushedSessionId, "written offline", 4, yesterday);
            Message reply = TestServer.assistantReply(question, "answered offline", 6, 120);
            assistantMessageId = reply.id();
            var pushed = server.push(token, List.of(TestServer.session(pushedSessionId, "Offline", yesterday)),
                    List.of(question, reply,
                            TestServer.failedUserMessage(pushedSessionId, "lost", yesterday, "timeout")));
            assertThat(pushed.messages()).allMatch(RowResult::accepted);
            server.push(token, List.of(), List.of(question, reply));

            String doomedSessionId = TestIds.next();
            assertThat(server.chat(token, doomedSessionId, TestIds.next(), "Forget me").status()).isEqualTo(200);
            assertThat(server.api.delete("/api/chat/sessions/" + doomedSessionId, token).status()).isEqualTo(204);

            assertThat(server.mismatches()).isEmpty();
        }
    }

    @BeforeEach
    void copyTheDatabase() {
        dbUrl = TestDatabases.copyInto(templateUrl, dir);
    }

    @Test
    void reportsNoMismatchesOnADatabaseWrittenByTheServer() {
        Run run = verify(dbUrl);

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("no mismatches").doesNotContain("MISMATCH");
    }

    @Test
    void staticRunEntryPointExitsZeroOnExactAnalytics() {
        assertThat(Main.run("verify-analytics", "--db", dbUrl)).isZero();
    }

    @Test
    void inflatedMessagesSentIsListedPerDayWithBothValues() throws SQLException {
        List<List<String>> days = rows("SELECT usage_date, messages_sent FROM user_usage_daily WHERE user_id = '"
                + userId + "' ORDER BY usage_date");
        assertThat(days).hasSizeGreaterThanOrEqualTo(2);

        execute("UPDATE user_usage_daily SET messages_sent = messages_sent + 1");
        Run run = verify(dbUrl);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        for (List<String> day : days) {
            long recomputed = Long.parseLong(day.get(1));
            assertThat(line(run, "date=" + day.get(0) + " messages_sent:"))
                    .contains("user=" + userId)
                    .contains("stored " + (recomputed + 1))
                    .contains("recomputed " + recomputed);
        }
        assertThat(mismatchLines(run)).hasSize(days.size());
        assertThat(run.out()).contains(days.size() + " mismatch").doesNotContain("no mismatches");
    }

    @Test
    void corruptedSessionMessageCountIsListedPerSessionWithBothValues() throws SQLException {
        List<List<String>> sessions = rows("SELECT id, message_count FROM chat_sessions ORDER BY id");
        assertThat(sessions).extracting(s -> s.get(1)).doesNotContain("7");

        execute("UPDATE chat_sessions SET message_count = 7");
        Run run = verify(dbUrl);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        for (List<String> session : sessions) {
            assertThat(line(run, "session=" + session.get(0) + " message_count:"))
                    .contains("stored 7")
                    .contains("recomputed " + session.get(1));
        }
        assertThat(mismatchLines(run)).hasSize(sessions.size());
    }

    @Test
    void corruptedModelsUsedIsListedPerDayAndModelWithBothValues() throws SQLException {
        List<List<String>> days = rows("SELECT usage_date, models_used FROM user_usage_daily"
                + " WHERE user_id = '" + userId + "' ORDER BY usage_date");

        execute("UPDATE user_usage_daily SET models_used = '{\"parley-local\":99}'");
        Run run = verify(dbUrl);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        for (List<String> day : days) {
            long recomputed = TestServer.counts(day.get(1)).getOrDefault("parley-local", 0L);
            assertThat(line(run, "date=" + day.get(0) + " models_used.parley-local:"))
                    .contains("stored 99")
                    .contains("recomputed " + recomputed);
        }
        assertThat(mismatchLines(run)).hasSize(days.size());
    }

    @Test
    void bogusUsageRowIsListedFieldByField() throws SQLException {
        execute("INSERT INTO user_usage_daily (user_id, usage_date, messages_sent, messages_received, input_tokens,"
                + " output_tokens, total_tokens, models_used, sessions_created, generation_ms, updated_at)"
                + " VALUES ('" + userId + "', '2001-02-03', 5, 4, 30, 20, 50, '{\"ghost-model\":9}', 2, 700, 0)");
        Run run = verify(dbUrl);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
        assertThat(line(run, "date=2001-02-03 messages_sent:")).contains("stored 5", "recomputed 0");
        assertThat(line(run, "date=2001-02-03 messages_received:")).contains("stored 4", "recomputed 0");
        assertThat(line(run, "date=2001-02-03 input_tokens:")).contains("stored 30", "recomputed 0");
        assertThat(line(run, "date=2001-02-03 output_tokens:")).contains("stored 20", "recomputed 0");
        assertThat(line(run, "date=2001-02-03 total_tokens:")).contains("stored 50", "recomputed 0");
        assertThat(line(run, "date=2001-02-03 sessions_created:")).contains("stored 2", "recomputed 0");
        assertThat(line(run, "date=2001-02-03 generation_ms:")).contains("stored 700", "recomputed 0");
        assertThat(line(run, "date=2001-02-03 models_used.ghost-model:")).contains("stored 9", "recomputed 0");
        assertThat(mismatchLines(run)).hasSize(8).allMatch(l -> l.contains("user=" + userId));
    }

    @Test
    void adminInsertOfASuccessfulUserRowIsCountedByTheTriggers() throws SQLException {
        long sentBefore = queryLong("SELECT sum(messages_sent) FROM user_usage_daily");
        long inputBefore = queryLong("SELECT sum(input_tokens) FROM user_usage_daily");
        long now = System.currentTimeMillis();

        execute("INSERT INTO chat_messages (id, session_id, user_id, role, content, model, input_tokens, output_tokens,"
                + " total_tokens, message_timestamp, created_at, updated_at) VALUES ('" + TestIds.next() + "', '"
                + liveSessionId + "', '" + userId + "', 'user', 'typed by an operator', 'parley-local', 11, 0, 11, "
                + now + ", " + now + ", " + now + ")");
        Run run = verify(dbUrl);

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(sentBefore + 1);
        assertThat(queryLong("SELECT sum(input_tokens) FROM user_usage_daily")).isEqualTo(inputBefore + 11);
    }

    @Test
    void adminUpdateOfAFailedRowToSuccessIsCountedOnce() throws SQLException {
        long sentBefore = queryLong("SELECT sum(messages_sent) FROM user_usage_daily");
        long inputBefore = queryLong("SELECT sum(input_tokens) FROM user_usage_daily");
        long countBefore = queryLong("SELECT message_count FROM chat_sessions WHERE id = '" + liveSessionId + "'");

        execute("UPDATE chat_messages SET error_message = NULL, input_tokens = 5, total_tokens = 5 WHERE id = '"
                + failedMessageId + "'");
        Run run = verify(dbUrl);

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(queryLong("SELECT sum(messages_sent) FROM user_usage_daily")).isEqualTo(sentBefore + 1);
        assertThat(queryLong("SELECT sum(input_tokens) FROM user_usage_daily")).isEqualTo(inputBefore + 5);
        assertThat(queryLong("SELECT message_count FROM chat_sessions WHERE id = '" + liveSessionId + "'"))
                .isEqualTo(countBefore + 1);
    }

    @Test
    void adminDeleteOfAMessageIsSubtractedByTheTriggers() throws SQLException {
        long receivedBefore = queryLong("SELECT sum(messages_received) FROM user_usage_daily");
        long outputBefore = queryLong("SELECT sum(output_tokens) FROM user_usage_daily");

        execute("DELETE FROM chat_messages WHERE id = '" + assistantMessageId + "'");
        Run run = verify(dbUrl);

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(queryLong("SELECT sum(messages_received) FROM user_usage_daily")).isEqualTo(receivedBefore - 1);
        assertThat(queryLong("SELECT sum(output_tokens) FROM user_usage_daily")).isEqualTo(outputBefore - 6);
    }

    @Test
    void databaseWithoutTheParleySchemaExitsTwoWithAMessage() {
        String url = TestDatabases.emptyDatabase(dir, "empty");

        Run run = verify(url);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains(url);
        assertThat(run.out()).doesNotContain("no mismatches");
    }

    @Test
    void unreachableDatabaseExitsTwoWithAMessageThatKeepsThePasswordOut() {
        String url = "jdbc:postgresql://127.0.0.1:1/parley?user=parley&password=s3cret&connectTimeout=5";

        Run run = verify(url);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains("jdbc:postgresql://127.0.0.1:1/parley?user=parley&password=***")
                .doesNotContain("s3cret");
    }

    @Test
    @Tag("sqlite-only") // a file path that is no database
    void directoryInsteadOfADatabaseExitsTwoWithAMessage() throws IOException {
        Path notADatabase = Files.createDirectory(dir.resolve("a-directory"));
        String url = "jdbc:sqlite:" + notADatabase;

        Run run = verify(url);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains(url);
        assertThat(run.out()).doesNotContain("no mismatches");
    }

    @Test
    @Tag("sqlite-only") // a file path that is no database
    void fileThatIsNoDatabaseExitsTwoWithAMessage() throws IOException {
        Path notADatabase = Files.writeString(dir.resolve("notes.txt"),
                "these are notes, not a database\n".repeat(200), StandardCharsets.UTF_8);
        String url = "jdbc:sqlite:" + notADatabase;

        Run run = verify(url);

        assertThat(run.exitCode()).as(run.toString()).isEqualTo(2);
        assertThat(run.err()).contains(url);
        assertThat(run.out()).doesNotContain("no mismatches");
        assertThat(Files.readString(notADatabase)).startsWith("these are notes");
    }

    // ----------------------------------------------------------------- helpers

    /** One run of the command line with its exit code and what it printed. */
    private record Run(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\nout:\n" + out + "\nerr:\n" + err;
        }
    }

    private static Run verify(String url) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exitCode = new CommandLine(new Main()).setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true)).execute("verify-analytics", "--db", url);
        return new Run(exitCode, out.toString(), err.toString());
    }

    private static List<String> mismatchLines(Run run) {
        return run.out().lines().filter(l -> l.startsWith("MISMATCH")).collect(Collectors.toList());
    }

    /** The one mismatch line that mentions {@code fragment}. */
    private static String line(Run run, String fragment) {
        List<String> matching = mismatchLines(run).stream().filter(l -> l.contains(fragment)).toList();
        assertThat(matching).as("mismatch lines with '%s' in:%n%s", fragment, run.out()).hasSize(1);
        return matching.get(0);
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private long queryLong(String sql) throws SQLException {
        List<List<String>> rows = rows(sql);
        assertThat(rows).as(sql).isNotEmpty();
        return Long.parseLong(rows.get(0).get(0));
    }

    private List<List<String>> rows(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(dbUrl); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            int columns = rs.getMetaData().getColumnCount();
            List<List<String>> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>(columns);
                for (int i = 1; i <= columns; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        }
    }
}
