package dev.parley.desktop.viewmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.LiveState;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.SyncState;
import dev.parley.client.SyncStatus;
import dev.parley.desktop.export.ConversationExport;
import dev.parley.desktop.settings.Settings;
import dev.parley.protocol.Json;
import dev.parley.protocol.ModelsResponse.ModelInfo;
import dev.parley.protocol.Role;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import javafx.collections.ListChangeListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main window's behaviour without a window: a real client against a real server. */
class MainViewModelTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    ParleyServer server;
    ChatClient client;
    QueuedUi ui;
    MainViewModel vm;

    @BeforeEach
    void start() {
        server = ParleyServer.start(ServerConfig.builder().port(0).databaseUrl("jdbc:sqlite:" + dir.resolve("s.db"))
                .build());
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url())
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200)).build());
        ui = new QueuedUi();
        vm = new MainViewModel(client, ui, "test server");
        vm.start();
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    @Test
    void sendingShowsTheMessageAtOnceThenTheReplyWithTokens() throws Exception {
        vm.draftProperty().set("Hello from the view model");

        vm.send();

        assertThat(vm.draftProperty().get()).isEmpty();
        assertThat(vm.selectedProperty().get()).isNotNull();
        assertThat(vm.thinkingProperty().get()).isTrue();
        ui.await(WAIT, "the reply", () -> vm.messages().size() == 2 && !vm.writingProperty().get());
        LocalMessage reply = vm.messages().get(1);
        assertThat(reply.message().role()).isEqualTo(Role.ASSISTANT);
        assertThat(reply.message().outputTokens()).isPositive();
        assertThat(vm.sessions()).extracting(LocalSession::title).containsExactly("Hello from the view model");
    }

    @Test
    void blankDraftSendsNothing() {
        vm.draftProperty().set("   \n ");

        vm.send();

        assertThat(vm.thinkingProperty().get()).isFalse();
        assertThat(vm.sessions()).isEmpty();
    }

    @Test
    void failedSendKeepsTheMessageAndTryAgainDeliversIt() throws Exception {
        server.close(); // the server goes away
        vm.draftProperty().set("are you there?");

        vm.send();
        ui.await(WAIT, "the failure", () -> vm.messages().size() == 1 && !vm.writingProperty().get()
                && vm.messages().get(0).failed());

        LocalMessage failed = vm.messages().get(0);
        assertThat(failed.retryable()).isTrue();
        assertThat(failed.message().errorMessage()).contains("No answer");
        server = ParleyServer.start(ServerConfig.builder().port(0)
                .databaseUrl("jdbc:sqlite:" + dir.resolve("s.db")).build());
        // A new port: point a fresh client at it, as a restarted app would.
        client.close();
        client = ChatClient.open(ClientConfig.builder(dir.resolve("client"), server.url()).build());
        vm = new MainViewModel(client, ui, "test server");
        vm.start();
        vm.selectedProperty().set(vm.sessions().get(0));
        vm.retry(vm.messages().get(0));
        ui.await(WAIT, "the retried reply", () -> vm.messages().size() == 2 && !vm.messages().get(0).failed());
    }

    @Test
    void newChatRenameDeleteAndSearchShowInTheSidebar() throws Exception {
        vm.newChat();
        vm.newChat();
        // Each change reaches the view model as an event, applied on the UI thread.
        ui.await(WAIT, "both new conversations", () -> vm.sessions().size() == 2);
        LocalSession first = vm.sessions().get(0);

        vm.rename(first, "Holiday plans");
        ui.await(WAIT, "the new title", () -> vm.sessions().get(0).title().equals("Holiday plans"));
        vm.searchProperty().set("holiday");

        assertThat(vm.sessions()).extracting(LocalSession::title).containsExactly("Holiday plans");
        vm.searchProperty().set("");
        vm.delete(vm.sessions().stream().filter(s -> s.title().equals("Holiday plans")).findFirst().orElseThrow());
        ui.await(WAIT, "the deleted conversation gone", () -> vm.sessions().size() == 1);
        assertThat(vm.sessions()).extracting(LocalSession::title).doesNotContain("Holiday plans").hasSize(1);
    }

    @Test
    void signingUpUploadsSignedOutChatsAndShowsSynced() throws Exception {
        vm.draftProperty().set("written before signing up");
        vm.send();
        ui.await(WAIT, "the reply", () -> vm.messages().size() == 2);
        ui.await(WAIT, "the signed-out status", () -> vm.syncStatusProperty().get() != null
                && vm.syncStatusProperty().get().state() == SyncStatus.State.SIGNED_OUT
                && vm.syncStatusProperty().get().unsent() == 3);
        SignInViewModel signIn = new SignInViewModel(client, ui);
        signIn.emailProperty().set("ada@example.com");
        signIn.passwordProperty().set("correct horse battery");

        signIn.signUp();

        assertThat(signIn.doneProperty().get()).isTrue();
        assertThat(signIn.passwordProperty().get()).isEmpty();
        ui.await(WAIT, "Synced", () -> "Synced ✓ · live".equals(vm.syncTextProperty().get()));
        assertThat(vm.accountTextProperty().get()).isEqualTo("ada@example.com");
        assertThat(vm.signedInProperty().get()).isTrue();
        assertThat(client.messages(vm.sessions().get(0).id()))
                .allSatisfy(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));
    }

    @Test
    void signInFormValidatesInlineAndShowsServerErrorsInPlainWords() {
        SignInViewModel signIn = new SignInViewModel(client, ui);
        signIn.emailProperty().set("not an address");
        signIn.passwordProperty().set("short");

        signIn.signIn();
        assertThat(signIn.errorProperty().get()).contains("e-mail address");

        signIn.emailProperty().set("nobody@example.com");
        signIn.passwordProperty().set("long enough password");
        signIn.signIn();

        assertThat(signIn.errorProperty().get()).isEqualTo("Wrong e-mail address or password.");
        assertThat(signIn.doneProperty().get()).isFalse();
        assertThat(signIn.busyProperty().get()).isFalse();
    }

    @Test
    void theSidebarLoadsAPageAndTheNextOnesOnDemandWithoutRepeats() throws Exception {
        int total = MainViewModel.PAGE * 2 + 50;
        for (int i = 0; i < total; i++) {
            client.newSession("Conversation " + i);
        }
        vm.refreshSessions();
        ui.drain();
        assertThat(vm.sessions()).hasSize(MainViewModel.PAGE);
        assertThat(vm.sessions().get(0).title()).isEqualTo("Conversation " + (total - 1));

        vm.loadMore();
        vm.loadMore();
        vm.loadMore(); // past the end: nothing more to load

        assertThat(vm.sessions()).hasSize(total);
        assertThat(vm.sessions()).extracting(LocalSession::id).doesNotHaveDuplicates();
        assertThat(vm.sessions().get(total - 1).title()).isEqualTo("Conversation 0");

        client.newSession("One more"); // a change is applied in place, without reading the list again
        ui.await(WAIT, "the new conversation on top", () -> vm.sessions().get(0).title().equals("One more"));
        assertThat(vm.sessions()).hasSize(total + 1);
        assertThat(vm.sessions()).extracting(LocalSession::id).doesNotHaveDuplicates();
        assertThat(vm.sessions().get(total).title()).isEqualTo("Conversation 0");
        vm.loadMore(); // everything is loaded: nothing repeats
        assertThat(vm.sessions()).hasSize(total + 1);
    }

    @Test
    void aSearchPagesThroughItsOwnMatchesOnly() throws Exception {
        for (int i = 0; i < MainViewModel.PAGE + 10; i++) {
            client.newSession((i % 2 == 0 ? "Even " : "Odd ") + i);
        }
        vm.searchProperty().set("even");
        ui.drain();
        assertThat(vm.sessions()).hasSize(MainViewModel.PAGE / 2 + 5)
                .allSatisfy(s -> assertThat(s.title()).startsWith("Even"));

        vm.loadMore();

        assertThat(vm.sessions()).hasSize(MainViewModel.PAGE / 2 + 5);
    }

    @Test
    void exportWritesTheConversationAsMarkdownAndAsJson() throws Exception {
        vm.draftProperty().set("What is *Parley*?");
        vm.send();
        ui.await(WAIT, "the reply", () -> vm.messages().size() == 2 && !vm.writingProperty().get());
        LocalSession session = vm.sessions().get(0);
        Path markdown = dir.resolve("chat.md");
        Path json = dir.resolve("chat.json");

        vm.export(session, ConversationExport.Format.MARKDOWN, markdown);
        vm.export(session, ConversationExport.Format.JSON, json);

        String md = Files.readString(markdown);
        assertThat(md).startsWith("# What is *Parley*?\n").contains("## You · ", "What is *Parley*?", "## Parley · ",
                vm.messages().get(1).message().content().strip());
        ConversationExport.Document document = Json.newMapper().readValue(json.toFile(),
                ConversationExport.Document.class);
        assertThat(document.session().id()).isEqualTo(session.id());
        assertThat(document.messages()).containsExactlyElementsOf(vm.messages().stream()
                .map(LocalMessage::message).toList());
        assertThat(vm.noticeProperty().get()).contains("Exported", json.toString());
        assertThat(vm.errorProperty().get()).isEmpty();
    }

    @Test
    void exportIntoAMissingFolderSaysSoAndWritesNothing() throws Exception {
        LocalSession session = client.newSession("Kept safe");
        Path target = dir.resolve("no-such-folder").resolve("chat.md");

        vm.export(session, ConversationExport.Format.MARKDOWN, target);

        assertThat(vm.errorProperty().get()).isEqualTo("Could not export \"Kept safe\" to " + target
                + ": the folder does not exist");
        assertThat(target).doesNotExist();
    }

    @Test
    void listenersOnTheListsItHandsOutKeepHearingAfterAGarbageCollection() throws Exception {
        // The window listens to these lists and keeps no other reference to what it was handed.
        MainViewModel fresh = new MainViewModel(client, ui, "test server");
        AtomicInteger sessionChanges = new AtomicInteger();
        AtomicInteger messageChanges = new AtomicInteger();
        AtomicInteger modelChanges = new AtomicInteger();
        fresh.sessions().addListener((ListChangeListener<LocalSession>) c -> sessionChanges.incrementAndGet());
        fresh.messages().addListener((ListChangeListener<LocalMessage>) c -> messageChanges.incrementAndGet());
        fresh.models().addListener((ListChangeListener<ModelInfo>) c -> modelChanges.incrementAndGet());
        collectGarbage();

        fresh.start();
        fresh.draftProperty().set("Still listening?");
        fresh.send();
        ui.await(WAIT, "the reply", () -> fresh.messages().size() == 2 && !fresh.writingProperty().get());

        assertThat(fresh.sessions()).as("the conversation").hasSize(1);
        assertThat(sessionChanges).as("changes heard on sessions()").hasPositiveValue();
        assertThat(messageChanges).as("changes heard on messages()").hasPositiveValue();
        assertThat(modelChanges).as("changes heard on models()").hasPositiveValue();
    }

    @Test
    void theDefaultModelFromSettingsIsPreselectedWhenTheServerOffersIt() {
        ui.drain();
        String offered = vm.models().get(vm.models().size() - 1).id();

        vm.applySettings(new Settings(null, offered, false));
        assertThat(vm.modelProperty().get()).isEqualTo(offered);

        vm.applySettings(new Settings(null, "no-such-model", false));
        assertThat(vm.modelProperty().get()).as("an unknown model is not forced on the composer").isEqualTo(offered);
    }

    @Test
    void signingOutShowsTheSignedOutStateAndHidesTheAccountsConversations() throws Exception {
        client.signUp("ada@example.com", "correct horse battery");
        vm.newChat();
        ui.await(WAIT, "the signed-in state", () -> vm.signedInProperty().get() && vm.sessions().size() == 1);

        vm.signOut();

        ui.await(WAIT, "the signed-out state", () -> !vm.signedInProperty().get()
                && "Not signed in".equals(vm.accountTextProperty().get()));
        assertThat(vm.selectedProperty().get()).isNull();
        assertThat(vm.sessions()).isEmpty();
    }

    @Test
    void syncTextNamesEveryState() {
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.SYNCED, 0, 0, 0, 0))).isEqualTo("Synced ✓");
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.PENDING, 3, 0, 0, 0))).isEqualTo("3 unsent");
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.OFFLINE, 2, 0, 0, 0))).isEqualTo("Offline · 2 unsent");
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.SYNCING, 40, 0, 10, 50))).isEqualTo("Syncing 10 of 50");
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.SYNCED, 0, 2, 0, 0))).isEqualTo("Synced ✓ · 2 rejected rows");
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.SYNCED, 0, 0, 0, 0), LiveState.LIVE))
                .isEqualTo("Synced ✓ · live");
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.PENDING, 1, 0, 0, 0), LiveState.RECONNECTING))
                .isEqualTo("1 unsent · reconnecting");
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.SYNCED, 0, 0, 0, 0), LiveState.CONNECTING))
                .isEqualTo("Synced ✓");
        assertThat(SyncText.of(new SyncStatus(SyncStatus.State.SIGNED_OUT, 0, 0, 0, 0), LiveState.LIVE))
                .isEqualTo("On this device only");
    }

    /** A full garbage collection: runs collections until a weakly held canary is gone. */
    private static void collectGarbage() {
        WeakReference<Object> canary = new WeakReference<>(new Object());
        for (int i = 0; i < 10 && canary.get() != null; i++) {
            System.gc();
        }
        assertThat(canary.get()).as("a garbage collection cleared weak references").isNull();
    }
}
