package dev.parley.protocol;

import java.time.Instant;

/** Tokens issued by sign-up, sign-in and refresh; {@code expiresAt} is the access token's expiry. */
public record AuthResponse(User user, String accessToken, String refreshToken, Instant expiresAt) {

    /** The account the tokens belong to. */
    public record User(String id, String email) {
    }

    @Override
    public String toString() {
        return "AuthResponse[user=" + user + ", accessToken=***, refreshToken=***, expiresAt=" + expiresAt + "]";
    }
}
