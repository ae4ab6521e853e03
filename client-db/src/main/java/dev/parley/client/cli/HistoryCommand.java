package dev.parley.client.cli;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientConfig;
import dev.parley.client.ClientException;
import dev.parley.client.DataDirectory;
import dev.parley.client.ExportSummary;
import dev.parley.client.ImportListener;
import dev.parley.client.ImportSummary;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./parley import FILE [--data-dir DIR]} and {@code ./parley export FILE [--data-dir DIR]}: the desktop's
 * File → Import and Export for scripts, on the same data directory as the app (by default the platform's). Rows
 * imported while an account is signed in are queued for it and go to the server the next time the app runs; this
 * command itself never connects. Exit status 0 on success, 1 when the file cannot be imported or written, 2 on a
 * usage error. Close the app first: the command and the app must not write one store at once.
 */
public final class HistoryCommand {
    /** A base URL nothing listens on: the command only reads and writes the local store. */
    private static final String NO_SERVER = "http://127.0.0.1:9";

    private HistoryCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> rest = new ArrayList<>(List.of(args));
        Path dataDir = null;
        int flag = rest.indexOf("--data-dir");
        if (flag >= 0) {
            if (flag + 1 >= rest.size()) {
                return usage(err, "--data-dir needs a directory");
            }
            dataDir = Path.of(rest.get(flag + 1));
            rest.subList(flag, flag + 2).clear();
        }
        if (rest.size() != 2 || !(rest.get(0).equals("import") || rest.get(0).equals("export"))) {
            return usage(err, null);
        }
        Path file = Path.of(rest.get(1));
        Path dir = dataDir != null ? dataDir : DataDirectory.resolve();
        ClientConfig config = ClientConfig.builder(dir, NO_SERVER).liveSync(false).build();
        try (ChatClient client = ChatClient.open(config)) {
            if (rest.get(0).equals("import")) {
                ImportSummary summary = client.importHistory(file, new Progress(err));
                out.println(describe(summary));
            } else {
                ExportSummary summary = client.exportHistory(file);
                out.printf(Locale.ROOT, "Exported %d conversations (%d messages) to %s%n", summary.conversations(),
                        summary.messages(), summary.file());
            }
            return 0;
        } catch (ClientException e) {
            err.println("parley: " + e.getMessage());
            return 1;
        }
    }

    static String describe(ImportSummary s) {
        String source = s.source().equals("chatgpt") ? "ChatGPT" : "Parley";
        return String.format(Locale.ROOT, "Imported from a %s export: %d conversations in the file, %d new, %d messages"
                        + " added, %d already here, %d conversations skipped (deleted here or another account's),"
                        + " %d parts skipped (system, tool, hidden or missing), %d non-text parts kept as a note%s",
                source, s.conversationsInFile(), s.conversationsAdded(), s.messagesAdded(), s.messagesAlreadyHere(),
                s.conversationsSkipped(), s.nodesSkipped(), s.notes(), s.cancelled() ? " (cancelled)" : "");
    }

    private static int usage(PrintStream err, String problem) {
        if (problem != null) {
            err.println("parley: " + problem);
        }
        err.println("usage: parley import FILE [--data-dir DIR]   a ChatGPT export (conversations.json or its zip)"
                + " or a Parley export zip");
        err.println("       parley export FILE [--data-dir DIR]   every conversation, as a zip of Markdown and JSON");
        return 2;
    }

    /** Progress on standard error, a line per tenth. */
    private static final class Progress implements ImportListener {
        private final PrintStream err;
        private int checked = -1;
        private int imported = -1;

        Progress(PrintStream err) {
            this.err = err;
        }

        @Override
        public void checking(long bytesRead, long bytesTotal) {
            int tenth = bytesTotal > 0 ? (int) (bytesRead * 10 / bytesTotal) : 0;
            if (tenth > checked) {
                checked = tenth;
                err.println("checking the file… " + tenth * 10 + "%");
            }
        }

        @Override
        public void importing(int done, int total) {
            int tenth = total > 0 ? done * 10 / total : 10;
            if (tenth > imported) {
                imported = tenth;
                err.println("importing… " + done + " of " + total + " conversations");
            }
        }
    }
}
