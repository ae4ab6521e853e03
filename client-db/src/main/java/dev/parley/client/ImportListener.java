package dev.parley.client;

/**
 * Hears how an import ({@link ChatClient#importHistory}) goes, and may cancel it. An import reads the file twice:
 * first it checks all of it, writing nothing, so that a malformed file imports nothing; then it writes it, one
 * group of whole conversations per local transaction. Every method is called on the thread that runs the import,
 * a few hundred times at most; none may block for long.
 */
public interface ImportListener {
    /** An import nobody watches. */
    ImportListener NONE = new ImportListener() {
    };

    /** The check has read {@code bytesRead} of the file's {@code bytesTotal} (0 when unknown). */
    default void checking(long bytesRead, long bytesTotal) {
    }

    /** The write has stored {@code done} of the {@code total} conversations the file holds. */
    default void importing(int done, int total) {
    }

    /**
     * Polled between groups of conversations: true stops the import. What was written stays, each conversation
     * whole, and importing the same file again adds the rest.
     */
    default boolean cancelled() {
        return false;
    }
}
