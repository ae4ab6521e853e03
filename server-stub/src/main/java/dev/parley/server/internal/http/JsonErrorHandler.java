package dev.parley.server.internal.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.protocol.ErrorBody;
import dev.parley.protocol.ErrorCode;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's answer to requests it refuses before any route sees them (a bad Content-Length, an illegal character in
 * a header, a malformed request line, headers too large, a request cut off in its head): the error body of SPEC §5
 * instead of Jetty's HTML page.
 * Thread-safe.
 */
final class JsonErrorHandler extends ErrorHandler {
    private final ObjectMapper json;

    JsonErrorHandler(ObjectMapper json) {
        this.json = json;
    }

    /** Every method gets a body (Jetty's default writes one for GET, POST and HEAD only). */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body(code, endedEarly(message, cause))), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(body(status, endedEarly(reason, null)));
    }

    /**
     * Whether the request ended before its head was whole ("Early EOF"): a connection cut on the way looks just
     * like this, so the answer says the request may be sent again, as for a body cut short.
     */
    private static boolean endedEarly(String reason, Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof java.io.EOFException) {
                return true;
            }
        }
        return reason != null && reason.toUpperCase(java.util.Locale.ROOT).contains("EOF");
    }

    private byte[] body(int status, boolean endedEarly) {
        ErrorCode code = switch (status) {
            case 401 -> ErrorCode.UNAUTHORIZED;
            case 403 -> ErrorCode.FORBIDDEN;
            case 404, 405 -> ErrorCode.NOT_FOUND;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            case 429 -> ErrorCode.RATE_LIMITED;
            default -> status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
        };
        String message = status >= 500 ? "Something went wrong on the server. Try again later."
                : endedEarly ? "The request ended before it was complete. Send it again."
                : "The request could not be read (HTTP " + status + ").";
        try {
            return json.writeValueAsBytes(new ErrorBody(new ErrorBody.ErrorDetail(code, message,
                    code.retryable() || endedEarly, null), null));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the error body always serializes", e);
        }
    }
}
