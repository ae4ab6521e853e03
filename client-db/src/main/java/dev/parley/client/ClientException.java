package dev.parley.client;

/**
 * The one exception of the client API. {@link #getMessage()} is plain language for the user; {@link #code()} is the
 * server's error code (SPEC §5) or {@code offline} when no answer came; the cause keeps the detail for the log.
 */
public final class ClientException extends RuntimeException {
    private final String code;
    private final boolean retryable;

    public ClientException(String code, String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.retryable = retryable;
    }

    public String code() {
        return code;
    }

    public boolean retryable() {
        return retryable;
    }
}
