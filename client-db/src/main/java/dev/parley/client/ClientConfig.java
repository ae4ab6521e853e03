package dev.parley.client;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Settings of a {@link ChatClient}, immutable; {@link Builder#build()} checks them and names any that is out of
 * range.
 *
 * @param dataDir        the directory of the local database and the token file
 * @param serverUrl      the server's base URL, e.g. {@code http://127.0.0.1:8080}
 * @param clock          decides message times
 * @param ids            makes row ids (UUIDv7 by default)
 * @param backoffInitial the first wait after a failed push
 * @param backoffMax     the longest wait between pushes while the server does not answer
 * @param httpTimeout    the longest one request may take
 * @param launchSecret   sent with every request in {@code X-Parley-Launch-Secret} (the desktop's embedded server
 *                       answers only the app that started it), or {@code null}; never logged
 * @param liveSync       holds the server's live change stream while signed in (SPEC §6 Live sync); off, the client
 *                       pulls only at start, at sign-in and when asked
 * @param liveBackoffMax the longest wait between two attempts to open the live change stream
 */
public record ClientConfig(Path dataDir, String serverUrl, Clock clock, Supplier<String> ids, Duration backoffInitial,
                           Duration backoffMax, Duration httpTimeout, String launchSecret, boolean liveSync,
                           Duration liveBackoffMax) {

    /** Everything but the launch secret. */
    @Override
    public String toString() {
        return "ClientConfig[dataDir=" + dataDir + ", serverUrl=" + serverUrl + ", backoffInitial=" + backoffInitial
                + ", backoffMax=" + backoffMax + ", httpTimeout=" + httpTimeout + ", launchSecret="
                + (launchSecret == null ? "none" : "set") + ", liveSync=" + liveSync + ", liveBackoffMax="
                + liveBackoffMax + "]";
    }

    public static Builder builder(Path dataDir, String serverUrl) {
        return new Builder(dataDir, serverUrl);
    }

    /** Builds a {@link ClientConfig}. */
    public static final class Builder {
        private static final TimeBasedEpochGenerator V7 = Generators.timeBasedEpochGenerator();

        private final Path dataDir;
        private final String serverUrl;
        private Clock clock = Clock.systemUTC();
        private Supplier<String> ids = () -> V7.generate().toString();
        private Duration backoffInitial = Duration.ofSeconds(1);
        private Duration backoffMax = Duration.ofMinutes(5);
        private Duration httpTimeout = Duration.ofSeconds(90);
        private String launchSecret;
        private boolean liveSync = true;
        private Duration liveBackoffMax = Duration.ofSeconds(30);

        private Builder(Path dataDir, String serverUrl) {
            this.dataDir = dataDir;
            this.serverUrl = serverUrl;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public Builder ids(Supplier<String> ids) {
            this.ids = ids;
            return this;
        }

        public Builder backoff(Duration initial, Duration max) {
            this.backoffInitial = initial;
            this.backoffMax = max;
            return this;
        }

        public Builder httpTimeout(Duration httpTimeout) {
            this.httpTimeout = httpTimeout;
            return this;
        }

        /** The secret of the server this app started itself, sent with every request; {@code null} for none. */
        public Builder launchSecret(String launchSecret) {
            this.launchSecret = launchSecret;
            return this;
        }

        /** Whether to hold the live change stream while signed in (default on). */
        public Builder liveSync(boolean liveSync) {
            this.liveSync = liveSync;
            return this;
        }

        /** The longest wait between two attempts to open the live change stream (default 30 s). */
        public Builder liveBackoffMax(Duration liveBackoffMax) {
            this.liveBackoffMax = liveBackoffMax;
            return this;
        }

        /** @throws IllegalArgumentException naming the first setting out of range */
        public ClientConfig build() {
            Objects.requireNonNull(dataDir, "dataDir");
            if (serverUrl == null || !(serverUrl.startsWith("http://") || serverUrl.startsWith("https://"))) {
                throw new IllegalArgumentException("the server URL must start with http:// or https://, not '"
                        + serverUrl + "'");
            }
            if (backoffInitial.isNegative() || backoffInitial.isZero() || backoffMax.compareTo(backoffInitial) < 0) {
                throw new IllegalArgumentException("the push backoff must be positive and its maximum at least its start");
            }
            if (httpTimeout.isNegative() || httpTimeout.isZero()) {
                throw new IllegalArgumentException("the HTTP timeout must be positive");
            }
            if (liveBackoffMax.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("the live sync backoff maximum must be at least 1 s, not "
                        + liveBackoffMax);
            }
            return new ClientConfig(dataDir, serverUrl, Objects.requireNonNull(clock), Objects.requireNonNull(ids),
                    backoffInitial, backoffMax, httpTimeout, launchSecret, liveSync, liveBackoffMax);
        }
    }
}
