package dev.parley.protocol;

/**
 * Data of the {@code start} event of a streamed reply (SPEC §5.3): the user message as it is being answered, its
 * session, the id the reply will be stored under, and whether the exchange finished earlier and is replayed.
 */
public record StreamStart(Message userMessage, Session session, String replyId, boolean replayed) {
}
