package dev.parley.client;

/**
 * A reply another device is having written now, as far as this device has followed it (SPEC §6 Live sync). It is
 * not in the local store: the stored rows arrive with the next pull once the reply is done, and replace it.
 * Immutable.
 *
 * @param sessionId  the conversation
 * @param questionId the user message it answers
 * @param question   that message's text
 * @param replyId    the id the reply will be stored under
 * @param text       the reply's text so far
 * @param ended      true once it is over (done, failed or stopped): stop showing it when the stored rows come
 */
public record RemoteReply(String sessionId, String questionId, String question, String replyId, String text,
                          boolean ended) {
}
