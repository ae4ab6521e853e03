package dev.parley.server.internal.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.Credentials;
import dev.parley.protocol.ErrorCode;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.store.Database;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestDatabases;
import dev.parley.server.testing.TestIds;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failed sign-ins are limited per (account, client address) and per client address, IPv6 by /64 (SPEC §8): an
 * attacker elsewhere cannot lock the owner out, and is limited wherever in one /64 they stand.
 */
class SignInLimitsTest {
    /** Per (account, address) per minute; the per-address limit is five times as many. */
    private static final int PER_MINUTE = 2;
    private static final String PASSWORD = "correct horse battery staple";
    private static final String OWNER_HOME = "198.51.100.7";
    private static final String ATTACKER = "203.0.113.9";

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private Database db;
    private AuthService auth;

    @BeforeEach
    void open() {
        db = Database.open(TestDatabases.urlFor(dir), 4);
        auth = new AuthService(db, clock, TestIds::next, Duration.ofHours(1), Duration.ofDays(1), PER_MINUTE, true, 4);
        auth.signUp(new Credentials("ada@example.com", PASSWORD), OWNER_HOME);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void wrongPasswordsFromOneAddressNeverLockTheOwnerOutFromAnother() {
        for (int i = 0; i < PER_MINUTE; i++) {
            assertRefused(ATTACKER, "ada@example.com", "guess " + i, ErrorCode.UNAUTHORIZED);
        }
        assertRefused(ATTACKER, "ada@example.com", "guess again", ErrorCode.RATE_LIMITED);

        assertThat(auth.signIn(new Credentials("ada@example.com", PASSWORD), OWNER_HOME).accessToken()).isNotBlank();
        assertThat(auth.signIn(new Credentials("ADA@example.com", PASSWORD), "2001:db8:aa::1").accessToken())
                .isNotBlank();
    }

    @Test
    void theAttackersOwnAddressIsLimitedEvenWithTheRightPassword() {
        for (int i = 0; i < PER_MINUTE; i++) {
            assertRefused(ATTACKER, " Ada@Example.com ", "guess " + i, ErrorCode.UNAUTHORIZED);
        }

        ApiException limited = refusal(ATTACKER, "ada@example.com", PASSWORD);

        assertThat(limited.code()).isEqualTo(ErrorCode.RATE_LIMITED);
        assertThat(limited.retryAfterSeconds()).isPositive();
        clock.advance(Duration.ofMinutes(1));
        assertThat(auth.signIn(new Credentials("ada@example.com", PASSWORD), ATTACKER).accessToken()).isNotBlank();
    }

    @Test
    void oneIpv6SlashSixtyFourIsOneAddressWhateverItsLastBits() {
        assertRefused("2001:db8:1:2::1", "ada@example.com", "guess 1", ErrorCode.UNAUTHORIZED);
        assertRefused("2001:db8:1:2:ffff:0:0:9", "ada@example.com", "guess 2", ErrorCode.UNAUTHORIZED);

        assertRefused("[2001:DB8:1:2::abcd]", "ada@example.com", PASSWORD, ErrorCode.RATE_LIMITED);
        assertThat(auth.signIn(new Credentials("ada@example.com", PASSWORD), "2001:db8:1:3::1").accessToken())
                .as("the next /64 is someone else").isNotBlank();
    }

    @Test
    void oneAddressIsLimitedAcrossManyAccounts() {
        int perAddress = PER_MINUTE * 5;
        for (int i = 0; i < perAddress; i++) {
            // A fresh address of one /64 and a fresh account each time: only the per-address limit can stop it.
            assertRefused("2001:db8:9:9::" + Integer.toHexString(i + 1), "user" + i + "@example.com", "guess",
                    ErrorCode.UNAUTHORIZED);
        }

        assertRefused("2001:db8:9:9::ffff", "someone.else@example.com", "guess", ErrorCode.RATE_LIMITED);
        assertRefused("2001:db8:9:9::fffe", "ada@example.com", PASSWORD, ErrorCode.RATE_LIMITED);
        assertThat(auth.signIn(new Credentials("ada@example.com", PASSWORD), OWNER_HOME).accessToken()).isNotBlank();
    }

    @Test
    void successfulSignInsDoNotCountTowardTheLimits() {
        for (int i = 0; i < PER_MINUTE * 5 + 2; i++) {
            assertThat(auth.signIn(new Credentials("ada@example.com", PASSWORD), OWNER_HOME).accessToken())
                    .as("sign-in %d", i).isNotBlank();
        }
        assertRefused(OWNER_HOME, "ada@example.com", "a typo", ErrorCode.UNAUTHORIZED);
    }

    @Test
    void addressKeysGroupIpv6By64AndLeaveIpv4AsItIs() {
        assertThat(AttemptLimiter.addressKey("2001:db8:1:2::1")).isEqualTo(AttemptLimiter.addressKey(
                "2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).isEqualTo(AttemptLimiter.addressKey("[2001:db8:1:2::7]"))
                .isEqualTo(AttemptLimiter.addressKey("2001:db8:1:2::7%eth0"));
        assertThat(AttemptLimiter.addressKey("2001:db8:1:3::1")).isNotEqualTo(AttemptLimiter.addressKey(
                "2001:db8:1:2::1"));
        assertThat(AttemptLimiter.addressKey("203.0.113.9")).isEqualTo("203.0.113.9");
        assertThat(AttemptLimiter.addressKey("::ffff:203.0.113.9")).isEqualTo("203.0.113.9");
        assertThat(AttemptLimiter.addressKey("203.0.113.10")).isNotEqualTo("203.0.113.9");
        assertThat(AttemptLimiter.addressKey("not-an-address.example")).isEqualTo("not-an-address.example");
    }

    private void assertRefused(String address, String email, String password, ErrorCode code) {
        assertThat(refusal(address, email, password).code()).as("%s from %s", email, address).isEqualTo(code);
    }

    private ApiException refusal(String address, String email, String password) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(
                () -> auth.signIn(new Credentials(email, password), address));
        assertThat(thrown).as("%s from %s", email, address).isInstanceOf(ApiException.class);
        return (ApiException) thrown;
    }
}
