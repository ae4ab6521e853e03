package dev.parley.client;

/** The signed-in account. */
public record Account(String userId, String email) {
}
