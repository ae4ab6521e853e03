package dev.parley.protocol;

/** The size limits of SPEC §3, enforced by the server with a clear 4xx and respected by the client. */
public final class Limits {
    /** Largest accepted request body, in bytes. */
    public static final int MAX_REQUEST_BYTES = 1024 * 1024;
    /** Longest message content, in UTF-16 characters. */
    public static final int MAX_CONTENT_CHARS = 100_000;
    /** Longest session title, in characters. */
    public static final int MAX_TITLE_CHARS = 255;
    /** Most rows (sessions plus messages) in one push batch. */
    public static final int MAX_PUSH_ROWS = 500;
    /** Most context messages sent with one chat request. */
    public static final int MAX_CONTEXT_MESSAGES = 100;
    /** Longest per-chat system prompt, in UTF-16 characters. */
    public static final int MAX_SYSTEM_PROMPT_CHARS = 20_000;
    /** Lowest sampling temperature a chat may ask for. */
    public static final double MIN_TEMPERATURE = 0.0;
    /** Highest sampling temperature a chat may ask for. */
    public static final double MAX_TEMPERATURE = 2.0;
    /** Most reply tokens a chat may ask for ({@code maxTokens}). */
    public static final int MAX_REPLY_TOKENS = 200_000;
    /** Longest e-mail address. */
    public static final int MAX_EMAIL_CHARS = 254;
    /** Shortest accepted password. */
    public static final int MIN_PASSWORD_CHARS = 8;
    /** Longest accepted password. */
    public static final int MAX_PASSWORD_CHARS = 1024;
    /** Longest model id. */
    public static final int MAX_MODEL_CHARS = 200;
    /** Longest error text stored with a failed message. */
    public static final int MAX_ERROR_MESSAGE_CHARS = 2_000;
    /** Longest session preview kept in summaries. */
    public static final int MAX_PREVIEW_CHARS = 200;
    /** How far in the future a client timestamp may lie before the server clamps it, in milliseconds. */
    public static final long MAX_CLOCK_SKEW_MILLIS = 5 * 60 * 1000;
    /** Default page size of list and sync endpoints. */
    public static final int DEFAULT_PAGE_LIMIT = 100;
    /** Largest page size of list and sync endpoints. */
    public static final int MAX_PAGE_LIMIT = 500;
    /** Largest token count accepted on one message. */
    public static final long MAX_TOKENS = 100_000_000L;
    /** Largest elapsed time accepted on one message, in milliseconds (one day). */
    public static final long MAX_ELAPSED_MS = 86_400_000L;

    private Limits() {
    }
}
