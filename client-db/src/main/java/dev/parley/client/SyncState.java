package dev.parley.client;

/** Where a local row stands with the server (SPEC §6). */
public enum SyncState {
    /** Written while signed out; owned by nobody until a sign-in adopts it. */
    LOCAL,
    /** Owned by the signed-in account and not yet acknowledged by the server. */
    PENDING,
    /** Acknowledged by the server. */
    SYNCED,
    /** Refused by the server; kept and shown with the reason, never retried automatically. */
    REJECTED;
}
