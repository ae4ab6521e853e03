package dev.parley.client.internal.history;

import dev.parley.protocol.Message;
import dev.parley.protocol.Role;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A whole conversation as Markdown to read, every branch (SPEC §4.3). The main line comes first: from the first
 * turn, at each fork the version whose branch holds the newest message, as Parley shows it. Each other version
 * follows as a section of its own, from the fork to the end of its branch, headed with the message it is another
 * version of. Times are UTC. Pure; no I/O.
 */
final class Transcript {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final Comparator<Message> BY_TIME =
            Comparator.comparing(Message::messageTimestamp).thenComparing(Message::id);

    private Transcript() {
    }

    static String markdown(String title, Instant createdAt, List<Message> messages) {
        Map<String, List<Message>> children = new HashMap<>();
        List<Message> roots = new ArrayList<>();
        Map<String, Message> byId = new HashMap<>();
        messages.forEach(m -> byId.put(m.id(), m));
        for (Message m : messages) {
            String parent = m.role() == Role.ASSISTANT && m.userMessageId() != null ? m.userMessageId() : m.parentId();
            if (parent != null && byId.containsKey(parent)) {
                children.computeIfAbsent(parent, k -> new ArrayList<>()).add(m);
            } else {
                roots.add(m);
            }
        }
        Map<String, Instant> newest = newestBeneath(roots, children);
        StringBuilder md = new StringBuilder();
        md.append("# ").append(title.replaceAll("\\s+", " ")).append("\n\n_Started ").append(TIME.format(createdAt))
                .append(" · ").append(messages.size()).append(messages.size() == 1 ? " message" : " messages");
        long forks = children.values().stream().filter(list -> list.size() > 1).count()
                + (roots.size() > 1 ? 1 : 0);
        if (forks > 0) {
            md.append(" · other versions follow the main line");
        }
        md.append("_\n");

        // Sections: a first message and the turn number it starts at. The main line first, then each other version
        // in the order its fork is met.
        record Section(Message start, int turn, Message versionOf, int turnOfVersion) {
        }
        Deque<Section> sections = new ArrayDeque<>();
        List<Message> firstTurns = sorted(roots, newest);
        if (firstTurns.isEmpty()) {
            return md.toString();
        }
        sections.add(new Section(firstTurns.get(0), 1, null, 0));
        for (Message other : firstTurns.subList(1, firstTurns.size())) {
            sections.add(new Section(other, 1, firstTurns.get(0), 1));
        }
        while (!sections.isEmpty()) {
            Section section = sections.poll();
            if (section.versionOf() != null) {
                md.append("\n---\n\n### Another version of message ").append(section.turnOfVersion())
                        .append(" (“").append(excerpt(section.versionOf()))
                        .append("”)\n");
            }
            int turn = section.turn();
            for (Message at = section.start(); at != null; turn++) {
                appendMessage(md, at, turn);
                List<Message> next = sorted(children.getOrDefault(at.id(), List.of()), newest);
                for (Message other : next.size() > 1 ? next.subList(1, next.size()) : List.<Message>of()) {
                    sections.add(new Section(other, turn + 1, next.get(0), turn + 1));
                }
                at = next.isEmpty() ? null : next.get(0);
            }
        }
        return md.toString();
    }

    private static void appendMessage(StringBuilder md, Message m, int turn) {
        md.append("\n## ").append(turn).append(". ").append(author(m.role()));
        if (m.role() == Role.ASSISTANT && m.model() != null) {
            md.append(" · ").append(m.model());
        }
        md.append(" · ").append(TIME.format(m.messageTimestamp())).append("\n\n").append(m.content().strip())
                .append('\n');
        if (m.failed()) {
            md.append("\n_Not sent: ").append(m.errorMessage()).append("_\n");
        }
    }

    /** The versions at a fork, the one whose branch holds the newest message first. */
    private static List<Message> sorted(List<Message> versions, Map<String, Instant> newest) {
        List<Message> sorted = new ArrayList<>(versions);
        sorted.sort(Comparator.comparing((Message m) -> newest.get(m.id())).reversed().thenComparing(BY_TIME));
        return sorted;
    }

    /** For each message, the newest time in its branch (itself and every message beneath it). */
    private static Map<String, Instant> newestBeneath(List<Message> roots, Map<String, List<Message>> children) {
        Map<String, Instant> newest = new HashMap<>();
        Deque<Message> stack = new ArrayDeque<>(roots);
        List<Message> order = new ArrayList<>();
        while (!stack.isEmpty()) {
            Message m = stack.pop();
            order.add(m);
            children.getOrDefault(m.id(), List.of()).forEach(stack::push);
        }
        for (int i = order.size() - 1; i >= 0; i--) {
            Message m = order.get(i);
            Instant max = m.messageTimestamp();
            for (Message child : children.getOrDefault(m.id(), List.of())) {
                Instant beneath = newest.get(child.id());
                if (beneath.isAfter(max)) {
                    max = beneath;
                }
            }
            newest.put(m.id(), max);
        }
        return newest;
    }

    private static String author(Role role) {
        return switch (role) {
            case USER -> "You";
            case ASSISTANT -> "Assistant";
            case SYSTEM -> "System";
        };
    }

    private static String excerpt(Message m) {
        String flat = m.content().strip().replaceAll("\\s+", " ");
        return flat.length() > 60 ? flat.substring(0, 59) + "…" : flat;
    }
}
