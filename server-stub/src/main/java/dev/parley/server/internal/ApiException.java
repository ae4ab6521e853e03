package dev.parley.server.internal;

import dev.parley.protocol.ErrorBody;
import dev.parley.protocol.ErrorCode;
import dev.parley.server.ModelException;

/**
 * The one exception the server's services throw for a request they refuse or cannot complete. The message is
 * plain language for the caller; it is sent as is, so it never holds secrets or internals. {@code persisted} is set
 * by {@code POST /api/chat} failures only.
 */
public final class ApiException extends RuntimeException {
    private final ErrorCode code;
    private final Long retryAfterSeconds;
    private final Boolean persisted;
    private final boolean retryable;

    public ApiException(ErrorCode code, String message, Long retryAfterSeconds, Boolean persisted) {
        this(code, message, retryAfterSeconds, persisted, code.retryable());
    }

    private ApiException(ErrorCode code, String message, Long retryAfterSeconds, Boolean persisted,
                         boolean retryable) {
        super(message, null, false, false);
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
        this.persisted = persisted;
        this.retryable = retryable;
    }

    public ApiException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public static ApiException badRequest(String message) {
        return new ApiException(ErrorCode.BAD_REQUEST, message);
    }

    /**
     * A body that ended before its declared length: a 400, but one to send again, since a connection cut on the way
     * (or a server going down while it read) looks exactly like this; the client meant no harm.
     */
    public static ApiException incompleteBody() {
        return new ApiException(ErrorCode.BAD_REQUEST, "The request body ended before it was complete. Send it again.",
                null, null, true);
    }

    /**
     * A {@code POST /api/chat} answered with the model's failure: its code, message, delay and {@code retryable}
     * as the failure says (a refused key is an {@code upstream_error} that is not retryable), and whether the
     * user message was stored as failed.
     */
    public static ApiException modelFailure(ModelException failure, boolean persisted) {
        return new ApiException(failure.code(), failure.getMessage(), failure.retryAfterSeconds(), persisted,
                failure.retryable());
    }

    public static ApiException notFound(String message) {
        return new ApiException(ErrorCode.NOT_FOUND, message);
    }

    public static ApiException unauthorized(String message) {
        return new ApiException(ErrorCode.UNAUTHORIZED, message);
    }

    public ErrorCode code() {
        return code;
    }

    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** Whether sending the same request again may succeed; the code's own answer unless said otherwise. */
    public boolean retryable() {
        return retryable;
    }

    public Boolean persisted() {
        return persisted;
    }

    /** The error body of SPEC §5 for this failure; {@code persisted} as set, else {@code persistedWhenUnset}. */
    public ErrorBody body(Boolean persistedWhenUnset) {
        return new ErrorBody(new ErrorBody.ErrorDetail(code, getMessage(), retryable, retryAfterSeconds),
                persisted != null ? persisted : persistedWhenUnset);
    }
}
