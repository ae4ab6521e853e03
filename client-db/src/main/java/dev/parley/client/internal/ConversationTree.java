package dev.parley.client.internal;

import dev.parley.client.LocalMessage;
import dev.parley.client.PathMessage;
import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A conversation as a tree (SPEC §4.3) and the path it shows: from the roots, at each fork this device's choice
 * when it made one, else the child whose subtree holds the newest leaf. Siblings are ordered by message time, then
 * id. A reply's parent is its {@code parentId}, or else its user message; a message whose parent is not in the tree
 * is a root. Built from one read of the store; immutable, so any thread may use it.
 */
final class ConversationTree {
    static final Comparator<LocalMessage> ORDER = Comparator
            .comparing((LocalMessage m) -> m.message().messageTimestamp())
            .thenComparing(LocalMessage::id);

    private final String sessionId;
    private final Map<String, LocalMessage> byId = new LinkedHashMap<>();
    private final Map<String, String> parents = new HashMap<>();
    /** Children by parent key ({@link BranchChoices#key}), oldest first. */
    private final Map<String, List<LocalMessage>> children = new HashMap<>();
    private final Map<String, String> choices;
    /** The newest leaf under each message (itself when it is one). */
    private final Map<String, LocalMessage> newestLeaf = new HashMap<>();

    /**
     * @param messages every message of the session (each id once), replies being written and failed regenerates
     *                 included
     * @param choices  this device's choices, sibling id by parent key
     */
    ConversationTree(String sessionId, List<LocalMessage> messages, Map<String, String> choices) {
        this.sessionId = sessionId;
        this.choices = Map.copyOf(choices);
        List<LocalMessage> sorted = new ArrayList<>(messages);
        sorted.sort(ORDER);
        sorted.forEach(m -> byId.put(m.id(), m));
        for (LocalMessage m : sorted) {
            String parent = parentOf(m.message());
            if (parent != null && (!byId.containsKey(parent) || parent.equals(m.id()))) {
                parent = null;
            }
            parents.put(m.id(), parent);
            children.computeIfAbsent(BranchChoices.key(sessionId, parent), k -> new ArrayList<>()).add(m);
        }
        findNewestLeaves();
    }

    /** The message {@code m} follows: its parent, or for a reply stored without one, its user message. */
    static String parentOf(Message m) {
        if (m.parentId() != null) {
            return m.parentId();
        }
        return m.role() == Role.ASSISTANT ? m.userMessageId() : null;
    }

    /** The path shown, root first, each message with its versions. */
    List<PathMessage> path() {
        List<PathMessage> path = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<LocalMessage> siblings = children.getOrDefault(BranchChoices.key(sessionId, null), List.of());
        String parentKey = BranchChoices.key(sessionId, null);
        while (!siblings.isEmpty()) {
            LocalMessage shown = pick(parentKey, siblings);
            if (!seen.add(shown.id())) {
                break; // a cycle cannot come from the store's rules; never loop on one
            }
            path.add(new PathMessage(shown, siblings.stream().map(LocalMessage::id).toList()));
            parentKey = shown.id();
            siblings = children.getOrDefault(parentKey, List.of());
        }
        return path;
    }

    private LocalMessage pick(String parentKey, List<LocalMessage> siblings) {
        String chosen = choices.get(parentKey);
        if (chosen != null) {
            for (LocalMessage m : siblings) {
                if (m.id().equals(chosen)) {
                    return m;
                }
            }
        }
        LocalMessage best = siblings.get(0);
        for (LocalMessage m : siblings) {
            if (ORDER.compare(newestLeaf.get(m.id()), newestLeaf.get(best.id())) > 0) {
                best = m;
            }
        }
        return best;
    }

    /** Every message, every branch, in (message time, id) order. */
    List<LocalMessage> all() {
        return List.copyOf(byId.values());
    }

    Optional<LocalMessage> find(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    /** The parent of {@code id} in the tree ({@code null} for a root). */
    String parent(String id) {
        return parents.get(id);
    }

    /** The messages before {@code id} on its branch, root first, {@code id} left out. */
    List<LocalMessage> ancestors(String id) {
        Deque<LocalMessage> line = new ArrayDeque<>();
        Set<String> seen = new HashSet<>();
        for (String at = parents.get(id); at != null && seen.add(at); at = parents.get(at)) {
            line.addFirst(byId.get(at));
        }
        return List.copyOf(line);
    }

    /** Post-order without recursion: a conversation may be thousands of messages deep. */
    private void findNewestLeaves() {
        Deque<LocalMessage> stack = new ArrayDeque<>();
        Set<String> expanded = new HashSet<>();
        for (LocalMessage root : children.getOrDefault(BranchChoices.key(sessionId, null), List.of())) {
            stack.push(root);
            while (!stack.isEmpty()) {
                LocalMessage top = stack.peek();
                List<LocalMessage> below = children.getOrDefault(top.id(), List.of());
                if (expanded.add(top.id()) && !below.isEmpty()) {
                    below.forEach(stack::push);
                    continue;
                }
                stack.pop();
                LocalMessage newest = top;
                for (LocalMessage child : below) {
                    LocalMessage leaf = newestLeaf.get(child.id());
                    if (leaf != null && (newest == top || ORDER.compare(leaf, newest) > 0)) {
                        newest = leaf;
                    }
                }
                newestLeaf.putIfAbsent(top.id(), newest);
            }
        }
    }
}
