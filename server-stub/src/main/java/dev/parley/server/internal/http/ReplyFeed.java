package dev.parley.server.internal.http;

import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.StreamDelta;
import dev.parley.protocol.StreamEvents;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.chat.ChatService.Followed;
import dev.parley.server.internal.chat.LiveReply;
import dev.parley.server.internal.chat.LiveReply.Outcome;

/**
 * The event stream of one reply (SPEC §5.3): {@code start}, the text from the client's offset as it grows, then
 * {@code done} or {@code error}. Each drain sends what the reply gained since the last one as a single delta.
 */
final class ReplyFeed implements EventStreams.Feed {
    private final Followed followed;
    private final LiveReply reply;
    private volatile Runnable stopListening = () -> { };
    private int sent;
    private boolean started;

    /** @param after the offset the client has the text up to */
    ReplyFeed(Followed followed, int after) {
        this.followed = followed;
        this.reply = followed.reply();
        this.sent = after;
    }

    @Override
    public void begin(EventStreams.Stream stream) {
        stopListening = reply.listen(stream::changed);
    }

    @Override
    public boolean drain(EventStreams.Stream stream) {
        if (!started) {
            started = true;
            if (reply.start() != null) {
                stream.send(StreamEvents.START, reply.start(), null);
            }
        }
        Outcome outcome = reply.outcome(); // read before the text: all text came before the outcome
        sendText(stream, reply.textFrom(sent));
        if (outcome == null) {
            return false;
        }
        if (outcome instanceof Outcome.Done done) {
            ChatResponse response = done.response();
            if (response.assistantMessage() != null) {
                // A reply followed on another process may end before its last piece was written there.
                String full = response.assistantMessage().content();
                sendText(stream, full.length() > sent ? full.substring(sent) : "");
            }
            stream.send(StreamEvents.DONE, response, null);
        } else {
            ApiException error = ((Outcome.Failed) outcome).error();
            stream.send(StreamEvents.ERROR, error.body(false), null);
        }
        return true;
    }

    private void sendText(EventStreams.Stream stream, String text) {
        if (!text.isEmpty()) {
            sent += text.length();
            stream.send(StreamEvents.DELTA, new StreamDelta(text), Integer.toString(sent));
        }
    }

    @Override
    public void left() {
        stopListening.run();
        followed.onLeave().run();
    }
}
