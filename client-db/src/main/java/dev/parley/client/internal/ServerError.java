package dev.parley.client.internal;

import dev.parley.protocol.ErrorBody;

/** The server answered with an error status and the error body of SPEC §5. */
public final class ServerError extends Exception {
    private final int status;
    private final ErrorBody body;
    private final boolean fromParley;

    /**
     * @param fromParley whether the body was Parley's error body; false for a page from something in between (a
     *                   proxy, a load balancer), whose status says little about the request itself
     */
    public ServerError(int status, ErrorBody body, boolean fromParley) {
        super(body.error().message(), null, false, false);
        this.status = status;
        this.body = body;
        this.fromParley = fromParley;
    }

    public boolean fromParley() {
        return fromParley;
    }

    public int status() {
        return status;
    }

    public String code() {
        return body.error().code().wire();
    }

    public boolean retryable() {
        return body.error().retryable();
    }

    /** The chat endpoint's {@code persisted} flag; false when absent. */
    public boolean persisted() {
        return Boolean.TRUE.equals(body.persisted());
    }
}
