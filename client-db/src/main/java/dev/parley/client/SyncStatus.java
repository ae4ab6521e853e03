package dev.parley.client;

/**
 * What the status bar shows about syncing. Immutable.
 *
 * @param state    the overall state
 * @param unsent   rows of the signed-in account not yet acknowledged (or, signed out, rows waiting for a sign-in)
 * @param rejected rows the server refused
 * @param done     rows pushed so far in the current upload ({@link State#SYNCING} only)
 * @param total    rows in the current upload ({@link State#SYNCING} only)
 */
public record SyncStatus(State state, int unsent, int rejected, int done, int total) {

    /** The states of SPEC §6 as the user sees them. */
    public enum State {
        /** No account: everything stays on this device until sign-in. */
        SIGNED_OUT,
        /** Every row is on the server. */
        SYNCED,
        /** Rows wait to be pushed; a push is due. */
        PENDING,
        /** The server did not answer; pushes retry with backoff. */
        OFFLINE,
        /** An upload is running: {@code done} of {@code total}. */
        SYNCING
    }
}
