package dev.parley.protocol;

/**
 * The event names and comment of a streamed reply (SPEC §5.3) and of the live change stream (§5.5), shared by the
 * server and its clients.
 */
public final class StreamEvents {
    public static final String MEDIA_TYPE = "text/event-stream";
    public static final String START = "start";
    public static final String DELTA = "delta";
    public static final String DONE = "done";
    public static final String ERROR = "error";
    public static final String KEEP_ALIVE = "keep-alive";
    /** §5.5: the user's change clock moved; data {@link ChangedEvent}. */
    public static final String CHANGED = "changed";
    /** §5.5: a reply started for the user; data {@link GeneratingEvent}. */
    public static final String GENERATING = "generating";

    private StreamEvents() {
    }
}
