package dev.parley.server;

import dev.parley.protocol.ErrorCode;

/**
 * A model call that produced no reply. {@link #code()} is {@link ErrorCode#UPSTREAM_ERROR},
 * {@link ErrorCode#UPSTREAM_TIMEOUT} or {@link ErrorCode#RATE_LIMITED}; the message is safe to show a user and
 * never contains the API key.
 *
 * <p>{@link #retryable()} says whether the same request may succeed when sent again (SPEC §5): true for a timeout,
 * a rate limit, a 5xx or a broken connection; false where the provider refused the request on its merits (a
 * refused key, a conversation too long for the model, an unknown model or a wrong base URL). It reaches the error
 * body of {@code POST /api/chat} as it is. Immutable.
 */
public final class ModelException extends Exception {
    private final ErrorCode code;
    private final boolean retryable;
    private final Long retryAfterSeconds;

    /**
     * @param retryable         whether sending the same request again may succeed
     * @param retryAfterSeconds seconds the provider asked us to wait, or {@code null}
     * @param cause             the underlying failure, or {@code null}
     */
    public ModelException(ErrorCode code, String message, boolean retryable, Long retryAfterSeconds,
                          Throwable cause) {
        super(message, cause);
        if (code != ErrorCode.UPSTREAM_ERROR && code != ErrorCode.UPSTREAM_TIMEOUT && code != ErrorCode.RATE_LIMITED) {
            throw new IllegalArgumentException("a model failure is upstream_error, upstream_timeout or rate_limited");
        }
        this.code = code;
        this.retryable = retryable;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** A failure that may pass: sending the same request again can succeed. */
    public ModelException(ErrorCode code, String message, Long retryAfterSeconds, Throwable cause) {
        this(code, message, true, retryAfterSeconds, cause);
    }

    /** A failure that may pass: sending the same request again can succeed. */
    public ModelException(ErrorCode code, String message) {
        this(code, message, true, null, null);
    }

    /**
     * An {@code upstream_error} that the same request will meet again (a refused key, a context too long, an
     * unknown model, a base URL that is no OpenAI API), so it is answered {@code retryable: false}.
     */
    public static ModelException notRetryable(String message) {
        return new ModelException(ErrorCode.UPSTREAM_ERROR, message, false, null, null);
    }

    public ErrorCode code() {
        return code;
    }

    /** Whether sending the same request again may succeed. */
    public boolean retryable() {
        return retryable;
    }

    /** Seconds the provider asked us to wait, or {@code null}. */
    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
