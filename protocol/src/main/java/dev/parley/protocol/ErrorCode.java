package dev.parley.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The error codes of SPEC §5, each with the HTTP status it is sent with and whether a failure of that kind is
 * usually worth sending again. The usual answer is not always the answer: an {@link #UPSTREAM_ERROR} for a refused
 * API key or a conversation too long for the model is not retryable, so a client reads {@code retryable} from the
 * error body ({@link ErrorBody.ErrorDetail#retryable()}), never from the code.
 */
public enum ErrorCode {
    BAD_REQUEST("bad_request", 400, false),
    UNAUTHORIZED("unauthorized", 401, false),
    FORBIDDEN("forbidden", 403, false),
    NOT_FOUND("not_found", 404, false),
    CONFLICT("conflict", 409, false),
    PAYLOAD_TOO_LARGE("payload_too_large", 413, false),
    UNSUPPORTED_MEDIA_TYPE("unsupported_media_type", 415, false),
    RATE_LIMITED("rate_limited", 429, true),
    QUOTA_EXCEEDED("quota_exceeded", 429, false),
    IN_PROGRESS("in_progress", 409, true),
    /** A generation ended without a reply because the process running it stopped; the message can be sent again. */
    INTERRUPTED("interrupted", 409, true),
    UPSTREAM_ERROR("upstream_error", 502, true),
    UPSTREAM_TIMEOUT("upstream_timeout", 504, true),
    UNAVAILABLE("unavailable", 503, true),
    INTERNAL("internal", 500, true);

    private final String wire;
    private final int status;
    private final boolean retryable;

    ErrorCode(String wire, int status, boolean retryable) {
        this.wire = wire;
        this.status = status;
        this.retryable = retryable;
    }

    /** The code as it appears on the wire, e.g. {@code bad_request}. */
    @JsonValue
    public String wire() {
        return wire;
    }

    /** The HTTP status this code is answered with. */
    public int status() {
        return status;
    }

    /**
     * Whether the same request usually succeeds when sent again unchanged; the default of an error body's
     * {@code retryable}, which the failure itself may set otherwise.
     */
    public boolean retryable() {
        return retryable;
    }

    /** Parses a wire code; unknown codes map to {@link #INTERNAL} so old clients survive new codes. */
    @JsonCreator
    public static ErrorCode fromWire(String wire) {
        for (ErrorCode code : values()) {
            if (code.wire.equals(wire)) {
                return code;
            }
        }
        return INTERNAL;
    }
}
