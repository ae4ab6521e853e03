package dev.parley.server;

import dev.parley.server.internal.model.LocalModelProvider;
import java.time.Clock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Everything a {@link ParleyServer} needs, immutable and validated by {@link Builder#build()}, which fails fast
 * with a message that names the setting and its limit.
 */
public record ServerConfig(
        String host,
        int port,
        String databaseUrl,
        String databaseUser,
        String databasePassword,
        int poolSize,
        ModelProvider modelProvider,
        Clock clock,
        Supplier<String> idGenerator,
        Duration accessTokenTtl,
        Duration refreshTokenTtl,
        int signInAttemptsPerMinute,
        int anonymousChatsPerMinute,
        Duration claimTtl,
        boolean signUpAllowed,
        Duration streamKeepAlive,
        Security security) {

    /**
     * What keeps a server that faces the internet standing (SPEC §8). Immutable.
     *
     * @param trustedProxies        CIDR blocks ({@code 10.0.0.0/8}, {@code ::1/128}) whose {@code X-Forwarded-For}
     *                              names the client; empty: the socket's address always does
     * @param tlsCertFile           a PEM certificate chain to serve HTTPS with, or {@code null} for plain HTTP
     * @param tlsKeyFile            its PEM private key (PKCS#8), or {@code null}
     * @param dailyTokenBudget      the most {@code total_tokens} one user may use per UTC day; 0 for no cap
     * @param launchSecret          a secret every request must carry in {@value #SECRET_HEADER} (the desktop's
     *                              embedded server), or {@code null} for none
     * @param passwordHashesAtOnce  password hashes computed at once; past it sign-in answers 503
     * @param minRequestBytesPerSecond the slowest a request body may arrive before the connection is cut
     * @param idleTimeout           how long a connection may stay silent (an event stream's keep-alives are
     *                              sent well within it)
     * @param connectionsPerAddress the most connections one client address may hold open at once
     */
    public record Security(List<String> trustedProxies, Path tlsCertFile, Path tlsKeyFile, long dailyTokenBudget,
                           String launchSecret, int passwordHashesAtOnce, int minRequestBytesPerSecond,
                           Duration idleTimeout, int connectionsPerAddress) {
        /** The header that carries the launch secret. */
        public static final String SECRET_HEADER = "X-Parley-Launch-Secret";

        public Security {
            trustedProxies = List.copyOf(trustedProxies);
        }

        /** Whether the server serves HTTPS. */
        public boolean tlsEnabled() {
            return tlsCertFile != null;
        }

        /** Everything but the launch secret. */
        @Override
        public String toString() {
            return "Security[trustedProxies=" + trustedProxies + ", tls=" + (tlsCertFile != null)
                    + ", dailyTokenBudget=" + dailyTokenBudget + ", launchSecret=" + (launchSecret != null)
                    + ", passwordHashesAtOnce=" + passwordHashesAtOnce + ", minRequestBytesPerSecond="
                    + minRequestBytesPerSecond + ", idleTimeout=" + idleTimeout + ", connectionsPerAddress="
                    + connectionsPerAddress + "]";
        }
    }

    /** Everything but the database password. */
    @Override
    public String toString() {
        return "ServerConfig[host=" + host + ", port=" + port + ", databaseUrl=" + databaseUrl + ", databaseUser="
                + databaseUser + ", poolSize=" + poolSize + ", modelProvider=" + modelProvider + ", security="
                + security + "]";
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ServerConfig}; every setting has a default that suits a local server. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private String databaseUrl = "jdbc:sqlite:parley.db";
        private String databaseUser;
        private String databasePassword;
        private int poolSize = 8;
        private ModelProvider modelProvider;
        private Duration localModelTokenDelay = Duration.ZERO;
        private Clock clock = Clock.systemUTC();
        private Supplier<String> idGenerator = Uuids::next;
        private Duration accessTokenTtl = Duration.ofHours(1);
        private Duration refreshTokenTtl = Duration.ofDays(30);
        private int signInAttemptsPerMinute = 10;
        private int anonymousChatsPerMinute = 30;
        private Duration claimTtl = Duration.ofSeconds(10);
        private Duration streamKeepAlive = Duration.ofSeconds(15);
        private boolean signUpAllowed = true;
        private List<String> trustedProxies = List.of();
        private Path tlsCertFile;
        private Path tlsKeyFile;
        private long dailyTokenBudget;
        private String launchSecret;
        private int passwordHashesAtOnce = Math.max(2, Runtime.getRuntime().availableProcessors());
        private int minRequestBytesPerSecond = 1_024;
        private Duration idleTimeout = Duration.ofSeconds(60);
        private int connectionsPerAddress = 64;

        private Builder() {
        }

        /** {@code --trusted-proxy CIDR}, repeatable: the proxies whose {@code X-Forwarded-For} is believed. */
        public Builder trustedProxies(List<String> cidrs) {
            this.trustedProxies = cidrs == null ? List.of() : List.copyOf(cidrs);
            return this;
        }

        /** {@code --tls-cert FILE --tls-key FILE}: serve HTTPS with this PEM certificate chain and key. */
        public Builder tls(Path certFile, Path keyFile) {
            this.tlsCertFile = certFile;
            this.tlsKeyFile = keyFile;
            return this;
        }

        /** {@code --daily-token-budget N}: each user's {@code total_tokens} per UTC day; 0 for no cap. */
        public Builder dailyTokenBudget(long tokens) {
            this.dailyTokenBudget = tokens;
            return this;
        }

        /** A secret every request must carry (the desktop's embedded server makes one per launch). */
        public Builder launchSecret(String secret) {
            this.launchSecret = secret;
            return this;
        }

        /** Password hashes computed at once (each holds ~19 MiB); sign-in past it answers 503. */
        public Builder passwordHashesAtOnce(int n) {
            this.passwordHashesAtOnce = n;
            return this;
        }

        /** The slowest a request body may arrive, in bytes per second, before the connection is cut. */
        public Builder minRequestBytesPerSecond(int bytesPerSecond) {
            this.minRequestBytesPerSecond = bytesPerSecond;
            return this;
        }

        /** How long a connection may stay silent before it is closed. */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        /** The most connections one client address may hold open at once. */
        public Builder connectionsPerAddress(int n) {
            this.connectionsPerAddress = n;
            return this;
        }

        /** Address to bind; {@code 127.0.0.1} by default, so nothing outside this machine can connect. */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** Port to bind; 0 picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** {@code jdbc:sqlite:FILE} or {@code jdbc:postgresql://…}. */
        public Builder databaseUrl(String databaseUrl) {
            this.databaseUrl = databaseUrl;
            return this;
        }

        /** The database account (PostgreSQL); {@code null} leaves it to the URL's {@code user=} parameter. */
        public Builder databaseUser(String databaseUser) {
            this.databaseUser = databaseUser;
            return this;
        }

        /** The database account's password; {@code null} leaves it to the URL or the server's trust settings. */
        public Builder databasePassword(String databasePassword) {
            this.databasePassword = databasePassword;
            return this;
        }

        /** Database connections of this process; with several processes on one PostgreSQL, per process. */
        public Builder poolSize(int poolSize) {
            this.poolSize = poolSize;
            return this;
        }

        /**
         * The model to answer with; the offline {@code local} model when not set. The server never closes it: its
         * maker does, after the server is closed or has handed it back ({@link ParleyServer#useModels}).
         */
        public Builder modelProvider(ModelProvider modelProvider) {
            this.modelProvider = modelProvider;
            return this;
        }

        /** The pause between the built-in model's pieces, when no other provider is set (a slow model, for demos). */
        public Builder localModelTokenDelay(Duration delay) {
            this.localModelTokenDelay = delay;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Makes ids for server-made rows (users, assistant replies); UUIDv7 by default. */
        public Builder idGenerator(Supplier<String> idGenerator) {
            this.idGenerator = idGenerator;
            return this;
        }

        public Builder accessTokenTtl(Duration accessTokenTtl) {
            this.accessTokenTtl = accessTokenTtl;
            return this;
        }

        public Builder refreshTokenTtl(Duration refreshTokenTtl) {
            this.refreshTokenTtl = refreshTokenTtl;
            return this;
        }

        public Builder signInAttemptsPerMinute(int signInAttemptsPerMinute) {
            this.signInAttemptsPerMinute = signInAttemptsPerMinute;
            return this;
        }

        public Builder anonymousChatsPerMinute(int anonymousChatsPerMinute) {
            this.anonymousChatsPerMinute = anonymousChatsPerMinute;
            return this;
        }

        /**
         * How long a claim on a message id lives without renewal (SPEC §5.3: 10 s). The process answering renews it
         * five times in that time, so a claim lapses only when its process died; its message can then be sent again.
         */
        public Builder claimTtl(Duration claimTtl) {
            this.claimTtl = claimTtl;
            return this;
        }

        /** Whether new accounts may be created; a closed server answers sign-ups with 403 {@code forbidden}. */
        public Builder signUpAllowed(boolean signUpAllowed) {
            this.signUpAllowed = signUpAllowed;
            return this;
        }

        /** The longest an open event stream stays silent before a keep-alive comment (SPEC §5.3: at most 15 s). */
        public Builder streamKeepAlive(Duration streamKeepAlive) {
            this.streamKeepAlive = streamKeepAlive;
            return this;
        }

        /** @throws IllegalArgumentException naming the first setting out of range */
        public ServerConfig build() {
            require(host != null && !host.isBlank(), "--host must not be empty");
            require(port >= 0 && port <= 65_535, "--port must be 0 to 65535, not " + port);
            require(databaseUrl != null && (databaseUrl.startsWith("jdbc:sqlite:")
                    || databaseUrl.startsWith("jdbc:postgresql:")),
                    "--db must be a jdbc:sqlite:… or jdbc:postgresql:… URL, not '" + databaseUrl + "'");
            require(poolSize >= 1 && poolSize <= 200, "--pool-size must be 1 to 200, not " + poolSize);
            require(positive(accessTokenTtl), "the access token lifetime must be positive");
            require(positive(refreshTokenTtl), "the refresh token lifetime must be positive");
            require(signInAttemptsPerMinute >= 1, "sign-in attempts per minute must be >= 1");
            require(anonymousChatsPerMinute >= 1, "anonymous chats per minute must be >= 1");
            require(claimTtl.compareTo(Duration.ofMillis(500)) >= 0, "the claim lapse must be at least 500 ms");
            require(positive(streamKeepAlive) && streamKeepAlive.compareTo(Duration.ofSeconds(15)) <= 0,
                    "the stream keep-alive must be positive and at most 15 s");
            require(localModelTokenDelay != null && !localModelTokenDelay.isNegative()
                    && localModelTokenDelay.compareTo(Duration.ofSeconds(10)) <= 0,
                    "--local-model-token-ms must be 0 to 10000");
            require(dailyTokenBudget >= 0, "--daily-token-budget must be 0 (no cap) or more, not " + dailyTokenBudget);
            require((tlsCertFile == null) == (tlsKeyFile == null), "--tls-cert and --tls-key go together");
            require(tlsCertFile == null || java.nio.file.Files.isReadable(tlsCertFile),
                    "--tls-cert: cannot read " + tlsCertFile);
            require(tlsKeyFile == null || java.nio.file.Files.isReadable(tlsKeyFile),
                    "--tls-key: cannot read " + tlsKeyFile);
            require(launchSecret == null || launchSecret.length() >= 32, "the launch secret must be at least 32"
                    + " characters");
            require(passwordHashesAtOnce >= 1 && passwordHashesAtOnce <= 64,
                    "password hashes at once must be 1 to 64, not " + passwordHashesAtOnce);
            require(minRequestBytesPerSecond >= 0, "the minimum request data rate must be 0 or more");
            require(positive(idleTimeout) && idleTimeout.compareTo(streamKeepAlive) > 0,
                    "the idle timeout must be longer than the stream keep-alive (" + streamKeepAlive + ")");
            require(connectionsPerAddress >= 1, "connections per address must be at least 1");
            for (String cidr : trustedProxies) {
                require(cidr != null && cidr.matches("[0-9A-Fa-f:.]+/\\d{1,3}"),
                        "--trusted-proxy must be a CIDR block such as 10.0.0.0/8, not '" + cidr + "'");
            }
            ModelProvider provider = modelProvider != null
                    ? modelProvider
                    : new LocalModelProvider(Duration.ZERO, localModelTokenDelay, 0.0, new Random());
            return new ServerConfig(host, port, databaseUrl, databaseUser, databasePassword, poolSize, provider,
                    Objects.requireNonNull(clock, "clock"), Objects.requireNonNull(idGenerator, "idGenerator"),
                    accessTokenTtl, refreshTokenTtl, signInAttemptsPerMinute, anonymousChatsPerMinute, claimTtl,
                    signUpAllowed, streamKeepAlive, new Security(trustedProxies, tlsCertFile, tlsKeyFile,
                    dailyTokenBudget, launchSecret, passwordHashesAtOnce, minRequestBytesPerSecond, idleTimeout,
                    connectionsPerAddress));
        }

        private static boolean positive(Duration d) {
            return d != null && !d.isNegative() && !d.isZero();
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
