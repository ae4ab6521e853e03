package dev.parley.desktop.viewmodel;

import dev.parley.client.LocalMessage;
import dev.parley.client.RemoteReply;
import dev.parley.client.SyncState;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replies another device is having written in the open conversation (SPEC §6 Live sync): each is shown growing at
 * the end of the path, after its question when the path does not hold that yet, until the stored rows come with a
 * pull and take their place. What it places are stand-ins, never stored. UI thread only; knows no controls.
 */
final class ElsewhereReplies {
    /** Replies being written, or ended and not yet replaced by a read of the stored rows, by reply id. */
    private final Map<String, RemoteReply> live = new LinkedHashMap<>();
    /** The stand-ins placed in the list, by message id, to find them again (by identity) and to take them out. */
    private final Map<String, LocalMessage> placed = new HashMap<>();

    /** Takes in news of one reply: it grew, or it ended. */
    void heard(RemoteReply reply) {
        live.put(reply.replyId(), reply);
    }

    /** True when {@code message} is a stand-in for a reply (or its question) being written on another device. */
    boolean isStandIn(LocalMessage message) {
        return placed.get(message.id()) == message;
    }

    /** True when {@code message} is the stand-in of a reply still being written (not one that ended). */
    boolean isBeingWritten(LocalMessage message) {
        RemoteReply reply = live.get(message.id());
        return isStandIn(message) && reply != null && !reply.ended();
    }

    /**
     * Brings {@code messages}, the shown path of {@code sessionId}, up to date: stand-ins of replies stored now are
     * taken out, the others placed at the end or grown in place. A reply that ended keeps its stand-in until the
     * path is read again ({@code afterRead}): then its stored rows are there, or it failed and is shown as the
     * store has it.
     */
    void showIn(String sessionId, List<LocalMessage> messages, boolean afterRead) {
        live.values().removeIf(reply -> stored(messages, reply.replyId()) || afterRead && reply.ended());
        placed.entrySet().removeIf(entry -> {
            boolean keep = live.values().stream().anyMatch(reply -> reply.sessionId().equals(sessionId)
                    && (reply.replyId().equals(entry.getKey()) || reply.questionId().equals(entry.getKey())));
            if (!keep) {
                messages.removeIf(m -> m == entry.getValue());
            }
            return !keep;
        });
        for (RemoteReply reply : live.values()) {
            if (!reply.sessionId().equals(sessionId)) {
                continue;
            }
            if (indexOf(messages, reply.questionId()) < 0) {
                place(messages, standIn(reply.questionId(), reply, Role.USER, reply.question()));
            }
            place(messages, standIn(reply.replyId(), reply, Role.ASSISTANT, reply.text()));
        }
    }

    /** Forgets every reply followed, as when another account signs in. */
    void clear() {
        live.clear();
        placed.clear();
    }

    private void place(List<LocalMessage> messages, LocalMessage standIn) {
        LocalMessage before = placed.put(standIn.id(), standIn);
        int at = -1;
        for (int i = 0; i < messages.size() && at < 0; i++) {
            if (messages.get(i) == before) {
                at = i;
            }
        }
        if (at >= 0) {
            messages.set(at, standIn);
        } else {
            messages.add(standIn);
        }
    }

    private boolean stored(List<LocalMessage> messages, String id) {
        int at = indexOf(messages, id);
        return at >= 0 && !isStandIn(messages.get(at));
    }

    private static int indexOf(List<LocalMessage> messages, String id) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).id().equals(id)) {
                return i;
            }
        }
        return -1;
    }

    private static LocalMessage standIn(String id, RemoteReply reply, Role role, String text) {
        Message.Builder message = Message.builder(id, reply.sessionId(), role).content(text).tokens(0, 0)
                .messageTimestamp(Instant.now());
        if (role == Role.ASSISTANT) {
            message.userMessageId(reply.questionId()).parentId(reply.questionId());
        }
        return new LocalMessage(message.build(), SyncState.SYNCED, null, false, null, true);
    }
}
