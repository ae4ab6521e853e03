package dev.parley.server.internal.auth;

import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.Limits;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.TokenRepository;
import dev.parley.server.internal.store.TokenRepository.TokenRow;
import dev.parley.server.internal.store.UserRepository;
import dev.parley.server.internal.store.UserRepository.UserRow;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accounts and bearer tokens: sign-up, sign-in (rate-limited), refresh with rotation and reuse detection, sign-out,
 * and resolving a bearer token to its user. Failed sign-ins are limited per (account, client address) and per client
 * address, so that guesses from elsewhere never lock the owner out (SPEC §8). Password hashing is bounded; past the
 * bound sign-in and sign-up answer {@code unavailable}. Expired and revoked tokens are swept now and then by the
 * requests that write tokens. Thread-safe.
 */
public final class AuthService {
    private static final Logger LOG = LoggerFactory.getLogger(AuthService.class);
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");
    private static final String ACCESS = "access";
    private static final String REFRESH = "refresh";
    /** A refresh token presented again this soon after its rotation is a lost answer, not a theft (SPEC §8). */
    static final Duration REFRESH_GRACE = Duration.ofSeconds(30);
    /** How often the token sweep runs at most, by the injected clock. */
    static final Duration PURGE_EVERY = Duration.ofMinutes(10);
    /** How long a sign-in waits for a turn to hash before it is answered {@code unavailable}. */
    private static final Duration HASH_WAIT = Duration.ofSeconds(1);

    private final Database db;
    private final UserRepository users;
    private final TokenRepository tokens = new TokenRepository();
    private final Clock clock;
    private final Supplier<String> ids;
    private final Duration accessTtl;
    private final Duration refreshTtl;
    private final AttemptLimiter perAccountAndAddress;
    private final AttemptLimiter perAddress;
    private final boolean signUpAllowed;
    private final PasswordHasher hasher;
    private final AtomicReference<Instant> lastPurge = new AtomicReference<>(Instant.MIN);

    /**
     * @param signInAttemptsPerMinute failed sign-ins one client address may make per minute for one account; five
     *                                times as many over all accounts (and sign-ups)
     * @param passwordHashesAtOnce    password hashes computed at once
     */
    public AuthService(Database db, Clock clock, Supplier<String> ids, Duration accessTtl, Duration refreshTtl,
                       int signInAttemptsPerMinute, boolean signUpAllowed, int passwordHashesAtOnce) {
        this.db = db;
        this.users = new UserRepository(db.dialect());
        this.clock = clock;
        this.ids = ids;
        this.accessTtl = accessTtl;
        this.refreshTtl = refreshTtl;
        this.perAccountAndAddress = new AttemptLimiter(signInAttemptsPerMinute, clock);
        this.perAddress = new AttemptLimiter(signInAttemptsPerMinute * 5L, clock);
        this.signUpAllowed = signUpAllowed;
        this.hasher = new PasswordHasher(passwordHashesAtOnce, HASH_WAIT);
    }

    /** Creates an account; {@code clientAddress} keys the same per-address limit as sign-in. */
    public AuthResponse signUp(Credentials credentials, String clientAddress) {
        if (!signUpAllowed) {
            throw new ApiException(ErrorCode.FORBIDDEN, "This server does not accept new accounts.");
        }
        String email = validEmail(credentials);
        String password = validPassword(credentials);
        if (CommonPasswords.contains(password)) {
            throw ApiException.badRequest("This password is one of the most common ones, which are guessed first."
                    + " Choose another: a few unrelated words make a good one.");
        }
        String address = AttemptLimiter.addressKey(clientAddress);
        throttle(perAddress.tryAcquire(address), "sign-up");
        String hash;
        try {
            hash = hasher.hash(password);
        } catch (ApiException busy) {
            perAddress.refund(address); // nothing was tried
            throw busy;
        }
        UserRow user = new UserRow(ids.get(), email, hash);
        AuthResponse response = db.inTransaction(c -> {
            Instant now = clock.instant();
            if (!users.insert(c, user, now)) {
                throw new ApiException(ErrorCode.CONFLICT, "An account with this e-mail address already exists.");
            }
            return issue(c, user, ids.get(), now);
        });
        purgeNowAndThen();
        return response;
    }

    /**
     * Signs in. Each attempt takes one from the limit of ({@code email}, {@code clientAddress}) and one from the
     * limit of {@code clientAddress}, and gives both back when it succeeds (or the server was too busy to check
     * it), so that only failures count.
     */
    public AuthResponse signIn(Credentials credentials, String clientAddress) {
        if (credentials == null || credentials.email() == null || credentials.password() == null) {
            throw ApiException.badRequest("email and password are required");
        }
        requireUnicode(credentials.email(), "email");
        requireUnicode(credentials.password(), "password");
        String email = credentials.email().strip().toLowerCase(Locale.ROOT);
        if (email.length() > Limits.MAX_EMAIL_CHARS || credentials.password().length() > Limits.MAX_PASSWORD_CHARS) {
            // Checked before the limiter, whose keys must stay small.
            throw ApiException.unauthorized("Wrong e-mail address or password.");
        }
        String address = AttemptLimiter.addressKey(clientAddress);
        String pair = email + '\n' + address;
        throttle(perAddress.tryAcquire(address), "sign-in");
        long pairWait = perAccountAndAddress.tryAcquire(pair);
        if (pairWait > 0) {
            perAddress.refund(address); // refused before any check: only the pair's limit counts it
            throttle(pairWait, "sign-in");
        }
        boolean counted = true;
        try {
            Optional<UserRow> user = db.read(c -> users.findByEmail(c, email));
            if (user.isEmpty()) {
                hasher.burnEquivalentTime(credentials.password());
                throw ApiException.unauthorized("Wrong e-mail address or password.");
            }
            if (!hasher.matches(credentials.password(), user.get().passwordHash())) {
                throw ApiException.unauthorized("Wrong e-mail address or password.");
            }
            counted = false;
            AuthResponse response = db.inTransaction(c -> issue(c, user.get(), ids.get(), clock.instant()));
            purgeNowAndThen();
            return response;
        } catch (ApiException e) {
            if (e.code() != ErrorCode.UNAUTHORIZED) {
                counted = false; // busy: the password was not checked
            }
            throw e;
        } finally {
            if (!counted) {
                perAccountAndAddress.refund(pair);
                perAddress.refund(address);
            }
        }
    }

    /**
     * Rotates both tokens: the presented refresh token is spent, the family's access tokens are revoked, and a new
     * pair of the same family is issued. A spent token presented again within {@link #REFRESH_GRACE} of its
     * rotation, while its family is live, is a retry after a lost answer: it gets a new pair too, which replaces the
     * pair that answer carried. Presented later, or after its family ended, it means it leaked, so the whole family
     * is revoked.
     */
    public AuthResponse refresh(String refreshToken) {
        if (refreshToken == null || refreshToken.isBlank()) {
            throw ApiException.badRequest("refreshToken is required");
        }
        String hash = Tokens.hash(refreshToken);
        RefreshOutcome outcome = db.inTransaction(c -> {
            Instant now = clock.instant();
            Optional<TokenRow> row = tokens.find(c, hash).filter(t -> t.kind().equals(REFRESH));
            if (row.isEmpty() || !row.get().expiresAt().isAfter(now)) {
                return new RefreshOutcome(null, false);
            }
            TokenRow token = row.get();
            if (token.revokedAt() == null && tokens.rotate(c, hash, now)) {
                UserRow user = users.findById(c, token.userId()).orElseThrow();
                tokens.revokeAccessTokens(c, token.familyId(), now);
                return new RefreshOutcome(issue(c, user, token.familyId(), now), false);
            }
            // Spent already, perhaps by a concurrent refresh that committed just now: read what it left.
            TokenRow spent = token.revokedAt() == null ? tokens.find(c, hash).orElseThrow() : token;
            if (spent.rotatedAt() != null && !now.isAfter(spent.rotatedAt().plus(REFRESH_GRACE))
                    && tokens.familyLive(c, spent.familyId(), now)) {
                UserRow user = users.findById(c, spent.userId()).orElseThrow();
                tokens.rotateLiveRefreshTokens(c, spent.familyId(), now);
                tokens.revokeAccessTokens(c, spent.familyId(), now);
                return new RefreshOutcome(issue(c, user, spent.familyId(), now), false);
            }
            tokens.revokeFamily(c, token.familyId(), now);
            return new RefreshOutcome(null, true);
        });
        if (outcome.reused()) {
            throw ApiException.unauthorized(
                    "This refresh token was already used, so every session of it was signed out. Sign in again.");
        }
        if (outcome.response() == null) {
            throw ApiException.unauthorized("The refresh token is invalid or expired. Sign in again.");
        }
        purgeNowAndThen();
        return outcome.response();
    }

    /**
     * Deletes expired and revoked tokens that can never serve again ({@link TokenRepository#purge}), at most once
     * per {@link #PURGE_EVERY} of this process; any process may, and several at once do no harm.
     */
    private void purgeNowAndThen() {
        Instant now = clock.instant();
        Instant last = lastPurge.get();
        if (now.isBefore(last.plus(PURGE_EVERY)) || !lastPurge.compareAndSet(last, now)) {
            return;
        }
        try {
            int purged = db.inTransaction(c -> tokens.purge(c, now));
            LOG.debug("purged {} expired or revoked tokens", purged);
        } catch (RuntimeException e) {
            LOG.warn("the sweep of expired tokens failed; it is tried again later: {}", e.getMessage());
        }
    }

    /** Revokes the family of the access token (this device's sign-in). */
    public void signOut(String accessToken) {
        db.inTransaction(c -> {
            TokenRow token = liveAccessToken(c, accessToken, clock.instant());
            tokens.revokeFamily(c, token.familyId(), clock.instant());
            return null;
        });
    }

    /** The user id of a live access token. */
    public String authenticate(String accessToken) {
        return db.read(c -> liveAccessToken(c, accessToken, clock.instant())).userId();
    }

    /** A live access token's user and when the token expires, for a request that stays open (SPEC §5.5). */
    public record Authenticated(String userId, Instant expiresAt) {
    }

    /** As {@link #authenticate}, with the token's expiry. */
    public Authenticated authenticateUntil(String accessToken) {
        TokenRow token = db.read(c -> liveAccessToken(c, accessToken, clock.instant()));
        return new Authenticated(token.userId(), token.expiresAt());
    }

    /** True once {@code expiresAt} has passed by the server's clock. */
    public boolean expired(Instant expiresAt) {
        return !clock.instant().isBefore(expiresAt);
    }

    private TokenRow liveAccessToken(Connection c, String accessToken, Instant now) throws SQLException {
        if (accessToken == null || accessToken.isBlank()) {
            throw ApiException.unauthorized("Sign in to do this.");
        }
        return tokens.find(c, Tokens.hash(accessToken))
                .filter(t -> t.kind().equals(ACCESS) && t.revokedAt() == null && t.expiresAt().isAfter(now))
                .orElseThrow(() -> ApiException.unauthorized("The access token is invalid or expired."));
    }

    private AuthResponse issue(Connection c, UserRow user, String familyId, Instant now) throws SQLException {
        String access = Tokens.newToken();
        String refresh = Tokens.newToken();
        Instant accessExpiry = now.plus(accessTtl);
        tokens.insert(c, new TokenRow(Tokens.hash(access), user.id(), ACCESS, familyId, accessExpiry, null, null),
                now);
        tokens.insert(c, new TokenRow(Tokens.hash(refresh), user.id(), REFRESH, familyId, now.plus(refreshTtl), null,
                null), now);
        return new AuthResponse(new AuthResponse.User(user.id(), user.email()), access, refresh, accessExpiry);
    }

    private static void throttle(long waitSeconds, String what) {
        if (waitSeconds > 0) {
            throw new ApiException(ErrorCode.RATE_LIMITED,
                    "Too many " + what + " attempts. Try again in " + waitSeconds + " seconds.", waitSeconds, null);
        }
    }

    private static String validEmail(Credentials credentials) {
        if (credentials == null || credentials.email() == null) {
            throw ApiException.badRequest("email is required");
        }
        requireUnicode(credentials.email(), "email");
        String email = credentials.email().strip().toLowerCase(Locale.ROOT);
        if (email.length() > Limits.MAX_EMAIL_CHARS) {
            throw ApiException.badRequest("email must be at most " + Limits.MAX_EMAIL_CHARS + " characters");
        }
        if (!EMAIL.matcher(email).matches() || email.chars().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("email must be an address such as ada@example.com");
        }
        return email;
    }

    private static String validPassword(Credentials credentials) {
        String password = credentials.password();
        if (password == null) {
            throw ApiException.badRequest("password is required");
        }
        requireUnicode(password, "password");
        if (password.length() < Limits.MIN_PASSWORD_CHARS || password.length() > Limits.MAX_PASSWORD_CHARS) {
            throw ApiException.badRequest("password must be " + Limits.MIN_PASSWORD_CHARS + " to "
                    + Limits.MAX_PASSWORD_CHARS + " characters long");
        }
        return password;
    }

    /**
     * A lone surrogate cannot be written as UTF-8: stored, it would become '?', and as a password it would match
     * another password with '?' in its place.
     */
    private static void requireUnicode(String value, String field) {
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (Character.isHighSurrogate(ch) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(ch)) {
                throw ApiException.badRequest(field + " is not valid Unicode (it holds an unpaired surrogate)");
            }
        }
    }

    private record RefreshOutcome(AuthResponse response, boolean reused) {
    }
}
