package dev.parley.chaos;

import dev.parley.chaos.DeviceActions.User;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatResponse;
import dev.parley.protocol.ErrorBody;
import dev.parley.protocol.ErrorCode;
import dev.parley.protocol.FinishReason;
import dev.parley.protocol.StreamStart;
import java.util.ArrayList;
import java.util.List;

/**
 * The ledger's record of one streamed message: the request (so that it can be sent again with the same id), and
 * what the client saw of it — every delta, in the order it came, per generation; each {@code done}; the stop
 * endpoint's answers; and where it stands now (answered, refused for good, or still to find out: dropped,
 * interrupted, failed). Contract breaks seen as events arrive (a delta whose {@code id:} is not the length so
 * far, a {@code done} whose reply is not the text streamed) are kept as problems for the end checks.
 *
 * <p>Thread-safe (every method locks): the device's thread writes it while the faults last, the resolution after,
 * the checks read it at the end.
 */
final class StreamedExchange {
    /** The error the server stores on a user message whose reply was stopped before its first word (SPEC §5.3). */
    static final String STOPPED_BEFORE_REPLY = dev.parley.server.internal.chat.ChatService.STOPPED_BEFORE_REPLY;

    /** Where the message stands for its client. Only {@link #ANSWERED} and {@link #REFUSED} are final. */
    enum State {
        /** Sent; nothing heard yet. */
        SENT,
        /** The connection ended before {@code done} or {@code error}, or no answer came: the outcome is unknown. */
        UNKNOWN,
        /** The server holds no trace of it (re-attach answered 404): the request never arrived whole. */
        NOT_FOUND,
        /** {@code interrupted}, a retryable error, or a retryable refusal: to be sent again. */
        TO_SEND_AGAIN,
        /** A {@code done} (or a JSON answer) came: a reply, a stopped reply, or a stop before the first word. */
        ANSWERED,
        /** Refused on its merits (its conversation was deleted elsewhere, say): nothing more to do. */
        REFUSED
    }

    /** The text one generation (one {@code replyId}) streamed to this client, in the order it arrived. */
    static final class View {
        String replyId;
        final StringBuilder text = new StringBuilder();

        View(String replyId) {
            this.replyId = replyId;
        }
    }

    /** A {@code done} (or JSON answer) and the text the client had streamed for it when it came. */
    record Answered(ChatResponse response, String streamed, boolean viaStream) {
    }

    final String messageId;
    final String device;
    final User user;
    final ChatRequest request;
    final int server;
    // Guarded by this.
    private State state = State.SENT;
    private String lastError = "";
    private View view;
    private final List<Answered> answers = new ArrayList<>();
    private final List<ChatResponse> stopAnswers = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private boolean dropped;
    private int reattached;
    private int interrupted;
    private int resent;

    /** @param server the server process the message was first sent to */
    StreamedExchange(String device, User user, ChatRequest request, int server) {
        this.messageId = request.messageId();
        this.device = device;
        this.user = user;
        this.request = request;
        this.server = server;
    }

    /** A new stream of the message begins from offset 0 (the first request, or a re-attach from the start). */
    synchronized void newView() {
        view = null;
    }

    /** Where a re-attach resumes: the length of the text this client has of the current generation. */
    synchronized int offset() {
        return view == null ? 0 : view.text.length();
    }

    /**
     * A {@code start} event. False when it belongs to another generation than the text this client holds (the
     * message was answered anew since): that text says nothing about this one, so the caller reads it from 0.
     */
    synchronized boolean start(StreamStart start) {
        String replyId = start.replyId();
        if (view == null) {
            view = new View(replyId);
            return true;
        }
        if (replyId != null && view.replyId != null && !replyId.equals(view.replyId)) {
            if (!view.text.isEmpty()) {
                return false;
            }
            view = new View(replyId);
        } else if (view.replyId == null) {
            view.replyId = replyId;
        }
        return true;
    }

    /** A {@code delta} event: its text is appended; its {@code id:} must be the length so far. */
    synchronized void delta(String id, String text) {
        if (view == null) {
            problems.add("a delta before the start event");
            view = new View(null);
        }
        view.text.append(text);
        String expected = Integer.toString(view.text.length());
        if (!expected.equals(id)) {
            problems.add("a delta with id " + id + " after " + expected + " characters");
        }
    }

    /** A {@code done} event, or a JSON answer ({@code viaStream} false, with no streamed text). */
    synchronized void answered(ChatResponse response, boolean viaStream) {
        String streamed = viaStream ? (view == null ? "" : view.text.toString()) : null;
        answers.add(new Answered(response, streamed, viaStream));
        if (viaStream && view != null && response.assistantMessage() != null && view.replyId != null
                && !view.replyId.equals(response.assistantMessage().id())) {
            problems.add("done with reply " + response.assistantMessage().id() + " after a start of " + view.replyId);
        }
        state = State.ANSWERED;
    }

    /** An {@code error} event: interrupted or another retryable failure means sending again; else final. */
    synchronized void error(ErrorBody body) {
        if (body.error().code() == ErrorCode.INTERRUPTED && !Boolean.TRUE.equals(body.persisted())) {
            interrupted++;
        }
        lastError = body.error().code().wire();
        view = null; // whatever streamed belonged to a generation that stored nothing
        state = body.error().retryable() ? State.TO_SEND_AGAIN : State.REFUSED;
    }

    /**
     * Refused before any stream began, or a JSON send refused. A 404 to a re-attach means the server holds no trace
     * of the message (its request never arrived whole); to a send, that the conversation is not the account's.
     */
    synchronized void refused(DirectChat.Refused refused, boolean reattach) {
        lastError = refused.code();
        if (refused.status == 404 && reattach) {
            state = State.NOT_FOUND;
        } else if (refused.code().equals("in_progress")) {
            state = State.UNKNOWN; // live elsewhere: re-attach
        } else {
            state = refused.retryable() || refused.status == 401 ? State.TO_SEND_AGAIN : State.REFUSED;
        }
    }

    /** The connection ended without an outcome: dropped by this client, or cut on the way. */
    synchronized void broken(String cause) {
        lastError = cause;
        dropped = true;
        if (state != State.ANSWERED && state != State.REFUSED) {
            state = State.UNKNOWN;
        }
    }

    /** No answer to a request at all (refused connection, reset, cut, timeout). */
    synchronized void noAnswer(String cause) {
        lastError = cause;
        if (state == State.SENT) {
            state = State.UNKNOWN;
        }
    }

    synchronized void problem(String what) {
        problems.add(what);
    }

    synchronized void reattached() {
        reattached++;
    }

    synchronized void resent() {
        resent++;
    }

    /** The stop endpoint answered 200. */
    synchronized void stopAnswered(ChatResponse response) {
        stopAnswers.add(response);
    }

    synchronized State state() {
        return state;
    }

    synchronized boolean isFinal() {
        return state == State.ANSWERED || state == State.REFUSED;
    }

    synchronized String lastError() {
        return lastError;
    }

    synchronized List<Answered> answers() {
        return List.copyOf(answers);
    }

    synchronized List<ChatResponse> stopAnswers() {
        return List.copyOf(stopAnswers);
    }

    synchronized List<String> problems() {
        return List.copyOf(problems);
    }

    synchronized boolean dropped() {
        return dropped;
    }

    synchronized int reattachedCount() {
        return reattached;
    }

    synchronized int interruptedCount() {
        return interrupted;
    }

    synchronized int resentCount() {
        return resent;
    }

    /** Whether a Stop took effect: a reply stored as stopped, or a stop before the first word. */
    synchronized boolean stopped() {
        return stopAnswers.stream().anyMatch(r -> stoppedBeforeReply(r) || r.assistantMessage() != null
                && r.assistantMessage().finishReason() == FinishReason.STOPPED);
    }

    /** An answer that says the reply was stopped before its first word (not one of a message that had failed). */
    static boolean stoppedBeforeReply(ChatResponse response) {
        return response.assistantMessage() == null && response.userMessage() != null
                && STOPPED_BEFORE_REPLY.equals(response.userMessage().errorMessage());
    }
}
