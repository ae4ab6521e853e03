package dev.parley.client;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One message of the path a conversation shows (SPEC §4.3), with its siblings: the other versions at its place in
 * the tree (replies regenerated for the same question, questions edited from the same point), for the ‹ 2/3 ›
 * control. Immutable.
 *
 * @param message    the message shown here; never {@code null}
 * @param siblingIds the ids of every version at this place, itself included, oldest first (by message time, then
 *                   id); a message without siblings has just its own
 */
public record PathMessage(LocalMessage message, List<String> siblingIds) {

    public PathMessage {
        Objects.requireNonNull(message, "message");
        siblingIds = List.copyOf(siblingIds);
        if (!siblingIds.contains(message.id())) {
            throw new IllegalArgumentException("a message is one of its own versions");
        }
    }

    public String id() {
        return message.id();
    }

    /** The place of this message among its versions, from 1. */
    public int version() {
        return siblingIds.indexOf(message.id()) + 1;
    }

    /** How many versions there are here; 1 when there is no choice to show. */
    public int versions() {
        return siblingIds.size();
    }

    /** The version before this one (‹), to pass to {@link ChatClient#showVersion}; empty for the first. */
    public Optional<String> previousVersion() {
        int at = version() - 1;
        return at > 0 ? Optional.of(siblingIds.get(at - 1)) : Optional.empty();
    }

    /** The version after this one (›), to pass to {@link ChatClient#showVersion}; empty for the last. */
    public Optional<String> nextVersion() {
        int at = version() - 1;
        return at + 1 < siblingIds.size() ? Optional.of(siblingIds.get(at + 1)) : Optional.empty();
    }
}
