package dev.parley.client;

/** Whether the client holds the server's live change stream (SPEC §6 Live sync), as the status bar shows it. */
public enum LiveState {
    /** Not signed in, or live sync is off: changes of other devices come at the next pull. */
    OFF,
    /** Opening the stream for the first time. */
    CONNECTING,
    /** The stream is open: other devices' changes arrive within a second or two. */
    LIVE,
    /** The stream broke; opening it again with backoff, and pulling on window focus and every few minutes. */
    RECONNECTING
}
