package dev.parley.server.internal.auth;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;

/** Argon2id password hashes (OWASP's minimum: 19 MiB, 2 passes, 1 lane). Thread-safe. */
final class PasswordHasher {
    private static final Argon2Function ARGON2ID = Argon2Function.getInstance(19_456, 2, 1, 32, Argon2.ID);
    /** Checked against when the account does not exist, so that a missing account takes as long as a wrong password. */
    private static final String DUMMY_HASH = hash("not-a-real-password");

    private PasswordHasher() {
    }

    static String hash(String password) {
        return Password.hash(password).addRandomSalt(16).with(ARGON2ID).getResult();
    }

    static boolean matches(String password, String storedHash) {
        return Password.check(password, storedHash).with(Argon2Function.getInstanceFromHash(storedHash));
    }

    static void burnEquivalentTime(String password) {
        matches(password, DUMMY_HASH);
    }
}
