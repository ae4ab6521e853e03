package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LocalMessage;
import dev.parley.desktop.export.ConversationExport;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Json;
import dev.parley.protocol.Role;
import dev.parley.server.ModelException;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import dev.parley.server.testing.PacedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Versions of a conversation as the window shows them, without a window (SPEC §4.3): a regenerated reply is the
 * newest version while it is written and after, ‹ › flips between versions, an edit sends a new version of the
 * question and Escape (cancel) leaves everything as it was, and Up in an empty composer edits the last question.
 */
class BranchesViewModelTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    final PacedModel model = new PacedModel();
    ParleyServer server;
    ChatClient client;
    QueuedUi ui;
    MainViewModel vm;

    @BeforeEach
    void start() {
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .modelProvider(model).build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url()).build());
        ui = new QueuedUi();
        vm = new MainViewModel(client, ui, "test server");
        vm.start();
        ui.drain();
    }

    private void signUp() throws Exception {
        client.signUp("ada@example.com", "correct horse battery");
        ui.await(WAIT, "signed in", () -> vm.signedInProperty().get());
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    /** Sends {@code question}, has the model answer {@code answer}, and waits for the stored reply. */
    private void converse(String question, String answer) throws Exception {
        int before = vm.messages().size();
        vm.draftProperty().set(question);
        vm.send();
        model.awaitReply().emit(answer).finish();
        ui.await(WAIT, "the reply to " + question, () -> !vm.writingProperty().get()
                && vm.messages().size() == before + 2 && !last().unfinished()
                && last().message().content().equals(answer));
    }

    private LocalMessage last() {
        return vm.messages().get(vm.messages().size() - 1);
    }

    private String versionLabel(LocalMessage message) {
        return vm.versionsOf(message).map(Versions::label).orElse("");
    }

    private List<String> contents() {
        return vm.messages().stream().map(m -> m.message().content()).toList();
    }

    /** Signed in the server answers again (SPEC §5.4); signed out the question goes to the model again. */
    @ParameterizedTest(name = "signed in: {0}")
    @ValueSource(booleans = {true, false})
    void aRegeneratedReplyIsVersionTwoOfTwoWhileWrittenAndFlippingShowsTheFirst(boolean signedIn) throws Exception {
        if (signedIn) {
            signUp();
        }
        converse("Name a colour", "Blue");
        LocalMessage blue = last();
        assertThat(vm.versionsOf(blue)).as("one version: no ‹ n/m ›").isEmpty();
        assertThat(vm.canRegenerate(blue)).isTrue();
        assertThat(vm.canRegenerate(vm.messages().get(0))).as("a question is edited, not regenerated").isFalse();

        vm.regenerate(blue, null);
        PacedModel.Reply again = model.awaitReply();
        ui.await(WAIT, "the new reply shown as version 2/2 before its first word", () -> vm.messages().size() == 2
                && last().unfinished() && versionLabel(last()).equals("2/2"));
        assertThat(vm.writingProperty().get()).isTrue();
        assertThat(vm.canRegenerate(blue)).as("no regenerate while a reply is written").isFalse();
        assertThat(vm.canEdit(vm.messages().get(0))).as("no edit while its reply is written").isFalse();
        again.emit("Gre");
        ui.await(WAIT, "it grows in place", () -> last().message().content().equals("Gre"));
        assertThat(vm.messages()).hasSize(2);

        again.emit("en").finish();
        ui.await(WAIT, "the stored second version", () -> !vm.writingProperty().get() && !last().unfinished()
                && last().message().content().equals("Green") && versionLabel(last()).equals("2/2"));
        LocalMessage green = last();
        assertThat(green.id()).isNotEqualTo(blue.id());
        assertThat(green.message().parentId()).isEqualTo(vm.messages().get(0).id());
        assertThat(vm.versionsOf(green).orElseThrow().next()).as("› is disabled on the last").isEmpty();

        vm.previousVersion(green);
        ui.await(WAIT, "version 1/2", () -> last().id().equals(blue.id()) && versionLabel(last()).equals("1/2"));
        assertThat(contents()).containsExactly("Name a colour", "Blue");
        assertThat(vm.versionsOf(last()).orElseThrow().previous()).as("‹ is disabled on the first").isEmpty();

        vm.nextVersion(last());
        ui.await(WAIT, "version 2/2 again", () -> last().id().equals(green.id()));
        assertThat(contents()).containsExactly("Name a colour", "Green");
    }

    @ParameterizedTest(name = "signed in: {0}")
    @ValueSource(booleans = {true, false})
    void aFailedRegenerateIsShownInPlaceWithTryAgainWhichAnswersUnderTheSameId(boolean signedIn) throws Exception {
        if (signedIn) {
            signUp();
        }
        converse("Name a colour", "Blue");
        LocalMessage blue = last();

        vm.regenerate(blue, null);
        model.awaitReply().fail(new ModelException(ErrorCode.UPSTREAM_ERROR, "The model is down"));
        ui.await(WAIT, "the failed version in place", () -> !vm.writingProperty().get() && vm.messages().size() == 2
                && last().failed() && !last().id().equals(blue.id()));
        LocalMessage failed = last();
        assertThat(failed.retryable()).isTrue();
        assertThat(vm.canRegenerate(failed)).as("a failed reply offers Try again instead").isFalse();
        assertThat(versionLabel(failed)).isEqualTo("2/2");

        vm.retry(failed);
        model.awaitReply().emit("Green").finish();
        ui.await(WAIT, "the version answered", () -> !vm.writingProperty().get() && !last().unfinished()
                && !last().failed() && last().message().content().equals("Green"));
        assertThat(last().id()).as("the same reply id").isEqualTo(failed.id());
        assertThat(versionLabel(last())).isEqualTo("2/2");
        assertThat(contents()).containsExactly("Name a colour", "Green");
    }

    @Test
    void editSendsANewVersionOfTheQuestionAndCancelLeavesItAsItWas() throws Exception {
        signUp();
        converse("Plan a day in Lisbon", "Alfama");
        converse("And Porto?", "Ribeira");
        LocalMessage porto = vm.messages().get(2);

        vm.startEdit(porto);
        assertThat(vm.editingProperty().get()).isEqualTo(porto.id());
        assertThat(vm.editTextProperty().get()).isEqualTo("And Porto?");
        vm.editTextProperty().set("And Coimbra?");
        vm.cancelEdit(); // Escape
        assertThat(vm.editingProperty().get()).isNull();
        assertThat(model.noReplyWithin(200)).as("nothing sent").isTrue();
        ui.drain();
        assertThat(contents()).containsExactly("Plan a day in Lisbon", "Alfama", "And Porto?", "Ribeira");

        assertThat(vm.draftProperty().get()).isEmpty();
        assertThat(vm.editLastUserMessage()).as("Up in an empty composer").isTrue();
        assertThat(vm.editingProperty().get()).isEqualTo(porto.id());
        assertThat(vm.editTextProperty().get()).as("the text as sent, not the cancelled edit").isEqualTo("And Porto?");

        vm.editTextProperty().set("And Braga?");
        vm.submitEdit(); // Enter
        assertThat(vm.editingProperty().get()).isNull();
        PacedModel.Reply reply = model.awaitReply();
        assertThat(reply.request.toString()).doesNotContain("And Porto?").doesNotContain("Ribeira");
        reply.emit("Bom Jesus").finish();
        ui.await(WAIT, "the edited branch", () -> !vm.writingProperty().get()
                && contents().equals(List.of("Plan a day in Lisbon", "Alfama", "And Braga?", "Bom Jesus"))
                && !last().unfinished());
        LocalMessage braga = vm.messages().get(2);
        assertThat(braga.id()).isNotEqualTo(porto.id());
        assertThat(braga.message().role()).isEqualTo(Role.USER);
        assertThat(versionLabel(braga)).isEqualTo("2/2");
        assertThat(versionLabel(last())).as("the new question has one reply").isEmpty();

        vm.previousVersion(braga);
        ui.await(WAIT, "the first branch, whole", () -> contents().equals(
                List.of("Plan a day in Lisbon", "Alfama", "And Porto?", "Ribeira")));
        assertThat(versionLabel(vm.messages().get(2))).isEqualTo("1/2");
    }

    @Test
    void upArrowEditsNothingWithoutAQuestionOrWhileAReplyIsWritten() throws Exception {
        signUp();
        assertThat(vm.editLastUserMessage()).as("no conversation").isFalse();

        vm.draftProperty().set("Tell me a story");
        vm.send();
        PacedModel.Reply reply = model.awaitReply();
        ui.await(WAIT, "the question shown", () -> vm.messages().size() == 1 && vm.writingProperty().get());

        assertThat(vm.editLastUserMessage()).as("its reply is being written").isFalse();
        assertThat(vm.editingProperty().get()).isNull();
        reply.emit("Once").finish();
        ui.await(WAIT, "the reply", () -> !vm.writingProperty().get() && vm.messages().size() == 2);
        assertThat(vm.editLastUserMessage()).isTrue();
    }

    @Test
    void jsonExportHoldsEveryVersionAndMarkdownTheShownOne() throws Exception {
        signUp();
        converse("Name a colour", "Blue");
        vm.regenerate(last(), null);
        model.awaitReply().emit("Green").finish();
        ui.await(WAIT, "the second version", () -> !vm.writingProperty().get() && !last().unfinished()
                && last().message().content().equals("Green"));
        Path json = dir.resolve("colours.json");
        Path md = dir.resolve("colours.md");

        vm.export(vm.selectedProperty().get(), ConversationExport.Format.JSON, json);
        vm.export(vm.selectedProperty().get(), ConversationExport.Format.MARKDOWN, md);

        ConversationExport.Document document = Json.newMapper().readValue(Files.readString(json),
                ConversationExport.Document.class);
        assertThat(document.messages()).extracting(m -> m.content())
                .containsExactly("Name a colour", "Blue", "Green");
        String question = document.messages().get(0).id();
        assertThat(document.messages().subList(1, 3)).allSatisfy(m -> assertThat(m.parentId()).isEqualTo(question));
        assertThat(Files.readString(md)).contains("Green").doesNotContain("Blue").contains("2 messages");
    }
}
