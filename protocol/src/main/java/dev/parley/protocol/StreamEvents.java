package dev.parley.protocol;

/** The event names and comment of a streamed reply (SPEC §5.3), shared by the server and its clients. */
public final class StreamEvents {
    public static final String MEDIA_TYPE = "text/event-stream";
    public static final String START = "start";
    public static final String DELTA = "delta";
    public static final String DONE = "done";
    public static final String ERROR = "error";
    public static final String KEEP_ALIVE = "keep-alive";

    private StreamEvents() {
    }
}
