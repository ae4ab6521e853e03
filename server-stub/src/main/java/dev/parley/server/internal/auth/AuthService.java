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
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Accounts and bearer tokens: sign-up, sign-in (rate-limited), refresh with rotation and reuse detection, sign-out,
 * and resolving a bearer token to its user. Thread-safe.
 */
public final class AuthService {
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");
    private static final String ACCESS = "access";
    private static final String REFRESH = "refresh";

    private final Database db;
    private final UserRepository users;
    private final TokenRepository tokens = new TokenRepository();
    private final Clock clock;
    private final Supplier<String> ids;
    private final Duration accessTtl;
    private final Duration refreshTtl;
    private final AttemptLimiter perAccount;
    private final AttemptLimiter perAddress;
    private final boolean signUpAllowed;

    public AuthService(Database db, Clock clock, Supplier<String> ids, Duration accessTtl, Duration refreshTtl,
                       int signInAttemptsPerMinute, boolean signUpAllowed) {
        this.db = db;
        this.users = new UserRepository(db.dialect());
        this.clock = clock;
        this.ids = ids;
        this.accessTtl = accessTtl;
        this.refreshTtl = refreshTtl;
        this.perAccount = new AttemptLimiter(signInAttemptsPerMinute, clock);
        this.perAddress = new AttemptLimiter(signInAttemptsPerMinute * 5L, clock);
        this.signUpAllowed = signUpAllowed;
    }

    /** Creates an account; {@code clientAddress} keys the same per-address limit as sign-in. */
    public AuthResponse signUp(Credentials credentials, String clientAddress) {
        if (!signUpAllowed) {
            throw new ApiException(ErrorCode.FORBIDDEN, "This server does not accept new accounts.");
        }
        String email = validEmail(credentials);
        String password = validPassword(credentials);
        throttle(perAddress.tryAcquire(clientAddress), "sign-up");
        String hash = PasswordHasher.hash(password);
        UserRow user = new UserRow(ids.get(), email, hash);
        return db.inTransaction(c -> {
            Instant now = clock.instant();
            if (!users.insert(c, user, now)) {
                throw new ApiException(ErrorCode.CONFLICT, "An account with this e-mail address already exists.");
            }
            return issue(c, user, ids.get(), now);
        });
    }

    /** Signs in; {@code clientAddress} keys the brute-force limit together with the account. */
    public AuthResponse signIn(Credentials credentials, String clientAddress) {
        if (credentials == null || credentials.email() == null || credentials.password() == null) {
            throw ApiException.badRequest("email and password are required");
        }
        String email = credentials.email().strip().toLowerCase(Locale.ROOT);
        if (email.length() > Limits.MAX_EMAIL_CHARS || credentials.password().length() > Limits.MAX_PASSWORD_CHARS) {
            // Checked before the limiter, whose keys must stay small.
            throw ApiException.unauthorized("Wrong e-mail address or password.");
        }
        throttle(perAddress.tryAcquire(clientAddress), "sign-in");
        throttle(perAccount.tryAcquire(email), "sign-in");
        Optional<UserRow> user = db.read(c -> users.findByEmail(c, email));
        if (user.isEmpty()) {
            PasswordHasher.burnEquivalentTime(credentials.password());
            throw ApiException.unauthorized("Wrong e-mail address or password.");
        }
        if (!PasswordHasher.matches(credentials.password(), user.get().passwordHash())) {
            throw ApiException.unauthorized("Wrong e-mail address or password.");
        }
        return db.inTransaction(c -> issue(c, user.get(), ids.get(), clock.instant()));
    }

    /**
     * Rotates both tokens: the presented refresh token is spent, the family's access tokens are revoked, and a new
     * pair of the same family is issued. A spent
     * token presented again means it leaked, so the whole family is revoked.
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
            if (token.revokedAt() != null || !tokens.revoke(c, hash, now)) {
                tokens.revokeFamily(c, token.familyId(), now);
                return new RefreshOutcome(null, true);
            }
            UserRow user = users.findById(c, token.userId()).orElseThrow();
            tokens.revokeAccessTokens(c, token.familyId(), now);
            return new RefreshOutcome(issue(c, user, token.familyId(), now), false);
        });
        if (outcome.reused()) {
            throw ApiException.unauthorized(
                    "This refresh token was already used, so every session of it was signed out. Sign in again.");
        }
        if (outcome.response() == null) {
            throw ApiException.unauthorized("The refresh token is invalid or expired. Sign in again.");
        }
        return outcome.response();
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
        tokens.insert(c, new TokenRow(Tokens.hash(access), user.id(), ACCESS, familyId, accessExpiry, null), now);
        tokens.insert(c, new TokenRow(Tokens.hash(refresh), user.id(), REFRESH, familyId, now.plus(refreshTtl), null),
                now);
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
        if (password.length() < Limits.MIN_PASSWORD_CHARS || password.length() > Limits.MAX_PASSWORD_CHARS) {
            throw ApiException.badRequest("password must be " + Limits.MIN_PASSWORD_CHARS + " to "
                    + Limits.MAX_PASSWORD_CHARS + " characters long");
        }
        return password;
    }

    private record RefreshOutcome(AuthResponse response, boolean reused) {
    }
}
