package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.client.testing.ChildJvm;
import dev.parley.client.testing.ExportFiles;
import dev.parley.protocol.Ids;
import dev.parley.protocol.Message;
import dev.parley.protocol.Origin;
import dev.parley.protocol.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Importing a ChatGPT data export into the local store, signed out: every conversation with every branch, what is
 * not a message left out and counted, ids derived from the export's, a second import a no-op, malformed files
 * refused before anything is written, a cancel that keeps whole conversations.
 */
class HistoryImportTest {
    @TempDir
    Path dir;

    @Test
    void everyBranchOfEveryConversationIsImportedAndWhatIsNotAMessageIsLeftOut() throws Exception {
        try (ChatClient client = offline("laptop")) {
            ImportSummary summary = client.importHistory(ExportFiles.realistic(dir), ImportListener.NONE);

            assertThat(summary).isEqualTo(new ImportSummary("chatgpt", 3, 3, 12, 0, 0, 7, 2, false));
            List<LocalSession> sessions = client.sessions(null, null, 10);
            assertThat(sessions).extracting(LocalSession::title)
                    .containsExactly("数据库 — Ελληνικά 🚀", "Imported chat", "Trip to Lisbon 🇵🇹");
            assertThat(sessions).allSatisfy(s -> assertThat(s.syncState()).isEqualTo(SyncState.LOCAL));

            LocalSession lisbon = sessions.get(2);
            assertThat(lisbon.createdAt()).isEqualTo(Instant.ofEpochMilli(1_710_000_000_250L));
            List<Message> trip = rows(client.allMessages(lisbon.id()));
            assertThat(trip).hasSize(7);
            Message plan = starting(trip, "Plan three days");
            Message first = starting(trip, "Day 1: Alfama");
            Message regenerated = starting(trip, "Here is a better plan");
            assertThat(plan.parentId()).isNull();
            assertThat(plan.messageTimestamp()).isEqualTo(Instant.ofEpochMilli(1_710_000_001_500L));
            assertThat(first.userMessageId()).isEqualTo(plan.id());
            assertThat(regenerated.userMessageId()).as("a regenerated reply: a sibling").isEqualTo(plan.id());
            assertThat(first.model()).isEqualTo("gpt-4");
            assertThat(regenerated.model()).isEqualTo("gpt-4o");
            assertThat(starting(trip, "What about food?").parentId()).isEqualTo(regenerated.id());
            assertThat(starting(trip, "What about museums?").parentId()).as("an edited question: a sibling")
                    .isEqualTo(regenerated.id());
            Message food = starting(trip, "Try bacalhau");
            assertThat(food.userMessageId()).as("the tool call and its output between question and reply are skipped")
                    .isEqualTo(starting(trip, "What about food?").id());
            assertThat(food.content()).isEqualTo("Try bacalhau and pastéis de nata.");
            assertThat(trip).allSatisfy(m -> {
                assertThat(m.origin()).isEqualTo(Origin.IMPORT);
                assertThat(Ids.isValid(m.id())).as(m.id()).isTrue();
                assertThat(timeOf(m.id())).as("the id's time is the message's").isEqualTo(m.messageTimestamp());
                assertThat(m.role() == Role.USER ? m.inputTokens() : m.outputTokens()).as("tokens from the tokenizer")
                        .isPositive();
            });
            assertThat(client.path(lisbon.id())).extracting(p -> p.message().message().content())
                    .as("the newest branch shows").containsExactly("Plan three days in Lisbon for me.",
                            "Here is a better plan: start in Baixa, then Alfama.", "What about museums?",
                            "Visit the Gulbenkian and the tile museum.");

            List<Message> picture = rows(client.allMessages(sessions.get(1).id()));
            assertThat(picture).extracting(Message::content).containsExactlyInAnyOrder(
                    "[Image not imported]\n\nWhat is in this picture?", "A cat on a windowsill.", "Thanks!");
            assertThat(starting(picture, "[Image not imported]").content())
                    .isEqualTo("[Image not imported]\n\nWhat is in this picture?");
            assertThat(starting(picture, "A cat on a windowsil").model()).isNull();
            assertThat(starting(picture, "A cat on a windowsil").messageTimestamp())
                    .as("a message without a time takes its parent's").isEqualTo(Instant.ofEpochSecond(1_720_000_001));

            List<Message> indexes = rows(client.allMessages(sessions.get(0).id()));
            assertThat(starting(indexes, "Explain database ind").content())
                    .isEqualTo("Explain database indexes.\n\n[Attachment not imported: schema.sql]");
            assertThat(starting(indexes, "An index is a sorted").model()).isEqualTo("o3");
            assertThat(client.usage(java.time.LocalDate.of(2024, 1, 1), java.time.LocalDate.of(2024, 12, 31)).days())
                    .as("imported history is not usage").allSatisfy(d -> assertThat(d.messagesSent()).isZero());
        }
    }

    @Test
    void importingTheSameFileAgainChangesNothingAndAnotherDeviceDerivesTheSameIds() throws Exception {
        Path export = ExportFiles.realistic(dir.resolve("download"));
        List<String> ids;
        try (ChatClient client = offline("laptop")) {
            client.importHistory(export, ImportListener.NONE);
        }
        Map<String, List<Map<String, Object>>> before = dump("laptop");
        try (ChatClient client = offline("laptop")) {
            ImportSummary again = client.importHistory(export, ImportListener.NONE);
            assertThat(again.messagesAdded()).isZero();
            assertThat(again.conversationsAdded()).isZero();
            assertThat(again.messagesAlreadyHere()).isEqualTo(12);
        }
        assertThat(dump("laptop")).isEqualTo(before);
        ids = before.get("messages").stream().map(m -> (String) m.get("id")).toList();

        try (ChatClient other = offline("desktop")) {
            other.importHistory(ExportFiles.zipped(export, dir.resolve("export.zip"), "conversations.json"),
                    ImportListener.NONE);
        }
        assertThat(dump("desktop").get("messages").stream().map(m -> (String) m.get("id")).toList())
                .containsExactlyElementsOf(ids);
    }

    @Test
    void aConversationDeletedHereStaysDeletedWhenTheFileIsImportedAgain() throws Exception {
        Path export = ExportFiles.realistic(dir.resolve("download"));
        try (ChatClient client = offline("laptop")) {
            client.importHistory(export, ImportListener.NONE);
            LocalSession lisbon = client.sessions("Lisbon", null, 10).get(0);
            client.delete(lisbon.id());

            ImportSummary again = client.importHistory(export, ImportListener.NONE);

            assertThat(again.conversationsSkipped()).isEqualTo(1);
            assertThat(client.sessions(null, null, 10)).extracting(LocalSession::title)
                    .doesNotContain("Trip to Lisbon 🇵🇹");
        }
    }

    @Test
    void malformedFilesAreRefusedWithAClearErrorAndNothingIsWritten() throws Exception {
        Path realistic = ExportFiles.realistic(dir.resolve("download"));
        String good = Files.readString(realistic);
        Map<String, String> files = new LinkedHashMap<>();
        files.put("not JSON", "this is not json");
        files.put("empty", "");
        files.put("cut off", good.substring(0, good.length() / 2));
        files.put("garbage after the first conversation", "[" + good.substring(1, good.indexOf("\n {", 3)) + ", {]");
        files.put("not an export", "{\"hello\": \"world\"}");
        files.put("numbers", "[1, 2, 3]");
        files.put("mapping of the wrong type", "[{\"id\": \"c1\", \"mapping\": [1]}]");
        Map<String, String> expected = Map.of(
                "not JSON", "not valid JSON",
                "empty", "The file is empty.",
                "cut off", "not valid JSON",
                "garbage after the first conversation", "not valid JSON",
                "not an export", "not a ChatGPT or Parley export",
                "numbers", "conversation 1 is not a JSON object",
                "mapping of the wrong type", "the \"mapping\" of conversation 1 is not a JSON object");
        try (ChatClient client = offline("laptop")) {
            for (Map.Entry<String, String> file : files.entrySet()) {
                Path path = dir.resolve(file.getKey().replace(' ', '-') + ".json");
                Files.writeString(path, file.getValue());

                assertThatThrownBy(() -> client.importHistory(path, ImportListener.NONE)).as(file.getKey())
                        .isInstanceOfSatisfying(ClientException.class, e -> {
                            assertThat(e.code()).isEqualTo("bad_request");
                            assertThat(e.getMessage()).contains(expected.get(file.getKey()));
                        });
            }
            Path zipWithout = ExportFiles.zipped(null, dir.resolve("without.zip"), "conversations.json");
            assertThatThrownBy(() -> client.importHistory(zipWithout, ImportListener.NONE))
                    .isInstanceOf(ClientException.class)
                    .hasMessage("This zip holds no conversations.json (a ChatGPT data export) and no"
                            + " parley-export.json (a Parley export).");
            assertThatThrownBy(() -> client.importHistory(dir.resolve("nowhere.json"), ImportListener.NONE))
                    .isInstanceOf(ClientException.class).hasMessageContaining("There is no file at");

            assertThat(client.sessions(null, null, 10)).isEmpty();
        }
        assertThat(dump("laptop").get("messages")).isEmpty();
    }

    @Test
    void aCancelledImportKeepsWholeConversationsAndImportingAgainAddsTheRest() throws Exception {
        Path export = ExportFiles.generated(dir.resolve("big.json"), 40, 50, 40, false); // 4,000 messages
        AtomicBoolean cancel = new AtomicBoolean();
        List<long[]> checked = new ArrayList<>();
        try (ChatClient client = offline("laptop")) {
            ImportSummary cancelled = client.importHistory(export, new ImportListener() {
                @Override
                public void checking(long bytesRead, long bytesTotal) {
                    checked.add(new long[] {bytesRead, bytesTotal});
                }

                @Override
                public void importing(int done, int total) {
                    if (done > 0) {
                        cancel.set(true);
                    }
                }

                @Override
                public boolean cancelled() {
                    return cancel.get();
                }
            });

            assertThat(cancelled.cancelled()).isTrue();
            assertThat(cancelled.conversationsAdded()).isBetween(1, 39);
            assertThat(checked.get(checked.size() - 1)).containsExactly(Files.size(export), Files.size(export));
            List<LocalSession> kept = client.sessions(null, null, 100);
            assertThat(kept).hasSize(cancelled.conversationsAdded());
            assertThat(kept).allSatisfy(s -> assertThat(client.allMessages(s.id())).hasSize(100));

            ImportSummary rest = client.importHistory(export, ImportListener.NONE);
            assertThat(rest.conversationsAdded()).isEqualTo(40 - cancelled.conversationsAdded());
            assertThat(rest.messagesAdded() + cancelled.messagesAdded()).isEqualTo(4_000);
            assertThat(client.sessions(null, null, 100)).hasSize(40);
        }
    }

    @Test
    void aTwoHundredMegabyteExportIsCheckedInBoundedMemoryAndItsDamageAtTheEndWritesNothing() throws Exception {
        // About 200 MB: 10,000 conversations of 10 messages of 2,000 characters, cut off in the last one.
        Path export = ExportFiles.generated(dir.resolve("huge.json"), 10_000, 5, 2_000, true);
        assertThat(Files.size(export)).isGreaterThan(200_000_000L);

        ChildJvm.Result result = ChildJvm.run("-Xmx64m", "dev.parley.client.cli.HistoryCommand", "import",
                export.toString(), "--data-dir", dir.resolve("laptop").toString());

        assertThat(result.exitCode()).as(result.output()).isEqualTo(1);
        assertThat(result.output()).contains("The file is not valid JSON").doesNotContain("OutOfMemoryError");
        assertThat(dump("laptop").get("sessions")).isEmpty();
        assertThat(dump("laptop").get("messages")).isEmpty();
    }

    private ChatClient offline(String name) {
        return ChatClient.open(ClientConfig.builder(dir.resolve(name), "http://127.0.0.1:9").liveSync(false).build());
    }

    static List<Message> rows(List<LocalMessage> messages) {
        return messages.stream().map(LocalMessage::message).toList();
    }

    /** The one message whose content starts with {@code start}. */
    static Message starting(List<Message> messages, String start) {
        List<Message> found = messages.stream().filter(m -> m.content().startsWith(start)).toList();
        assertThat(found).as("messages starting with '%s'", start).hasSize(1);
        return found.get(0);
    }

    private static Instant timeOf(String id) {
        return Instant.ofEpochMilli(UUID.fromString(id).getMostSignificantBits() >>> 16);
    }

    /** The rows of the store's sessions, messages and settings, in id order. */
    Map<String, List<Map<String, Object>>> dump(String name) throws Exception {
        Map<String, List<Map<String, Object>>> tables = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(name).resolve("parley-client.db"));
             Statement s = c.createStatement()) {
            for (String table : List.of("sessions", "messages", "settings")) {
                List<Map<String, Object>> rows = new ArrayList<>();
                try (ResultSet rs = s.executeQuery("SELECT * FROM " + table + " ORDER BY 1")) {
                    ResultSetMetaData meta = rs.getMetaData();
                    while (rs.next()) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        for (int i = 1; i <= meta.getColumnCount(); i++) {
                            row.put(meta.getColumnName(i), rs.getObject(i));
                        }
                        rows.add(row);
                    }
                }
                tables.put(table, rows);
            }
        }
        return tables;
    }
}
