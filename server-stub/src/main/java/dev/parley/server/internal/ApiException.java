package dev.parley.server.internal;

import dev.parley.protocol.ErrorCode;

/**
 * The one exception the server's services throw for a request they refuse or cannot complete. The message is
 * plain language for the caller; it is sent as is, so it never holds secrets or internals. {@code persisted} is set
 * by {@code POST /api/chat} failures only.
 */
public final class ApiException extends RuntimeException {
    private final ErrorCode code;
    private final Long retryAfterSeconds;
    private final Boolean persisted;

    public ApiException(ErrorCode code, String message, Long retryAfterSeconds, Boolean persisted) {
        super(message, null, false, false);
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
        this.persisted = persisted;
    }

    public ApiException(ErrorCode code, String message) {
        this(code, message, null, null);
    }

    public static ApiException badRequest(String message) {
        return new ApiException(ErrorCode.BAD_REQUEST, message);
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

    public Boolean persisted() {
        return persisted;
    }
}
