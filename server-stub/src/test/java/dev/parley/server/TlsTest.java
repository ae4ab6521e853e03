package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.server.testing.TestServer;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --tls-cert/--tls-key} (PEM) serve HTTPS, with a certificate made for the test by the JDK's keytool. */
class TlsTest {

    @Test
    void aServerWithACertificateAnswersOverHttps(@TempDir Path dir) throws Exception {
        Path keyStore = dir.resolve("server.p12");
        char[] password = "test-password".toCharArray();
        keytool("-genkeypair", "-alias", "parley", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
                "-keystore", keyStore.toString(), "-storepass", new String(password));
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(keyStore.toFile())) {
            store.load(in, password);
        }
        Certificate certificate = store.getCertificate("parley");
        PrivateKey key = (PrivateKey) store.getKey("parley", password);
        Path certFile = Files.writeString(dir.resolve("cert.pem"), pem("CERTIFICATE", certificate.getEncoded()));
        Path keyFile = Files.writeString(dir.resolve("key.pem"), pem("PRIVATE KEY", key.getEncoded())); // PKCS#8

        try (TestServer server = TestServer.start(Files.createDirectories(dir.resolve("db")), b -> b.tls(certFile, keyFile))) {
            assertThat(server.server.url()).startsWith("https://127.0.0.1:");

            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("parley", certificate);
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, trust.getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5))
                    .build();

            HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create(server.server.url()
                    + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> signUp = client.send(HttpRequest.newBuilder(URI.create(server.server.url()
                    + "/api/auth/signup")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"email\":\"tls@example.com\",\"password\":\"a long enough password\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());

            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(signUp.statusCode()).isEqualTo(201);

            // Plain HTTP to the same port is not served.
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            String plainUrl = server.server.url().replace("https://", "http://") + "/health";
            int plainStatus;
            try {
                plainStatus = plain.send(HttpRequest.newBuilder(URI.create(plainUrl)).timeout(Duration.ofSeconds(5))
                        .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
            } catch (java.io.IOException refused) {
                plainStatus = -1;
            }
            assertThat(plainStatus).isNotEqualTo(200);

            // A client that does not trust the certificate cannot talk to it.
            HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            Throwable refused = null;
            try {
                untrusting.send(HttpRequest.newBuilder(URI.create(server.server.url() + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (SSLHandshakeException e) {
                refused = e;
            }
            assertThat(refused).isNotNull();
        }
    }

    @Test
    void aKeyThatIsNotPkcs8PemStopsTheStartWithAMessage(@TempDir Path dir) throws Exception {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "not a certificate");
        Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n"
                + "-----END RSA PRIVATE KEY-----\n");
        Throwable failure = null;
        try (TestServer ignored = TestServer.start(Files.createDirectories(dir.resolve("db")), b -> b.tls(cert, key))) {
            // not reached
        } catch (RuntimeException e) {
            failure = e;
        }
        assertThat(failure).isNotNull();
        String messages = "";
        for (Throwable t = failure; t != null; t = t.getCause()) {
            messages += t.getMessage() + "\n";
        }
        assertThat(messages).contains("--tls-cert/--tls-key");
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void keytool(String... args) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> command = new java.util.ArrayList<>(List.of(keytool.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
    }
}
