package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.client.testing.MutableClock;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Accounts on one device: rows belong to the account that wrote (or adopted) them and are pushed with that
 * account's token only; tokens refresh by themselves and sit in an owner-only file; a refused row stays visible
 * and is never sent again.
 */
class AccountIsolationTest {
    private static final String ADA = "ada@example.com";
    private static final String BOB = "bob@example.com";
    private static final String PASSWORD = "correct horse battery";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    Backend backend;
    final List<ChatClient> clients = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (ChatClient client : clients) {
            client.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void signingInAsAnotherAccountNeverPushesTheFirstAccountsPendingRows() throws Exception {
        backend = new Backend(dir);
        createAccount(BOB);
        FaultProxy net = backend.newProxy();
        ChatClient device = open("device", net);
        Account ada = device.signUp(ADA, PASSWORD);
        LocalSession plans = device.newSession("Ada's plans");
        net.mode(Mode.DOWN);
        Exchange.Outcome offline = device.send(plans.id(), "Only for Ada", null).outcome().get(20, TimeUnit.SECONDS);
        assertThat(offline.userMessage().syncState()).isEqualTo(SyncState.PENDING);
        device.signOut();
        // Pushes run on one thread: this waits out any push Ada's session started before signing out (it fails, the
        // network is down), so none can reach the server with Ada's own token once the network is back.
        assertThat(device.pushNow().get(20, TimeUnit.SECONDS)).isFalse();
        net.mode(Mode.PASS);

        Account bob = device.signIn(BOB, PASSWORD);
        boolean drained = device.pushNow().get(20, TimeUnit.SECONDS);

        assertThat(bob.userId()).isNotEqualTo(ada.userId());
        assertThat(drained).isTrue();
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isZero();
        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions")).isZero();
        assertThat(device.sessions(null, null, 100)).isEmpty();
        assertThat(device.session(plans.id())).isEmpty();
        assertThat(device.messages(plans.id())).isEmpty();
        assertThat(device.syncStatus().unsent()).isZero();
        assertThat(device.rejectedMessages()).isEmpty();

        device.signOut();
        device.signIn(ADA, PASSWORD);
        Backend.await(WAIT, "Ada's outbox to drain", () -> device.syncStatus().unsent() == 0);

        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(1);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE id = '" + offline.userMessage().id()
                + "' AND user_id = '" + ada.userId() + "'")).isEqualTo(1);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions WHERE id = '" + plans.id()
                + "' AND user_id = '" + ada.userId() + "'")).isEqualTo(1);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions WHERE user_id = '" + bob.userId() + "'"))
                .isZero();
        assertThat(device.sessions(null, null, 100)).extracting(LocalSession::id).containsExactly(plans.id());
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void pushInFlightDuringAnAccountSwitchIsNeverResentWithTheNextAccountsToken() throws Exception {
        backend = new Backend(dir);
        createAccount(BOB);
        try (PushGate gate = new PushGate(backend.server.port())) {
            ChatClient device = ChatClient.open(ClientConfig.builder(dir.resolve("device"), gate.url())
                    .backoff(Duration.ofMillis(50), Duration.ofMillis(400)).httpTimeout(WAIT).build());
            clients.add(device);
            device.signUp(ADA, PASSWORD);
            gate.holdNextPush();
            LocalSession diary = device.newSession("Ada's diary");
            CompletableFuture<Boolean> adasPush = device.pushNow();
            gate.awaitHeld();

            device.signOut(); // online: the server revokes Ada's tokens, so the held push will be answered 401
            CompletableFuture<Account> bobSignsIn = CompletableFuture.supplyAsync(() -> device.signIn(BOB, PASSWORD));
            Backend.await(WAIT, "Bob's tokens to be stored",
                    () -> device.account().map(a -> a.email().equals(BOB)).orElse(false));
            gate.release();
            Account bob = bobSignsIn.get(20, TimeUnit.SECONDS);
            adasPush.get(20, TimeUnit.SECONDS);

            long adasSessionUnderBob = backend.queryLong("SELECT count(*) FROM chat_sessions WHERE id = '"
                    + diary.id() + "' AND user_id = '" + bob.userId() + "'");
            List<String> bobsView = device.sessions(null, null, 100).stream().map(LocalSession::id).toList();

            SoftAssertions.assertSoftly(soft -> {
                soft.assertThat(adasSessionUnderBob).as("Ada's session stored under Bob's account").isZero();
                soft.assertThat(bobsView).as("Bob's conversations").doesNotContain(diary.id());
            });
        }
    }

    @Test
    void rowsWrittenSignedOutAreAdoptedByTheAccountThatSignsInAndNeverShownToTheNext() throws Exception {
        backend = new Backend(dir);
        createAccount(ADA);
        createAccount(BOB);
        ChatClient device = open("device", backend.proxy);
        LocalSession draft = device.newSession("Before signing in");
        Exchange.Outcome anonymous = device.send(draft.id(), "Hello before signing in", null).outcome()
                .get(20, TimeUnit.SECONDS);
        assertThat(anonymous.reply()).isNotNull();
        assertThat(anonymous.userMessage().syncState()).isEqualTo(SyncState.LOCAL);
        assertThat(device.syncStatus().state()).isEqualTo(SyncStatus.State.SIGNED_OUT);
        assertThat(device.syncStatus().unsent()).isEqualTo(3); // the session, the question and the reply
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isZero();

        Account ada = device.signIn(ADA, PASSWORD);

        assertThat(device.syncStatus().unsent()).isZero();
        assertThat(device.messages(draft.id())).hasSize(2)
                .allSatisfy(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE user_id = '" + ada.userId() + "'"))
                .isEqualTo(2);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions WHERE id = '" + draft.id()
                + "' AND user_id = '" + ada.userId() + "'")).isEqualTo(1);

        device.signOut();
        Account bob = device.signIn(BOB, PASSWORD);

        assertThat(device.sessions(null, null, 100)).isEmpty();
        assertThat(device.sessions("before", null, 100)).isEmpty();
        assertThat(device.session(draft.id())).isEmpty();
        assertThat(device.messages(draft.id())).isEmpty();
        assertThat(device.syncStatus().unsent()).isZero();
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE user_id = '" + bob.userId() + "'"))
                .isZero();
        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions WHERE user_id = '" + bob.userId() + "'"))
                .isZero();
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void expiredAccessTokenIsRefreshedDuringPushWithoutSigningInAgain() throws Exception {
        MutableClock serverClock = new MutableClock();
        backend = new Backend(dir, b -> b.accessTokenTtl(Duration.ofMinutes(1)).clock(serverClock));
        FaultProxy net = backend.newProxy();
        ChatClient device = open("device", net);
        device.signUp(ADA, PASSWORD);
        AuthResponse before = readTokens(device);
        LocalSession session = device.newSession("Long flight");
        net.mode(Mode.DOWN);
        device.send(session.id(), "Written above the clouds", null).outcome().get(20, TimeUnit.SECONDS);
        device.send(session.id(), "Still no signal", null).outcome().get(20, TimeUnit.SECONDS);
        assertThat(device.syncStatus().unsent()).isEqualTo(3);
        serverClock.advance(Duration.ofMinutes(5));

        net.mode(Mode.PASS);
        device.connectivityRegained();
        Backend.await(WAIT, "the outbox to drain", () -> device.syncStatus().unsent() == 0);

        AuthResponse after = readTokens(device);
        assertThat(device.account()).get().extracting(Account::email).isEqualTo(ADA);
        assertThat(after.accessToken()).isNotEqualTo(before.accessToken());
        assertThat(after.refreshToken()).isNotEqualTo(before.refreshToken());
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(2);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_sessions")).isEqualTo(1);
        assertThat(device.messages(session.id()))
                .allSatisfy(m -> assertThat(m.syncState()).isEqualTo(SyncState.SYNCED));
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void rejectedMessageIsShownWithItsReasonAndNeverSentAgain() throws Exception {
        backend = new Backend(dir);
        FaultProxy netA = backend.newProxy();
        FaultProxy netB = backend.newProxy();
        ChatClient deviceA = open("device-a", netA);
        deviceA.signUp(ADA, PASSWORD);
        LocalSession session = deviceA.newSession("Soon deleted");
        assertThat(deviceA.send(session.id(), "Hello", null).outcome().get(20, TimeUnit.SECONDS).reply()).isNotNull();
        Backend.await(WAIT, "device A to drain", () -> deviceA.syncStatus().unsent() == 0);
        ChatClient deviceB = open("device-b", netB);
        deviceB.signIn(ADA, PASSWORD);
        assertThat(deviceB.session(session.id())).isPresent();
        netB.mode(Mode.DOWN);
        deviceA.delete(session.id());
        Backend.await(WAIT, "the delete to reach the server", () -> deviceA.syncStatus().unsent() == 0);
        Exchange.Outcome late = deviceB.send(session.id(), "Too late", null).outcome().get(20, TimeUnit.SECONDS);
        assertThat(late.userMessage().syncState()).isEqualTo(SyncState.PENDING);

        netB.mode(Mode.PASS);
        deviceB.connectivityRegained();
        Backend.await(WAIT, "device B's push", () -> deviceB.syncStatus().unsent() == 0);

        SyncStatus status = deviceB.syncStatus();
        assertThat(status.rejected()).isGreaterThanOrEqualTo(1);
        assertThat(status.unsent()).isZero();
        assertThat(deviceB.rejectedMessages()).singleElement().satisfies(m -> {
            assertThat(m.id()).isEqualTo(late.userMessage().id());
            assertThat(m.syncState()).isEqualTo(SyncState.REJECTED);
            assertThat(m.rejectReason()).isNotBlank();
        });
        long messagesOnServer = backend.queryLong("SELECT count(*) FROM chat_messages");
        long changeClock = backend.queryLong("SELECT max(change_seq) FROM users");

        boolean drained = deviceB.pushNow().get(20, TimeUnit.SECONDS);
        deviceB.close();
        clients.remove(deviceB);
        ChatClient restarted = open("device-b", netB);
        boolean drainedAfterRestart = restarted.pushNow().get(20, TimeUnit.SECONDS);

        assertThat(drained).isTrue();
        assertThat(drainedAfterRestart).isTrue();
        assertThat(restarted.rejectedMessages()).singleElement().satisfies(m -> {
            assertThat(m.id()).isEqualTo(late.userMessage().id());
            assertThat(m.syncState()).isEqualTo(SyncState.REJECTED);
        });
        assertThat(restarted.syncStatus().rejected()).isEqualTo(status.rejected());
        assertThat(restarted.syncStatus().unsent()).isZero();
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages")).isEqualTo(messagesOnServer);
        assertThat(backend.queryLong("SELECT max(change_seq) FROM users")).isEqualTo(changeClock);
        assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE id = '" + late.userMessage().id() + "'"))
                .isZero();
        assertThat(backend.mismatches()).isEmpty();
    }

    @Test
    void tokenFileIsOwnerOnlyAndHoldsNoPassword() throws Exception {
        backend = new Backend(dir);
        ChatClient device = open("device", backend.proxy);
        device.signUp(ADA, PASSWORD);
        Path tokenFile = device.tokenFile();

        assertThat(tokenFile).startsWith(dir.resolve("device"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile))).isEqualTo("rw-------");
        assertThat(Files.readString(tokenFile, StandardCharsets.UTF_8)).doesNotContain(PASSWORD)
                .contains(readTokens(device).accessToken());
        try (Stream<Path> files = Files.walk(dir.resolve("device"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1)).as(file.toString())
                        .doesNotContain(PASSWORD);
            }
        }

        device.signOut();

        assertThat(tokenFile).doesNotExist();
    }

    private ChatClient open(String name, FaultProxy net) {
        ChatClient client = backend.client(name, net);
        clients.add(client);
        return client;
    }

    /** Creates an account on a throwaway device, so that the device under test only signs in. */
    private void createAccount(String email) {
        try (ChatClient elsewhere = backend.client("signup-" + email)) {
            elsewhere.signUp(email, PASSWORD);
            elsewhere.signOut();
        }
    }

    private static AuthResponse readTokens(ChatClient client) throws Exception {
        ObjectMapper json = Json.newMapper();
        return json.readValue(client.tokenFile().toFile(), AuthResponse.class);
    }

    /**
     * A loopback proxy to the server that can hold the next push request ({@code POST /api/chat/messages}) until
     * released, so that the client's state can change while that request is on its way.
     */
    private static final class PushGate implements AutoCloseable {
        private final ServerSocket listener;
        private final int upstreamPort;
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "push-gate");
            t.setDaemon(true);
            return t;
        });
        private final AtomicBoolean armed = new AtomicBoolean();
        private final CountDownLatch held = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        PushGate(int upstreamPort) throws IOException {
            this.upstreamPort = upstreamPort;
            this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            threads.execute(this::acceptLoop);
        }

        String url() {
            return "http://127.0.0.1:" + listener.getLocalPort();
        }

        void holdNextPush() {
            armed.set(true);
        }

        void awaitHeld() throws InterruptedException {
            assertThat(held.await(20, TimeUnit.SECONDS)).as("a push reached the gate").isTrue();
        }

        void release() {
            released.countDown();
        }

        private void acceptLoop() {
            while (!listener.isClosed()) {
                try {
                    Socket client = listener.accept();
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                    threads.execute(() -> pump(client, server, true));
                    threads.execute(() -> pump(server, client, false));
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private void pump(Socket from, Socket to, boolean request) {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (request && new String(buffer, 0, n, StandardCharsets.ISO_8859_1)
                            .startsWith("POST /api/chat/messages ") && armed.compareAndSet(true, false)) {
                        held.countDown();
                        released.await();
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the other side closed, or the gate shut down
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }

        @Override
        public void close() throws IOException {
            released.countDown();
            listener.close();
            threads.shutdownNow();
        }
    }
}
