package dev.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.client.testing.Backend;
import dev.parley.client.testing.FaultProxy.Mode;
import dev.parley.protocol.Role;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A retried message is answered on the server, its answer is lost on the way back, and a pull brings the answer
 * before the client gives up on the request: the answer stays. A success is final, so a late "no answer" never
 * turns it back into a failed message (which, marked synced, no later push or pull would repair). Found by
 * {@code ./parley chaos}.
 */
class LostAnswerAfterPullTest {
    @TempDir
    Path dir;

    @Test
    void answerPulledWhileTheRetrysAnswerIsLostIsKept() throws Exception {
        try (Backend backend = new Backend(dir); ChatAnswerCutter cutter = new ChatAnswerCutter(backend.server.port());
             ChatClient client = ChatClient.open(ClientConfig.builder(dir.resolve("device"), cutter.url())
                     .backoff(Duration.ofMillis(50), Duration.ofMillis(400)).httpTimeout(Duration.ofSeconds(20))
                     .build());
             ChatClient viaBackendProxy = backend.client("first")) {
            viaBackendProxy.signUp("ada@example.com", "correct horse battery");
            client.signIn("ada@example.com", "correct horse battery");
            LocalSession session = client.newSession("Lost answers");
            cutter.goDown();
            LocalMessage failed = client.send(session.id(), "are you there?", null).outcome()
                    .get(20, TimeUnit.SECONDS).userMessage();
            cutter.down = false;
            client.connectivityRegained();
            Backend.await(Duration.ofSeconds(20), "the failed message on the server",
                    () -> client.syncStatus().unsent() == 0);
            assertThat(client.messages(session.id())).singleElement()
                    .satisfies(m -> assertThat(m.failed()).isTrue());

            cutter.cutChatAnswers = true;
            Exchange retry = client.retry(failed.id());
            assertThat(cutter.answerHeld.await(20, TimeUnit.SECONDS)).isTrue(); // answered on the server
            client.pullNow().get(20, TimeUnit.SECONDS); // the pull brings the answer first
            cutter.release.countDown(); // now the chat answer is dropped: the request ends with no answer

            Exchange.Outcome outcome = retry.outcome().get(30, TimeUnit.SECONDS);

            assertThat(outcome.userMessage().failed()).isFalse();
            assertThat(client.messages(session.id())).extracting(m -> m.message().role(), LocalMessage::failed)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(Role.USER, false),
                            org.assertj.core.groups.Tuple.tuple(Role.ASSISTANT, false));
            assertThat(backend.queryLong("SELECT count(*) FROM chat_messages WHERE role = 'assistant'")).isEqualTo(1);
            assertThat(client.syncStatus().unsent()).isZero();
            assertThat(backend.mismatches()).isEmpty();
            assertThat(backend.proxy.cutReplies()).isZero();
            backend.proxy.mode(Mode.PASS);
        }
    }

    /**
     * A loopback proxy that can refuse every connection, or let {@code POST /api/chat} through and hold its answer
     * until {@link #release} opens, then drop it (every later chat answer is dropped at once).
     */
    static final class ChatAnswerCutter implements AutoCloseable {
        final CountDownLatch answerHeld = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean down;
        volatile boolean cutChatAnswers;
        private final ServerSocket listener;
        private final int upstream;
        private final ExecutorService threads = Executors.newCachedThreadPool();
        private final java.util.Set<Socket> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

        ChatAnswerCutter(int upstream) throws IOException {
            this.upstream = upstream;
            this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            threads.execute(this::accept);
        }

        /** Refuses new connections and closes the open ones (pooled keep-alive connections too). */
        void goDown() throws IOException {
            down = true;
            for (Socket socket : open) {
                socket.close();
            }
        }

        String url() {
            return "http://127.0.0.1:" + listener.getLocalPort();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket client = listener.accept();
                    if (down) {
                        client.close();
                        continue;
                    }
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), upstream);
                    open.add(client);
                    open.add(server);
                    boolean[] chat = {false};
                    threads.execute(() -> pump(client, server, chat, false));
                    threads.execute(() -> pump(server, client, chat, true));
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private void pump(Socket from, Socket to, boolean[] chat, boolean answers) {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (!answers && n >= 15) {
                        chat[0] = new String(buffer, 0, 15, StandardCharsets.US_ASCII).equals("POST /api/chat ");
                    }
                    if (answers && chat[0] && cutChatAnswers) {
                        answerHeld.countDown();
                        release.await(30, TimeUnit.SECONDS);
                        break;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // closed
            } finally {
                open.remove(from);
                open.remove(to);
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // closed
                }
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            threads.shutdownNow();
        }
    }
}
