package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.ExportSummary;
import dev.parley.client.ImportSummary;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.protocol.Json;
import dev.parley.protocol.Role;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File → Import and Export all without a window: a real client over a real SQLite store (and a real server, which
 * the rows of a signed-out client wait for) importing a small ChatGPT export (a system node, a regenerated reply, an
 * edited question, a photo) and generated larger ones.
 */
class HistoryTransferViewModelTest {
    private static final ObjectMapper JSON = Json.newMapper();

    @TempDir
    Path dir;

    ParleyServer server;
    ChatClient client;
    QueuedUi ui;
    HistoryTransferViewModel vm;
    final Clock clock = Clock.fixed(Instant.parse("2025-03-04T23:30:00Z"), ZoneOffset.ofHours(2));

    @BeforeEach
    void start() {
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url()).build());
        ui = new QueuedUi();
        vm = new HistoryTransferViewModel(client, ui, clock);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void importingAChatGptExportSaysWhatWasImportedAndKeepsEveryBranch() throws Exception {
        assertThat(vm.importFrom(chatGptExport())).isTrue();
        ui.drain(); // progress posted during the import arrives after the result, and must not undo it

        assertThat(vm.resultProperty().get()).isEqualTo(
                "Imported 4 conversations (15 messages) from ChatGPT. 1 image or file was kept as a note.");
        assertThat(vm.errorProperty().get()).isEmpty();
        assertThat(vm.progressProperty().get()).isEqualTo(1.0);
        assertThat(vm.runningProperty().get()).isFalse();
        assertThat(vm.statusProperty().get()).isEmpty();
        List<LocalSession> sessions = client.sessions(null, null, 100);
        assertThat(sessions).extracting(LocalSession::title).containsExactlyInAnyOrder("Weekend in Lisbon",
                "Is my sourdough starter ready?", "Rust lifetimes, simply", "Birthday gift for my sister");
        LocalSession lisbon = sessions.stream().filter(s -> s.title().equals("Weekend in Lisbon")).findFirst()
                .orElseThrow();
        // Two replies to the first question (regenerated), two versions of the second (edited), each answered;
        // the hidden system node is not a message.
        List<LocalMessage> all = client.allMessages(lisbon.id());
        assertThat(all).hasSize(7);
        assertThat(all).noneMatch(m -> m.message().role() == Role.SYSTEM);
        String question = all.stream().filter(m -> m.message().content().startsWith("Plan a relaxed weekend"))
                .findFirst().orElseThrow().id();
        assertThat(all).filteredOn(m -> m.message().role() == Role.ASSISTANT && question.equals(m.message().parentId()))
                .as("the reply and its regeneration").hasSize(2);
        String regenerated = all.stream().filter(m -> m.message().content().startsWith("**Saturday:** Baixa"))
                .findFirst().orElseThrow().id();
        assertThat(all).filteredOn(m -> m.message().content().startsWith("Where should we eat"))
                .as("the question and its edit, both answering the regenerated reply").hasSize(2)
                .extracting(m -> m.message().parentId()).containsOnly(regenerated);
        LocalSession sourdough = sessions.stream().filter(s -> s.title().startsWith("Is my sourdough"))
                .findFirst().orElseThrow();
        assertThat(client.allMessages(sourdough.id()).get(0).message().content())
                .startsWith("[Image not imported]").contains("Is it ready to bake with?");
    }

    @Test
    void importingTheSameFileAgainSaysNothingIsNew() throws Exception {
        Path file = chatGptExport();
        vm.importFrom(file);

        vm.importFrom(file);

        assertThat(vm.resultProperty().get())
                .isEqualTo("Nothing new to import: all 4 conversations are already here.");
        assertThat(client.sessions(null, null, 100)).hasSize(4);
    }

    @Test
    void progressChecksTheFileAsTheFirstHalfThenImportsAsTheSecondAndEndsAtOne() throws Exception {
        InlineUi inline = new InlineUi();
        vm = new HistoryTransferViewModel(client, inline, clock);
        List<Double> fractions = new ArrayList<>();
        List<String> statuses = new ArrayList<>();
        vm.progressProperty().addListener((obs, old, now) -> fractions.add(now.doubleValue()));
        vm.statusProperty().addListener((obs, old, now) -> statuses.add(now));

        // 3,000 messages: two groups of the client's write, so the write reports between them.
        vm.importFrom(generatedExport(300, 10));

        assertThat(statuses).contains("Checking conversations.json… 100%", "Importing 0 of 300 conversations…",
                "Importing 200 of 300 conversations…", "Importing 300 of 300 conversations…");
        assertThat(statuses).anyMatch(s -> s.matches("Checking conversations\\.json… [1-9][0-9]?%"));
        assertThat(fractions).isSorted().allMatch(f -> f > 0 && f <= 1);
        assertThat(fractions).anyMatch(f -> f < 0.5).contains(0.5).anyMatch(f -> f > 0.5 && f < 1);
        assertThat(fractions.get(fractions.size() - 1)).isEqualTo(1.0);
        assertThat(vm.resultProperty().get())
                .isEqualTo("Imported 300 conversations (3,000 messages) from ChatGPT.");
    }

    @Test
    void progressReachesTheUiThreadCoalesced() throws Exception {
        AtomicInteger posted = new AtomicInteger();
        UiExecutor counting = new UiExecutor() {
            @Override
            public <T> void run(Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError) {
                ui.run(work, onSuccess, onError);
            }

            @Override
            public void onUi(Runnable action) {
                posted.incrementAndGet();
                ui.onUi(action);
            }
        };
        vm = new HistoryTransferViewModel(client, counting, clock);

        // Hundreds of calls of the listener while the UI thread is busy (the queue is not drained meanwhile).
        vm.importFrom(generatedExport(300, 2));

        assertThat(posted).as("updates handed to the UI thread").hasValue(1);
        assertThat(vm.resultProperty().get()).startsWith("Imported 300 conversations");
    }

    @Test
    void cancelAfterTheFirstGroupKeepsWholeConversationsAndImportingAgainAddsTheRest() throws Exception {
        vm = new HistoryTransferViewModel(client, new InlineUi(), clock);
        // 300 conversations of 10 messages: the client writes ~2,000 messages a group, so 200 in the first.
        Path file = generatedExport(300, 10);
        vm.progressProperty().addListener((obs, old, now) -> {
            if (now.doubleValue() > 0.5 && now.doubleValue() < 1) {
                vm.cancel(); // the first group is written
            }
        });
        List<String> statuses = new ArrayList<>();
        vm.statusProperty().addListener((obs, old, now) -> statuses.add(now));

        vm.importFrom(file);

        assertThat(statuses).contains("Cancelling: finishing the conversations being written…");
        assertThat(vm.resultProperty().get()).isEqualTo(
                "Import cancelled: 200 conversations were imported; import the file again to add the rest.");
        assertThat(vm.runningProperty().get()).isFalse();
        assertThat(vm.cancellingProperty().get()).isFalse();
        List<LocalSession> kept = client.sessions(null, null, 1_000);
        assertThat(kept).hasSize(200);
        assertThat(kept).allSatisfy(s -> assertThat(client.allMessages(s.id())).hasSize(10));

        vm = new HistoryTransferViewModel(client, new InlineUi(), clock);
        vm.importFrom(file);

        assertThat(vm.resultProperty().get())
                .isEqualTo("Imported 100 conversations (1,000 messages) from ChatGPT.");
        assertThat(client.sessions(null, null, 1_000)).hasSize(300);
    }

    @Test
    void cancelWhileCheckingImportsNothing() throws Exception {
        vm = new HistoryTransferViewModel(client, new InlineUi(), clock);
        vm.progressProperty().addListener((obs, old, now) -> {
            if (now.doubleValue() > 0 && now.doubleValue() < 0.5) {
                vm.cancel();
            }
        });

        vm.importFrom(generatedExport(50, 2));

        assertThat(vm.resultProperty().get()).isEqualTo("Import cancelled: nothing was imported.");
        assertThat(client.sessions(null, null, 100)).isEmpty();
    }

    @Test
    void aMalformedFileShowsWhyAndImportsNothing() throws Exception {
        // A whole, good first conversation, then the file breaks off: the check finds it before anything is written.
        String good = Files.readString(chatGptExport());
        Path broken = dir.resolve("conversations.json");
        Files.writeString(broken, good.substring(0, good.indexOf("\"Is my sourdough")) + "\"Is my sourd");

        vm.importFrom(broken);

        assertThat(vm.errorProperty().get()).startsWith("The file is not valid JSON (line ")
                .doesNotContain("Exception");
        assertThat(vm.resultProperty().get()).isEmpty();
        assertThat(vm.runningProperty().get()).isFalse();
        assertThat(client.sessions(null, null, 100)).isEmpty();
    }

    @Test
    void aFileThatIsNotAnExportSaysWhatAnExportIs() throws Exception {
        Path other = dir.resolve("settings.json");
        Files.writeString(other, "{\"theme\": \"dark\"}");

        vm.importFrom(other);

        assertThat(vm.errorProperty().get()).startsWith("This is not a ChatGPT or Parley export");
        assertThat(client.sessions(null, null, 100)).isEmpty();
        vm.dismiss();
        assertThat(vm.errorProperty().get()).isEmpty();
    }

    @Test
    void exportAllWritesTheZipUnderTodaysNameAndAnotherParleyImportsIt() throws Exception {
        vm.importFrom(chatGptExport());
        assertThat(vm.suggestedExportName()).as("today in the clock's zone").isEqualTo("parley-export-2025-03-05.zip");
        Path zip = dir.resolve(vm.suggestedExportName());

        assertThat(vm.exportTo(zip)).isTrue();

        assertThat(vm.resultProperty().get())
                .isEqualTo("Exported 4 conversations (15 messages) to parley-export-2025-03-05.zip.");
        assertThat(vm.progressProperty().get()).isEqualTo(1.0);
        assertThat(zip).isRegularFile();
        try (ChatClient other = ChatClient.open(ClientConfig.builder(dir.resolve("other"), server.url()).build())) {
            HistoryTransferViewModel there = new HistoryTransferViewModel(other, ui, clock);
            there.importFrom(zip);
            assertThat(there.resultProperty().get())
                    .isEqualTo("Imported 4 conversations (15 messages) from a Parley export.");
        }
    }

    @Test
    void summariesReadAsSentences() {
        assertThat(HistoryTransferViewModel.importText(new ImportSummary("chatgpt", 4_000, 312, 4_210, 0, 0, 9, 18,
                false))).isEqualTo("Imported 312 conversations (4,210 messages) from ChatGPT."
                + " 18 images and files were kept as a note.");
        assertThat(HistoryTransferViewModel.importText(new ImportSummary("parley", 3, 0, 5, 20, 0, 0, 0, false)))
                .isEqualTo("Imported 5 new messages from a Parley export into conversations already here.");
        assertThat(HistoryTransferViewModel.importText(new ImportSummary("chatgpt", 312, 0, 0, 4_000, 2, 0, 0,
                false))).isEqualTo("Nothing new to import: 310 of the 312 conversations are already here."
                + " 2 conversations were left out: deleted here, or stored under another account.");
        assertThat(HistoryTransferViewModel.importText(new ImportSummary("chatgpt", 0, 0, 0, 0, 0, 3, 0, false)))
                .isEqualTo("Nothing to import: the file holds no conversation with messages.");
        assertThat(HistoryTransferViewModel.importText(new ImportSummary("chatgpt", 4_000, 1, 12, 0, 0, 0, 0, true)))
                .isEqualTo("Import cancelled: 1 conversation was imported; import the file again to add the rest.");
        assertThat(HistoryTransferViewModel.exportText(new ExportSummary(Path.of("out", "all.zip"), 1, 1)))
                .isEqualTo("Exported 1 conversation (1 message) to all.zip.");
    }

    /** The small export of the test resources, as a file of its own. */
    private Path chatGptExport() throws Exception {
        Path file = Files.createDirectories(dir.resolve("export-" + System.nanoTime())).resolve("conversations.json");
        try (InputStream in = getClass().getResourceAsStream("/chatgpt/conversations.json")) {
            Files.copy(in, file);
        }
        return file;
    }

    /** A ChatGPT export of {@code conversations}, each a line of {@code messages} alternating questions and replies. */
    private Path generatedExport(int conversations, int messages) throws Exception {
        ArrayNode all = JSON.createArrayNode();
        long t0 = 1_717_000_000L;
        for (int c = 0; c < conversations; c++) {
            ObjectNode conversation = all.addObject();
            conversation.put("title", "Chat " + c).put("create_time", t0 + c * 1_000L)
                    .put("conversation_id", "gen-" + c);
            ObjectNode mapping = conversation.putObject("mapping");
            String parent = "root";
            mapping.putObject("root").putNull("message").putNull("parent").putArray("children");
            for (int m = 0; m < messages; m++) {
                String id = "n" + m;
                ObjectNode node = mapping.putObject(id);
                ObjectNode message = node.putObject("message");
                message.putObject("author").put("role", m % 2 == 0 ? "user" : "assistant");
                message.put("create_time", t0 + c * 1_000L + m);
                message.putObject("content").put("content_type", "text").putArray("parts")
                        .add((m % 2 == 0 ? "Question " : "Answer ") + m + " of chat " + c);
                node.put("parent", parent).putArray("children");
                ((ArrayNode) mapping.get(parent).get("children")).add(id);
                parent = id;
            }
        }
        Path file = Files.createDirectories(dir.resolve("generated-" + System.nanoTime()))
                .resolve("conversations.json");
        JSON.writeValue(file.toFile(), all);
        return file;
    }

    /** The UI thread is the calling thread, and so is the work: progress is seen as it is reported. */
    private static final class InlineUi implements UiExecutor {
        @Override
        public <T> void run(Callable<T> work, Consumer<T> onSuccess, Consumer<Throwable> onError) {
            T result;
            try {
                result = work.call();
            } catch (Exception e) {
                onError.accept(e);
                return;
            }
            onSuccess.accept(result);
        }

        @Override
        public void onUi(Runnable action) {
            action.run();
        }
    }
}
