package dev.parley.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The body of every error response (SPEC §5):
 * {@code {"error":{"code":"…","message":"…","retryable":false,"retryAfterSeconds":null}}}.
 * Chat failures add a top-level {@code persisted} flag; other errors leave it out.
 */
public record ErrorBody(ErrorDetail error, @JsonInclude(JsonInclude.Include.NON_NULL) Boolean persisted) {

    /** The error itself; {@code retryAfterSeconds} is {@code null} unless the server knows when to retry. */
    public record ErrorDetail(ErrorCode code, String message, boolean retryable, Long retryAfterSeconds) {
    }

    public static ErrorBody of(ErrorCode code, String message) {
        return new ErrorBody(new ErrorDetail(code, message, code.retryable(), null), null);
    }
}
