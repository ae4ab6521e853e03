package dev.parley.desktop.viewmodel;

import dev.parley.client.PathMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which version of a message the window shows, among its siblings (SPEC §4.3: the replies to one question, or a
 * question and its edits): drawn as ‹ n/m ›. Immutable.
 *
 * @param id         the message shown
 * @param siblingIds every version, oldest first, {@code id} among them
 */
public record Versions(String id, List<String> siblingIds) {

    public Versions {
        siblingIds = List.copyOf(siblingIds);
        if (!siblingIds.contains(id)) {
            throw new IllegalArgumentException(id + " is not among its versions " + siblingIds);
        }
    }

    /** The versions of a message on the shown path, as the store counts them. */
    public static Versions of(PathMessage message) {
        return new Versions(message.id(), message.siblingIds());
    }

    /** The versions once {@code newest} joins them as the last one, shown (a reply being regenerated). */
    Versions withNewest(String newest) {
        List<String> all = new ArrayList<>(siblingIds);
        all.remove(newest);
        all.add(newest);
        return new Versions(newest, all);
    }

    /** 1-based. */
    public int version() {
        return siblingIds.indexOf(id) + 1;
    }

    public int count() {
        return siblingIds.size();
    }

    /** True when there is more than one version, so that ‹ n/m › is shown at all. */
    public boolean several() {
        return count() > 1;
    }

    public Optional<String> previous() {
        int at = version() - 1;
        return at > 0 ? Optional.of(siblingIds.get(at - 1)) : Optional.empty();
    }

    public Optional<String> next() {
        int at = version() - 1;
        return at < count() - 1 ? Optional.of(siblingIds.get(at + 1)) : Optional.empty();
    }

    /** "2/3". */
    public String label() {
        return version() + "/" + count();
    }
}
