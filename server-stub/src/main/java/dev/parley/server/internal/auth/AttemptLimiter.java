package dev.parley.server.internal.auth;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token buckets keyed by a string (an e-mail, a client address). Remembers the most recently used keys only, so an
 * attacker inventing keys cannot exhaust memory. Thread-safe.
 */
public final class AttemptLimiter {
    private static final int MAX_KEYS = 10_000;

    private final long perMinute;
    private final TimeMeter time;
    private final Map<String, Bucket> buckets = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > MAX_KEYS;
        }
    };

    /**
     * @param perMinute attempts allowed per key per minute (also the burst)
     * @param clock     the time source, injectable for tests
     */
    public AttemptLimiter(long perMinute, Clock clock) {
        if (perMinute < 1) {
            throw new IllegalArgumentException("attempts per minute must be >= 1, not " + perMinute);
        }
        this.perMinute = perMinute;
        this.time = new TimeMeter() {
            @Override
            public long currentTimeNanos() {
                Instant now = clock.instant();
                return now.getEpochSecond() * 1_000_000_000L + now.getNano();
            }

            @Override
            public boolean isWallClockBased() {
                return true;
            }
        };
    }

    /** Takes one attempt for {@code key}; returns 0 when allowed, else the seconds to wait (at least 1). */
    public long tryAcquire(String key) {
        ConsumptionProbe probe = bucket(key).tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            return 0;
        }
        return Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
    }

    /**
     * Gives back an attempt taken with {@link #tryAcquire} that should not count (a sign-in that succeeded, or one
     * the server was too busy to check). Taking first and giving back after, rather than looking first and taking
     * after, keeps concurrent attempts from all slipping past one remaining token.
     */
    public void refund(String key) {
        bucket(key).addTokens(1);
    }

    private Bucket bucket(String key) {
        synchronized (buckets) {
            return buckets.computeIfAbsent(key, k -> Bucket.builder()
                    .addLimit(Bandwidth.builder().capacity(perMinute).refillGreedy(perMinute, Duration.ofMinutes(1))
                            .build())
                    .withCustomTimePrecision(time)
                    .build());
        }
    }

    /**
     * The key of a client address: an IPv4 address as it is, an IPv6 address by its /64 network, since one
     * subscriber usually holds a whole /64 and could otherwise take a fresh key per request. IPv4-mapped IPv6
     * addresses count as their IPv4 address. Anything that is not an IP literal is kept as it is (it is never
     * looked up).
     */
    public static String addressKey(String address) {
        if (address == null || address.isEmpty()) {
            return "";
        }
        String literal = address.startsWith("[") && address.endsWith("]")
                ? address.substring(1, address.length() - 1) : address;
        int zone = literal.indexOf('%');
        if (zone >= 0) {
            literal = literal.substring(0, zone);
        }
        if (literal.indexOf(':') < 0 || !literal.matches("[0-9A-Fa-f:.]+")) {
            return address;
        }
        byte[] bytes;
        try {
            // A literal of hex digits, colons and dots only: parsed, never resolved.
            bytes = InetAddress.getByName(literal).getAddress();
        } catch (UnknownHostException e) {
            return address;
        }
        if (bytes.length == 4) {
            return (bytes[0] & 0xff) + "." + (bytes[1] & 0xff) + "." + (bytes[2] & 0xff) + "." + (bytes[3] & 0xff);
        }
        StringBuilder key = new StringBuilder();
        for (int i = 0; i < 8; i += 2) {
            key.append(Integer.toHexString(((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff))).append(':');
        }
        return key.append(":/64").toString();
    }
}
