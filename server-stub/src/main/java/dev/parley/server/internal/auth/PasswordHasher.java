package dev.parley.server.internal.auth;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import dev.parley.protocol.ErrorCode;
import dev.parley.server.internal.ApiException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Argon2id password hashes (OWASP's minimum: 19 MiB, 2 passes, 1 lane), at most a fixed number at once. Each hash
 * holds its 19 MiB for its whole run, so a burst of sign-ins computed all at once would exhaust the heap; past the
 * bound a caller waits briefly for a turn, then is told the server is busy (503 {@code unavailable}, retryable)
 * rather than queued without end. Thread-safe.
 */
final class PasswordHasher {
    private static final Argon2Function ARGON2ID = Argon2Function.getInstance(19_456, 2, 1, 32, Argon2.ID);
    /** Checked against when the account does not exist, so that a missing account takes as long as a wrong password. */
    private static final String DUMMY_HASH = rawHash("not-a-real-password");

    private final Semaphore turns;
    private final long waitNanos;

    /**
     * @param atOnce hashes computed at once
     * @param wait   how long a caller waits for a turn before it is answered {@code unavailable}
     */
    PasswordHasher(int atOnce, Duration wait) {
        if (atOnce < 1) {
            throw new IllegalArgumentException("password hashes at once must be >= 1, not " + atOnce);
        }
        this.turns = new Semaphore(atOnce, true);
        this.waitNanos = wait.toNanos();
    }

    String hash(String password) {
        return bounded(() -> rawHash(password));
    }

    boolean matches(String password, String storedHash) {
        return bounded(() -> Password.check(password, storedHash)
                .with(Argon2Function.getInstanceFromHash(storedHash)));
    }

    /** As long as {@link #matches} takes, for an account that does not exist. */
    void burnEquivalentTime(String password) {
        matches(password, DUMMY_HASH);
    }

    private <T> T bounded(Supplier<T> work) {
        boolean turn;
        try {
            turn = turns.tryAcquire(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            turn = false;
        }
        if (!turn) {
            throw busy();
        }
        try {
            return work.get();
        } finally {
            turns.release();
        }
    }

    /** The answer when no turn came in time; retryable, with a short delay. */
    static ApiException busy() {
        return new ApiException(ErrorCode.UNAVAILABLE,
                "The server is busy signing other people in. Try again in a moment.", 1L, null);
    }

    private static String rawHash(String password) {
        return Password.hash(password).addRandomSalt(16).with(ARGON2ID).getResult();
    }
}
