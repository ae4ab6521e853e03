package dev.parley.server.internal.store;

/** A database failure below the repositories; the cause carries the driver's detail for the log. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
