package dev.parley.protocol;

/** Body of sign-up and sign-in. */
public record Credentials(String email, String password) {
    /** Never prints the password. */
    @Override
    public String toString() {
        return "Credentials[email=" + email + ", password=***]";
    }
}
