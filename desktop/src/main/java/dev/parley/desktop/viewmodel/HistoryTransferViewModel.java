package dev.parley.desktop.viewmodel;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientException;
import dev.parley.client.ExportSummary;
import dev.parley.client.ImportListener;
import dev.parley.client.ImportSummary;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyBooleanWrapper;
import javafx.beans.property.ReadOnlyDoubleProperty;
import javafx.beans.property.ReadOnlyDoubleWrapper;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File → Import chats and File → Export all chats: runs {@link ChatClient#importHistory} or
 * {@link ChatClient#exportHistory} off the UI thread through the app's {@link UiExecutor}, one at a time, and tells
 * how it goes. While one runs: {@link #progressProperty()} (0 to 1, the check of the file as the first half by bytes
 * and the write as the second by conversations; -1 when the total is unknown) and {@link #statusProperty()}. When it
 * ends: {@link #resultProperty()} or, when it failed, {@link #errorProperty()}, in plain language. An import that
 * added messages reloads the sidebar through the client's change event, not through this class.
 *
 * <p>UI thread only, like every view model; the import's listener runs on the worker and hands its progress to the
 * UI thread coalesced, at most one update waiting at a time however often the client reports.
 */
public final class HistoryTransferViewModel {
    private static final Logger LOG = LoggerFactory.getLogger(HistoryTransferViewModel.class);

    private final ChatClient client;
    private final UiExecutor ui;
    private final Clock clock;

    private final ReadOnlyBooleanWrapper running = new ReadOnlyBooleanWrapper();
    private final ReadOnlyBooleanWrapper cancellable = new ReadOnlyBooleanWrapper();
    private final ReadOnlyBooleanWrapper cancelling = new ReadOnlyBooleanWrapper();
    private final ReadOnlyDoubleWrapper progress = new ReadOnlyDoubleWrapper(0);
    private final ReadOnlyStringWrapper status = new ReadOnlyStringWrapper("");
    private final ReadOnlyStringWrapper result = new ReadOnlyStringWrapper("");
    private final ReadOnlyStringWrapper error = new ReadOnlyStringWrapper("");
    /** The import running, null when none is; late progress of an import that ended finds it gone and is dropped. */
    private Job job;

    /** @param clock gives the date in the suggested export file's name, in the clock's zone */
    public HistoryTransferViewModel(ChatClient client, UiExecutor ui, Clock clock) {
        this.client = client;
        this.ui = ui;
        this.clock = clock;
    }

    /**
     * Imports {@code file} (a ChatGPT data export, {@code conversations.json} or its zip, or a Parley export zip).
     *
     * @return false, doing nothing, while another import or export runs
     */
    public boolean importFrom(Path file) {
        if (running.get()) {
            return false;
        }
        String name = String.valueOf(file.getFileName());
        Job started = new Job(name);
        job = started;
        begin(true, 0, "Checking " + name + "…");
        ui.run(() -> client.importHistory(file, started), summary -> {
            if (job == started) {
                job = null;
                end(importText(summary), "");
            }
        }, e -> {
            if (job == started) {
                job = null;
                end("", failure("import", file, e));
            }
        });
        return true;
    }

    /**
     * Exports every conversation, every branch, to the zip {@code file}.
     *
     * @return false, doing nothing, while another import or export runs
     */
    public boolean exportTo(Path file) {
        if (running.get()) {
            return false;
        }
        begin(false, -1, "Exporting all conversations to " + file.getFileName() + "…");
        ui.run(() -> client.exportHistory(file), summary -> end(exportText(summary), ""),
                e -> end("", failure("export", file, e)));
        return true;
    }

    /**
     * Stops the import at the next group of conversations; what was written stays, each conversation whole. Nothing
     * when no import runs (an export is not cancelled).
     */
    public void cancel() {
        if (job != null && cancellable.get()) {
            job.cancelled.set(true);
            cancellable.set(false);
            cancelling.set(true);
            status.set("Cancelling: finishing the conversations being written…");
        }
    }

    /** Hides the result or the error of the last import or export. */
    public void dismiss() {
        result.set("");
        error.set("");
    }

    /** The file name the Save dialog suggests: {@code parley-export-<yyyy-MM-dd>.zip}, today in the clock's zone. */
    public String suggestedExportName() {
        return "parley-export-" + LocalDate.now(clock) + ".zip";
    }

    private void begin(boolean canCancel, double fraction, String text) {
        result.set("");
        error.set("");
        progress.set(fraction);
        status.set(text);
        cancellable.set(canCancel);
        cancelling.set(false);
        running.set(true);
    }

    private void end(String resultText, String errorText) {
        progress.set(errorText.isEmpty() ? 1 : 0);
        status.set("");
        cancellable.set(false);
        cancelling.set(false);
        running.set(false);
        result.set(resultText);
        error.set(errorText);
    }

    /** The failure in plain words: the client's own message, which names what is wrong with the file. */
    private static String failure(String what, Path file, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof ClientException client) {
            if (!"bad_request".equals(client.code())) {
                LOG.warn("{} of {} failed", what, file, cause); // a store or disk failure, not the file's fault
            }
            return client.getMessage();
        }
        LOG.warn("{} of {} failed", what, file, cause);
        return "Parley could not " + what + " " + file.getFileName() + ": something went wrong (see the log).";
    }

    // ------------------------------------------------------------------ what the user reads

    /** What an import did, in a sentence or three. */
    static String importText(ImportSummary s) {
        String from = switch (s.source()) {
            case "chatgpt" -> " from ChatGPT";
            case "parley" -> " from a Parley export";
            default -> "";
        };
        if (s.cancelled()) {
            if (s.messagesAdded() == 0) {
                return "Import cancelled: nothing was imported.";
            }
            String what = s.conversationsAdded() > 0 ? count(s.conversationsAdded(), "conversation")
                    : count(s.messagesAdded(), "message");
            boolean one = s.conversationsAdded() > 0 ? s.conversationsAdded() == 1 : s.messagesAdded() == 1;
            return "Import cancelled: " + what + (one ? " was" : " were")
                    + " imported; import the file again to add the rest.";
        }
        if (s.conversationsInFile() == 0) {
            return "Nothing to import: the file holds no conversation with messages.";
        }
        StringBuilder text = new StringBuilder();
        if (s.messagesAdded() == 0) {
            int here = s.conversationsInFile() - s.conversationsSkipped();
            if (s.conversationsSkipped() == 0) {
                text.append(s.conversationsInFile() == 1 ? "Nothing new to import: the conversation is already here."
                        : "Nothing new to import: all " + number(s.conversationsInFile())
                        + " conversations are already here.");
            } else {
                text.append("Nothing new to import: ").append(number(here)).append(" of the ")
                        .append(count(s.conversationsInFile(), "conversation")).append(here == 1 ? " is" : " are")
                        .append(" already here.");
            }
        } else if (s.conversationsAdded() > 0) {
            text.append("Imported ").append(count(s.conversationsAdded(), "conversation")).append(" (")
                    .append(count(s.messagesAdded(), "message")).append(")").append(from).append(".");
        } else {
            text.append("Imported ").append(count(s.messagesAdded(), "new message")).append(from)
                    .append(" into conversations already here.");
        }
        if (s.notes() > 0 && s.messagesAdded() > 0) { // the notes of an import again were told the first time
            text.append(s.notes() == 1 ? " 1 image or file was kept as a note."
                    : " " + number(s.notes()) + " images and files were kept as a note.");
        }
        if (s.conversationsSkipped() > 0) {
            text.append(" ").append(count(s.conversationsSkipped(), "conversation"))
                    .append(s.conversationsSkipped() == 1 ? " was" : " were")
                    .append(" left out: deleted here, or stored under another account.");
        }
        return text.toString();
    }

    /** What an export wrote. */
    static String exportText(ExportSummary s) {
        return "Exported " + count(s.conversations(), "conversation") + " (" + count(s.messages(), "message")
                + ") to " + s.file().getFileName() + ".";
    }

    private static String count(long n, String noun) {
        return number(n) + " " + noun + (n == 1 ? "" : "s");
    }

    /** 4,000: the window's language is English, whatever the machine's locale. */
    private static String number(long n) {
        return String.format(Locale.ENGLISH, "%,d", n);
    }

    /** How far the check or the write has come, as shown. */
    private record Progress(double fraction, String status) {
    }

    /**
     * One import's listener: runs on the import's thread, keeps the latest progress and posts one update to the UI
     * thread unless one is waiting already.
     */
    private final class Job implements ImportListener {
        private final String fileName;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicReference<Progress> latest = new AtomicReference<>();
        private final AtomicBoolean posted = new AtomicBoolean();

        Job(String fileName) {
            this.fileName = fileName;
        }

        @Override
        public void checking(long bytesRead, long bytesTotal) {
            if (bytesTotal > 0) {
                double done = Math.min(1, (double) bytesRead / bytesTotal);
                post(new Progress(done / 2, "Checking " + fileName + "… " + (int) Math.floor(done * 100) + "%"));
            } else {
                post(new Progress(-1, "Checking " + fileName + "…"));
            }
        }

        @Override
        public void importing(int done, int total) {
            if (total > 0) {
                post(new Progress(0.5 + 0.5 * Math.min(1, (double) done / total),
                        "Importing " + number(done) + " of " + count(total, "conversation") + "…"));
            } else {
                post(new Progress(-1, "Importing…"));
            }
        }

        @Override
        public boolean cancelled() {
            return cancelled.get();
        }

        private void post(Progress now) {
            latest.set(now);
            if (posted.compareAndSet(false, true)) {
                ui.onUi(this::show);
            }
        }

        /** UI thread: shows the latest progress, unless this import has ended meanwhile. */
        private void show() {
            posted.set(false); // first, so that progress arriving from here on posts again
            Progress now = latest.get();
            if (job != this || now == null) {
                return;
            }
            progress.set(now.fraction());
            if (!cancelled.get()) {
                status.set(now.status());
            }
        }
    }

    // ------------------------------------------------------------------ properties

    /** True while an import or an export runs; the menu's items are disabled meanwhile. */
    public ReadOnlyBooleanProperty runningProperty() {
        return running.getReadOnlyProperty();
    }

    /** True while an import runs that was not asked to stop yet. */
    public ReadOnlyBooleanProperty cancellableProperty() {
        return cancellable.getReadOnlyProperty();
    }

    /** True from {@link #cancel()} until the import stops (at the end of the group being written). */
    public ReadOnlyBooleanProperty cancellingProperty() {
        return cancelling.getReadOnlyProperty();
    }

    /** 0 to 1 while running, -1 when how much is left is unknown; 1 once done. */
    public ReadOnlyDoubleProperty progressProperty() {
        return progress.getReadOnlyProperty();
    }

    /** What is going on, e.g. "Importing 120 of 4,000 conversations…"; empty when nothing runs. */
    public ReadOnlyStringProperty statusProperty() {
        return status.getReadOnlyProperty();
    }

    /** What the last import or export did, in plain language; empty while running, after a failure or dismissed. */
    public ReadOnlyStringProperty resultProperty() {
        return result.getReadOnlyProperty();
    }

    /** Why the last import or export failed, in plain language (nothing was imported); empty otherwise. */
    public ReadOnlyStringProperty errorProperty() {
        return error.getReadOnlyProperty();
    }
}
