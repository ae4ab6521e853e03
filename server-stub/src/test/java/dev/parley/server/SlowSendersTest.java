package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.server.testing.RawHttp;
import dev.parley.server.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC §8: bodies must arrive at a minimum rate, a few hundred slow senders do not stop the server answering, and
 * one client address holds a bounded number of connections.
 */
class SlowSendersTest {
    private static final int SLOW_SENDERS = 300;

    @Test
    void hundredsOfSlowBodiesAreCutOffWhileHealthKeepsAnswering(@TempDir Path dir) throws Exception {
        try (TestServer server = TestServer.start(dir, b -> b.minRequestBytesPerSecond(100)
                .streamKeepAlive(Duration.ofSeconds(1)).idleTimeout(Duration.ofSeconds(4))
                .connectionsPerAddress(SLOW_SENDERS + 50))) {
            int port = server.server.port();
            List<Socket> senders = new ArrayList<>();
            try {
                for (int i = 0; i < SLOW_SENDERS; i++) {
                    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
                    socket.getOutputStream().write(("POST /api/auth/signin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    senders.add(socket);
                }
                long started = System.nanoTime();
                long worstHealthMillis = 0;
                int healthChecks = 0;
                int trickles = 0;
                long nextTrickle = started;
                // For 8 s: a byte from every sender each 1.5 s, and /health asked all the while.
                while (System.nanoTime() - started < Duration.ofSeconds(8).toNanos()) {
                    if (System.nanoTime() >= nextTrickle) {
                        for (Socket socket : senders) {
                            try {
                                socket.getOutputStream().write(' ');
                            } catch (IOException cutOff) {
                                // the server closed it: what the test expects, sooner or later
                            }
                        }
                        trickles++;
                        nextTrickle += Duration.ofMillis(1_500).toNanos();
                    }
                    long asked = System.nanoTime();
                    RawHttp.Answer health = RawHttp.send(port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", null);
                    worstHealthMillis = Math.max(worstHealthMillis, (System.nanoTime() - asked) / 1_000_000);
                    healthChecks++;
                    assertThat(health.status()).isEqualTo(200);
                }
                System.out.printf("slow senders: %d health checks, worst %d ms, %d trickles%n", healthChecks,
                        worstHealthMillis, trickles);
                assertThat(worstHealthMillis).isLessThan(2_000);

                int cutOff = 0;
                for (Socket socket : senders) {
                    if (answeredOrClosed(socket)) {
                        cutOff++;
                    }
                }
                // Every sender managed ~6 bytes in 8 s, far below 100 bytes per second: all were cut off.
                assertThat(cutOff).isEqualTo(SLOW_SENDERS);
                assertThat(server.queryLong("SELECT count(*) FROM users")).isZero();
            } finally {
                for (Socket socket : senders) {
                    socket.close();
                }
            }
        }
    }

    @Test
    void aBodySentAtAReasonableRateIsRead(@TempDir Path dir) throws Exception {
        try (TestServer server = TestServer.start(dir, b -> b.minRequestBytesPerSecond(20))) {
            server.signUp("steady@example.com");
            String body = "{\"email\":\"steady@example.com\",\"password\":\"password-of-steady@example.com\"}";
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.server.port())) {
                socket.getOutputStream().write(("POST /api/auth/signin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " + body.length()
                        + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                // ~75 bytes in pieces of 8 every 200 ms (~40 bytes per second): slow, but above the rate.
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                for (int i = 0; i < bytes.length; i += 8) {
                    socket.getOutputStream().write(bytes, i, Math.min(8, bytes.length - i));
                    socket.getOutputStream().flush();
                    Thread.sleep(Duration.ofMillis(200).toMillis()); // pacing of the sender, not a wait for the server
                }
                String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(answer).startsWith("HTTP/1.1 200");
            }
        }
    }

    @Test
    void oneAddressHoldsAtMostItsConnections(@TempDir Path dir) throws Exception {
        try (TestServer server = TestServer.start(dir, b -> b.connectionsPerAddress(4))) {
            int port = server.server.port();
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    held.add(new Socket(InetAddress.getLoopbackAddress(), port));
                }
                // Each held connection is open on the server once it answers a request on it.
                for (Socket socket : held) {
                    socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    socket.setSoTimeout(5_000);
                    assertThat(readHead(socket.getInputStream())).startsWith("HTTP/1.1 200");
                }

                try (Socket fifth = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    fifth.setSoTimeout(5_000);
                    fifth.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    assertThat(readHeadOrClosed(fifth.getInputStream())).isEmpty();
                }

                held.remove(0).close();
                RawHttp.Answer afterOneLeft = awaitHealth(port);
                assertThat(afterOneLeft.status()).isEqualTo(200);
            } finally {
                for (Socket socket : held) {
                    socket.close();
                }
            }
        }
    }

    /** /health once a connection slot is free again (the server notices the closed socket asynchronously). */
    private static RawHttp.Answer awaitHealth(int port) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            try {
                RawHttp.Answer answer = RawHttp.send(port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n", null);
                if (answer.status() == 200 || System.nanoTime() > deadline) {
                    return answer;
                }
            } catch (RuntimeException closed) {
                if (System.nanoTime() > deadline) {
                    throw closed;
                }
            }
            Thread.onSpinWait();
        }
    }

    private static boolean answeredOrClosed(Socket socket) throws IOException {
        socket.setSoTimeout(5_000);
        try {
            InputStream in = socket.getInputStream();
            return in.read() != 0 || true; // any byte (an error answer) or -1 (closed) means the server let go
        } catch (SocketTimeoutException stillHeld) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        // skip the small JSON body of /health by its Content-Length
        String text = head.toString();
        int at = text.toLowerCase().indexOf("content-length:");
        if (at >= 0) {
            int length = Integer.parseInt(text.substring(at + 15, text.indexOf("\r\n", at)).strip());
            in.readNBytes(length);
        }
        return text;
    }

    private static String readHeadOrClosed(InputStream in) {
        try {
            return readHead(in);
        } catch (IOException reset) {
            return "";
        }
    }
}
