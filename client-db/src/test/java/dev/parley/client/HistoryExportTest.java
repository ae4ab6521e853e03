package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.client.testing.Backend;
import dev.parley.client.testing.ChildJvm;
import dev.parley.client.testing.ExportFiles;
import dev.parley.protocol.Json;
import dev.parley.protocol.Message;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export everything: one zip of a Markdown file per conversation, every branch, and {@code parley-export.json}, which
 * an import into an empty data directory turns back into the same conversations; 10,000 conversations export in a
 * small fixed heap.
 */
class HistoryExportTest {
    @TempDir
    Path dir;

    @Test
    void anExportImportedIntoAnEmptyDataDirectoryGivesBackTheSameConversations() throws Exception {
        Path zip = dir.resolve("everything.zip");
        List<Snapshot> original;
        try (Backend backend = new Backend(dir, b -> b.anonymousChatsPerMinute(1_000));
             ChatClient laptop = backend.client("laptop")) {
            laptop.importHistory(ExportFiles.realistic(dir.resolve("download")), ImportListener.NONE);
            LocalSession own = laptop.newSession("Written here");
            laptop.setSystemPrompt(own.id(), "Answer in one line.");
            Exchange.Outcome first = laptop.send(own.id(), "What is WAL?", null).outcome().get(20, TimeUnit.SECONDS);
            laptop.regenerate(first.reply().message().id(), null).outcome().get(20, TimeUnit.SECONDS);
            original = snapshot(laptop);

            ExportSummary summary = laptop.exportHistory(zip);

            assertThat(summary.conversations()).isEqualTo(4);
            assertThat(summary.messages()).isEqualTo(15);
        }
        try (ZipFile file = new ZipFile(zip.toFile())) {
            List<String> names = file.stream().map(ZipEntry::getName).toList();
            assertThat(names).hasSize(5).contains("parley-export.json");
            String lisbon = read(file, names.stream().filter(n -> n.contains("Trip to Lisbon")).findFirst()
                    .orElseThrow());
            assertThat(lisbon).startsWith("# Trip to Lisbon 🇵🇹\n")
                    .contains("## 1. You · 2024-03-09 16:00 UTC\n\nPlan three days in Lisbon for me.")
                    .contains("## 2. Assistant · gpt-4o")
                    .contains("### Another version of message 2"
                            + " (“Here is a better plan: start in Baixa, then Alfama.”)")
                    .contains("Day 1: Alfama and the castle.")
                    .contains("### Another version of message 3 (“What about museums?”)")
                    .contains("Try bacalhau and pastéis de nata.");
            assertThat(lisbon.indexOf("Visit the Gulbenkian")).as("the main line comes first")
                    .isLessThan(lisbon.indexOf("Day 1: Alfama"));
        }

        try (ChatClient restored = ChatClient.open(ClientConfig.builder(dir.resolve("new-machine"),
                "http://127.0.0.1:9").liveSync(false).build())) {
            ImportSummary summary = restored.importHistory(zip, ImportListener.NONE);

            assertThat(summary.source()).isEqualTo("parley");
            assertThat(summary.messagesAdded()).isEqualTo(15);
            assertThat(snapshot(restored)).isEqualTo(original);
            assertThat(restored.importHistory(zip, ImportListener.NONE).messagesAdded()).isZero();
        }
    }

    @Test
    void tenThousandConversationsExportInABoundedHeap() throws Exception {
        Path data = dir.resolve("laptop");
        try (ChatClient client = ChatClient.open(ClientConfig.builder(data, "http://127.0.0.1:9").liveSync(false)
                .build())) {
            client.importHistory(ExportFiles.generated(dir.resolve("many.json"), 10_000, 1, 200, false),
                    ImportListener.NONE);
        }
        Path zip = dir.resolve("all.zip");

        ChildJvm.Result result = ChildJvm.run("-Xmx48m", "dev.parley.client.cli.HistoryCommand", "export",
                zip.toString(), "--data-dir", data.toString());

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("Exported 10000 conversations (20000 messages)");
        try (ZipFile file = new ZipFile(zip.toFile())) {
            assertThat(file.size()).isEqualTo(10_001);
            try (InputStream in = file.getInputStream(file.getEntry("parley-export.json"))) {
                JsonNode archive = Json.newMapper().readTree(in);
                assertThat(archive.path("format").asText()).isEqualTo("parley-export");
                assertThat(archive.path("conversations")).hasSize(10_000);
            }
        }
    }

    /** A conversation as a user sees it on any device: its fields and every message, without sync state. */
    record Snapshot(String id, String title, String systemPrompt, java.time.Instant createdAt, List<Message> messages) {
    }

    private static List<Snapshot> snapshot(ChatClient client) {
        List<Snapshot> all = new ArrayList<>();
        for (LocalSession s : client.sessions(null, null, 100)) {
            List<Message> messages = client.allMessages(s.id()).stream()
                    .map(m -> m.message().toBuilder().origin(null).totalTokens(null).build())
                    .sorted(Comparator.comparing(Message::id)).toList();
            all.add(new Snapshot(s.id(), s.title(), s.systemPrompt(), s.createdAt(), messages));
        }
        all.sort(Comparator.comparing(Snapshot::id));
        return all;
    }

    private static String read(ZipFile file, String name) throws Exception {
        try (InputStream in = file.getInputStream(file.getEntry(name))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
