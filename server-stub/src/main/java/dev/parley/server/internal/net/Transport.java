package dev.parley.server.internal.net;

import dev.parley.server.ServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The server's one connector, HTTP or HTTPS, with the limits of SPEC §8 that live below HTTP: the idle timeout,
 * the connections one client address may hold, and the certificate and key of {@code --tls-cert/--tls-key}
 * (PEM, read with the JDK's own {@link CertificateFactory} and {@link KeyFactory} into a key store kept in
 * memory). Used once, while the server starts.
 */
public final class Transport {
    private final ServerConfig.Security security;
    private final ClientAddresses addresses;

    public Transport(ServerConfig.Security security, ClientAddresses addresses) {
        this.security = security;
        this.addresses = addresses;
    }

    /** The connector for {@code host:port}; HTTPS when the configuration has a certificate. */
    public ServerConnector connector(Server server, HttpConfiguration http, String host, int port) {
        ServerConnector connector;
        if (security.tlsEnabled()) {
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            // The name asked for is checked by the Host rule, not against the certificate: a certificate for
            // "localhost" must also serve https://127.0.0.1.
            secure.setSniHostCheck(false);
            http.addCustomizer(secure);
            connector = new ServerConnector(server,
                    new SslConnectionFactory(tls(security.tlsCertFile(), security.tlsKeyFile()),
                            HttpVersion.HTTP_1_1.asString()),
                    new HttpConnectionFactory(http));
        } else {
            connector = new ServerConnector(server, new HttpConnectionFactory(http));
        }
        connector.setHost(host);
        connector.setPort(port);
        connector.setIdleTimeout(security.idleTimeout().toMillis());
        connector.addEventListener(new ConnectionsPerAddress(security.connectionsPerAddress(), addresses));
        return connector;
    }

    /** Jetty's TLS settings with the key and chain read from PEM files. */
    static SslContextFactory.Server tls(Path certFile, Path keyFile) {
        char[] password = UUID.randomUUID().toString().toCharArray(); // guards an in-memory store: any will do
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("parley", privateKey(keyFile), password, chain(certFile).toArray(Certificate[]::new));
            SslContextFactory.Server factory = new SslContextFactory.Server();
            factory.setKeyStore(store);
            factory.setKeyStorePassword(new String(password));
            factory.setKeyManagerPassword(new String(password));
            return factory;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("--tls-cert/--tls-key: cannot use " + certFile + " and " + keyFile
                    + ": " + e.getMessage(), e);
        }
    }

    static List<Certificate> chain(Path certFile) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(certFile)) {
            List<Certificate> chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (chain.isEmpty()) {
                throw new GeneralSecurityException("no certificate in " + certFile);
            }
            return chain;
        }
    }

    /** A PKCS#8 {@code BEGIN PRIVATE KEY} block: RSA, EC or Ed25519, whichever the key is. */
    static PrivateKey privateKey(Path keyFile) throws IOException, GeneralSecurityException {
        String pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new GeneralSecurityException("the key must be PKCS#8 PEM (-----BEGIN PRIVATE KEY-----); convert"
                    + " it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw last;
    }
}
