package dev.parley.server;

import dev.parley.protocol.ErrorCode;

/**
 * A model call that produced no reply. {@link #code()} is {@link ErrorCode#UPSTREAM_ERROR},
 * {@link ErrorCode#UPSTREAM_TIMEOUT} or {@link ErrorCode#RATE_LIMITED}; the message is safe to show a user and
 * never contains the API key.
 */
public final class ModelException extends Exception {
    private final ErrorCode code;
    private final Long retryAfterSeconds;

    public ModelException(ErrorCode code, String message, Long retryAfterSeconds, Throwable cause) {
        super(message, cause);
        if (code != ErrorCode.UPSTREAM_ERROR && code != ErrorCode.UPSTREAM_TIMEOUT && code != ErrorCode.RATE_LIMITED) {
            throw new IllegalArgumentException("a model failure is upstream_error, upstream_timeout or rate_limited");
        }
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public ModelException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public ErrorCode code() {
        return code;
    }

    /** Seconds the provider asked us to wait, or {@code null}. */
    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
