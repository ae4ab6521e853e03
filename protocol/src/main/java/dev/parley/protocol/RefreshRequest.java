package dev.parley.protocol;

/** Body of {@code POST /api/auth/refresh}. */
public record RefreshRequest(String refreshToken) {
    @Override
    public String toString() {
        return "RefreshRequest[refreshToken=***]";
    }
}
