package dev.parley.chaos;

import dev.parley.server.AnalyticsVerifier;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The checks at the end of a chaos run, read straight from the server's database and every device's store once the
 * faults stopped and every device drained and pulled:
 * <ul>
 *   <li><b>lost</b>: a user message written on a device that is not on the server (unless the server refused it
 *   because its conversation was deleted on another device, which the device shows), or stored with other text;
 *   a reply a device shows that the server does not have;</li>
 *   <li><b>duplicated</b>: a user message with more than one reply of its own exchange (a reply under an id no
 *   device asked for when it regenerated), or one text stored under two ids;</li>
 *   <li><b>analytics mismatches</b>: rows of the {@code analytics_mismatches} view;</li>
 *   <li><b>stuck</b>: a device row still unsent (pending, local or marked as sending);</li>
 *   <li><b>diverged</b>: a device whose conversations (ids, titles, messages, failed or answered) differ from its
 *   account's on the server, or a row stored under another account than the device's; and rows the server
 *   refused for any reason but a deleted conversation.</li>
 * </ul>
 * Stateless; each call reads afresh.
 */
final class ChaosVerifier {
    private static final int MAX_DETAILS = 40;

    /** A device store to check and the account it ended signed in to. */
    record DeviceStore(String name, Path dataDir, String finalUserId) {
    }

    /** The findings; {@code details} names the first violations. */
    record Findings(int messages, int lost, int duplicated, int analyticsMismatches, int stuck, int diverged,
                    int refusedAsDeleted, List<String> details) {
    }

    private record ServerMessage(String id, String userId, String sessionId, String role, String content,
                                 boolean failed, boolean purged, String userMessageId) {
    }

    private record ServerSession(String id, String userId, String title, boolean deleted) {
    }

    private record LocalMessageRow(String device, String id, String sessionId, String owner, String role,
                                   String content, boolean failed, String syncState, boolean sending,
                                   String rejectCode) {
    }

    private record LocalSessionRow(String id, String owner, String title, boolean deleted, String syncState,
                                   String rejectCode) {
    }

    private final List<String> details = new ArrayList<>();

    /**
     * @param created     user message id to the device that wrote it
     * @param regenerated user message id to the reply ids devices asked for when they regenerated its reply
     */
    Findings verify(String serverDbUrl, List<DeviceStore> devices, Map<String, String> created,
                    Map<String, Set<String>> regenerated) throws SQLException {
        Map<String, ServerMessage> serverMessages = new HashMap<>();
        Map<String, ServerSession> serverSessions = new HashMap<>();
        try (Connection c = DriverManager.getConnection(serverDbUrl); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT id, user_id, session_id, role, content, error_message, purged,"
                    + " user_message_id FROM chat_messages")) {
                while (rs.next()) {
                    ServerMessage m = new ServerMessage(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getString(4), rs.getString(5), rs.getString(6) != null, rs.getBoolean(7),
                            rs.getString(8));
                    serverMessages.put(m.id(), m);
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT id, user_id, title, deleted_at FROM chat_sessions")) {
                while (rs.next()) {
                    serverSessions.put(rs.getString(1), new ServerSession(rs.getString(1), rs.getString(2),
                            rs.getString(3), rs.getObject(4) != null));
                }
            }
        }
        int analytics = AnalyticsVerifier.verify(serverDbUrl).size();
        if (analytics > 0) {
            note(analytics + " analytics mismatches; ./parley verify-analytics --db " + serverDbUrl + " lists them");
        }

        Map<String, List<LocalMessageRow>> holders = new HashMap<>();
        Map<String, Map<String, LocalSessionRow>> deviceSessions = new HashMap<>();
        Map<String, List<LocalMessageRow>> deviceMessages = new HashMap<>();
        int stuck = 0;
        int diverged = 0;
        for (DeviceStore device : devices) {
            List<LocalMessageRow> rows = new ArrayList<>();
            Map<String, LocalSessionRow> sessions = new HashMap<>();
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:"
                    + device.dataDir().resolve("parley-client.db").toAbsolutePath());
                 Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT id, session_id, owner, role, content, error_message,"
                        + " sync_state, sending, reject_code FROM messages")) {
                    while (rs.next()) {
                        rows.add(new LocalMessageRow(device.name(), rs.getString(1), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getString(5), rs.getString(6) != null, rs.getString(7),
                                rs.getInt(8) == 1, rs.getString(9)));
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT id, owner, title, deleted_at, sync_state, reject_code"
                        + " FROM sessions")) {
                    while (rs.next()) {
                        sessions.put(rs.getString(1), new LocalSessionRow(rs.getString(1), rs.getString(2),
                                rs.getString(3), rs.getObject(4) != null, rs.getString(5), rs.getString(6)));
                    }
                }
            }
            for (LocalMessageRow row : rows) {
                holders.computeIfAbsent(row.id(), k -> new ArrayList<>()).add(row);
                if (row.sending() || row.syncState().equals("pending") || row.syncState().equals("local")) {
                    stuck++;
                    note("stuck: " + device.name() + " message " + row.id() + " " + row.syncState()
                            + (row.sending() ? " (sending)" : ""));
                }
                if (row.syncState().equals("rejected") && !refusedAsDeleted(row.sessionId(), row.rejectCode(),
                        serverSessions)) {
                    diverged++;
                    note("refused: " + device.name() + " message " + row.id() + " (" + row.rejectCode() + ")");
                }
                ServerMessage stored = serverMessages.get(row.id());
                if (stored != null && row.owner() != null && !row.owner().equals(stored.userId())) {
                    diverged++;
                    note("owner: " + device.name() + " holds message " + row.id() + " as " + row.owner()
                            + ", the server as " + stored.userId());
                }
            }
            for (LocalSessionRow session : sessions.values()) {
                if (session.syncState().equals("pending") || session.syncState().equals("local")) {
                    stuck++;
                    note("stuck: " + device.name() + " session " + session.id() + " " + session.syncState());
                }
                if (session.syncState().equals("rejected") && !refusedAsDeleted(session.id(), session.rejectCode(),
                        serverSessions)) {
                    diverged++;
                    note("refused: " + device.name() + " session " + session.id() + " (" + session.rejectCode() + ")");
                }
            }
            deviceSessions.put(device.name(), sessions);
            deviceMessages.put(device.name(), rows);
        }

        // Every user message written anywhere: what the devices reported plus what their stores hold.
        Map<String, String> writtenBy = new TreeMap<>(created);
        holders.forEach((id, rows) -> rows.stream().filter(r -> r.role().equals("user")).findFirst()
                .ifPresent(r -> writtenBy.putIfAbsent(id, r.device())));

        int lost = 0;
        int refusedAsDeleted = 0;
        for (Map.Entry<String, String> entry : writtenBy.entrySet()) {
            String id = entry.getKey();
            List<LocalMessageRow> held = holders.getOrDefault(id, List.of());
            ServerMessage stored = serverMessages.get(id);
            if (stored == null) {
                boolean refused = held.stream().anyMatch(r -> r.syncState().equals("rejected")
                        && refusedAsDeleted(r.sessionId(), r.rejectCode(), serverSessions));
                if (refused) {
                    refusedAsDeleted++;
                } else {
                    lost++;
                    note("lost: message " + id + " written on " + entry.getValue() + (held.isEmpty()
                            ? ", which no longer has it" : ", held as " + held.stream()
                            .map(r -> r.device() + ":" + r.syncState()).toList()));
                }
                continue;
            }
            if (!stored.role().equals("user")) {
                lost++;
                note("lost: message " + id + " is stored as " + stored.role());
                continue;
            }
            for (LocalMessageRow row : held) {
                if (!stored.purged() && !Objects.equals(row.content(), stored.content())) {
                    lost++;
                    note("lost: message " + id + " is stored with other text than " + row.device() + " holds");
                }
            }
        }

        // One reply per exchange: a user message's own, and one per reply id a regenerate asked for (each stored at
        // most once, as ids are unique); no text stored twice.
        Map<String, Integer> replies = new HashMap<>();
        Map<String, Integer> texts = new HashMap<>();
        for (ServerMessage m : serverMessages.values()) {
            if (m.role().equals("assistant") && m.userMessageId() != null
                    && !regenerated.getOrDefault(m.userMessageId(), Set.of()).contains(m.id())) {
                replies.merge(m.userMessageId(), 1, Integer::sum);
            }
            if (m.role().equals("user") && !m.purged() && !m.content().isEmpty()) {
                texts.merge(m.userId() + "\u0000" + m.content(), 1, Integer::sum);
            }
        }
        int duplicated = 0;
        for (Map.Entry<String, Integer> reply : replies.entrySet()) {
            if (reply.getValue() > 1) {
                duplicated += reply.getValue() - 1;
                note("duplicated: message " + reply.getKey() + " has " + reply.getValue()
                        + " replies besides its regenerated ones");
            }
        }
        for (Map.Entry<String, Integer> text : texts.entrySet()) {
            if (text.getValue() > 1) {
                duplicated += text.getValue() - 1;
                note("duplicated: one text stored " + text.getValue() + " times");
            }
        }

        // What each device shows for its account is what the server holds for it.
        for (DeviceStore device : devices) {
            String user = device.finalUserId();
            Map<String, String> serverTitles = new TreeMap<>();
            serverSessions.values().stream().filter(s -> s.userId().equals(user) && !s.deleted())
                    .forEach(s -> serverTitles.put(s.id(), s.title()));
            Map<String, String> shownTitles = new TreeMap<>();
            deviceSessions.get(device.name()).values().stream()
                    .filter(s -> user.equals(s.owner()) && !s.deleted())
                    .forEach(s -> shownTitles.put(s.id(), s.title()));
            Set<String> ids = new HashSet<>(serverTitles.keySet());
            ids.addAll(shownTitles.keySet());
            for (String id : ids) {
                if (!Objects.equals(serverTitles.get(id), shownTitles.get(id))) {
                    diverged++;
                    note("diverged: " + device.name() + " shows session " + id + " as " + describe(shownTitles, id)
                            + ", the server has " + describe(serverTitles, id));
                }
            }
            Map<String, String> serverRows = new TreeMap<>();
            serverMessages.values().stream().filter(m -> serverTitles.containsKey(m.sessionId()))
                    .forEach(m -> serverRows.put(m.id(), m.role() + (m.failed() ? " failed " : " ") + m.content()));
            Map<String, String> shownRows = new TreeMap<>();
            deviceMessages.get(device.name()).stream().filter(m -> shownTitles.containsKey(m.sessionId()))
                    .forEach(m -> shownRows.put(m.id(), m.role() + (m.failed() ? " failed " : " ") + m.content()));
            Set<String> messageIds = new HashSet<>(serverRows.keySet());
            messageIds.addAll(shownRows.keySet());
            for (String id : messageIds) {
                String server = serverRows.get(id);
                String shown = shownRows.get(id);
                if (Objects.equals(server, shown)) {
                    continue;
                }
                if (server == null && shown != null && shown.startsWith("assistant")
                        && !serverMessages.containsKey(id)) {
                    lost++;
                    note("lost: reply " + id + " shown on " + device.name() + " is not on the server");
                } else {
                    diverged++;
                    note("diverged: " + device.name() + " shows message " + id + " as " + brief(shown)
                            + ", the server has " + brief(server));
                }
            }
        }
        return new Findings(writtenBy.size(), lost, duplicated, analytics, stuck, diverged, refusedAsDeleted,
                List.copyOf(details));
    }

    /**
     * A refusal that is the promise kept, not broken: the conversation was deleted on another device, so the server
     * takes nothing more into it. A push says {@code session_deleted}; {@code POST /api/chat} says {@code conflict}.
     */
    private static boolean refusedAsDeleted(String sessionId, String code, Map<String, ServerSession> serverSessions) {
        ServerSession session = serverSessions.get(sessionId);
        return session != null && session.deleted() && ("session_deleted".equals(code) || "conflict".equals(code));
    }

    private void note(String detail) {
        if (details.size() < MAX_DETAILS) {
            details.add(detail);
        }
    }

    private static String describe(Map<String, String> titles, String id) {
        return titles.containsKey(id) ? "'" + titles.get(id) + "'" : "nothing";
    }

    private static String brief(String row) {
        if (row == null) {
            return "nothing";
        }
        String flat = row.replaceAll("\\s+", " ");
        return flat.length() > 50 ? "'" + flat.substring(0, 50) + "…'" : "'" + flat + "'";
    }
}
