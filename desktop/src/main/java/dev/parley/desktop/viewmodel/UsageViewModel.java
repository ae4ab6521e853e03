package dev.parley.desktop.viewmodel;

import dev.parley.client.Account;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientException;
import dev.parley.client.UsageReport;
import dev.parley.protocol.UsageResponse.UsageDay;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyBooleanWrapper;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage panel: the last {@value #DAYS} UTC days (today inclusive, by the injected clock) of messages, tokens and
 * models, with where the figures come from. Signed in and online they are the server's exact figures (SPEC §4.1);
 * otherwise they are worked out from this device's own store, and the source line says so.
 *
 * <p>{@link #load()} reads through {@link ChatClient#usage} off the UI thread via the {@link UiExecutor} and
 * publishes on the UI thread; a failure becomes {@link #errorProperty() an inline error} in plain words. Create,
 * call and observe it on the UI thread only. It owns nothing that needs closing; the client is the caller's.
 */
public final class UsageViewModel {
    /** How many days the panel shows, today included. */
    public static final int DAYS = 30;
    /** What the panel says when no message counted in the window. */
    public static final String EMPTY_TEXT = "No messages in the last " + DAYS + " days";
    static final String SIGNED_OUT = "On this device only: sign in to see your account's exact usage";
    static final String UNREACHABLE = "The server could not be reached; figures from this device";

    private static final Logger LOG = LoggerFactory.getLogger(UsageViewModel.class);
    private static final DateTimeFormatter SHORT_DATE = DateTimeFormatter.ofPattern("d MMM", Locale.ENGLISH);

    private final ChatClient client;
    private final UiExecutor ui;
    private final Clock clock;
    private final ObservableList<UsageDay> days = FXCollections.observableArrayList();
    private final ObservableList<UsageModelShare> models = FXCollections.observableArrayList();
    // Kept, not made per call: a read-only view follows its list through a weak listener, so one nobody keeps
    // would stop passing changes on to the listeners added to it
    private final ObservableList<UsageDay> daysView = FXCollections.unmodifiableObservableList(days);
    private final ObservableList<UsageModelShare> modelsView = FXCollections.unmodifiableObservableList(models);
    private final ReadOnlyObjectWrapper<UsageTotals> totals = new ReadOnlyObjectWrapper<>(UsageTotals.NONE);
    private final ReadOnlyObjectWrapper<UsageReport.Source> source = new ReadOnlyObjectWrapper<>();
    private final ReadOnlyStringWrapper sourceText = new ReadOnlyStringWrapper("");
    private final ReadOnlyBooleanWrapper loading = new ReadOnlyBooleanWrapper();
    private final ReadOnlyBooleanWrapper empty = new ReadOnlyBooleanWrapper();
    private final ReadOnlyStringWrapper error = new ReadOnlyStringWrapper("");
    private long loads; // only the newest load may publish

    /**
     * @param client the client to read usage from; not closed here
     * @param ui     runs the read off the UI thread and hands the result back
     * @param clock  decides which UTC day is today
     */
    public UsageViewModel(ChatClient client, UiExecutor ui, Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        this.ui = Objects.requireNonNull(ui, "ui");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Reads the last {@value #DAYS} days again. While it runs {@link #loadingProperty()} holds and the figures shown
     * stay; a load started later wins over one still running.
     */
    public void load() {
        long load = ++loads;
        LocalDate to = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        LocalDate from = to.minusDays(DAYS - 1);
        loading.set(true);
        error.set("");
        ui.run(() -> {
            UsageReport report = client.usage(from, to);
            Optional<Account> account = client.account();
            return new Loaded(report.source(), account.map(Account::email).orElse(null),
                    UsageSummary.of(report.days(), from, to));
        }, loaded -> {
            if (load == loads) {
                show(loaded);
            }
        }, e -> {
            if (load == loads) {
                fail(e);
            }
        });
    }

    private void show(Loaded loaded) {
        days.setAll(loaded.summary().days());
        models.setAll(loaded.summary().models());
        totals.set(loaded.summary().totals());
        source.set(loaded.source());
        sourceText.set(sourceLine(loaded.source(), loaded.email()));
        empty.set(loaded.summary().empty());
        loading.set(false);
    }

    private void fail(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        LOG.warn("Usage could not be loaded", cause);
        days.clear();
        models.clear();
        totals.set(UsageTotals.NONE);
        source.set(null);
        sourceText.set("");
        empty.set(false);
        error.set(cause instanceof ClientException && cause.getMessage() != null && !cause.getMessage().isBlank()
                ? "Usage could not be loaded: " + cause.getMessage()
                : "Usage could not be loaded. Try again in a moment.");
        loading.set(false);
    }

    static String sourceLine(UsageReport.Source source, String email) {
        if (source == UsageReport.Source.SERVER) {
            return "Exact: every message counted once — the server's own figures for "
                    + (email == null ? "your account" : email);
        }
        return email == null ? SIGNED_OUT : UNREACHABLE;
    }

    /** A date as the chart labels it: {@code 3 Nov}. Unique within the {@value #DAYS} days of the panel. */
    public static String label(LocalDate date) {
        return SHORT_DATE.format(date);
    }

    /**
     * One entry per day of the window, oldest first, zeros where nothing happened; empty before the first load and
     * after a failed one.
     */
    public ObservableList<UsageDay> days() {
        return daysView;
    }

    /** Messages by model over the window, most first; see {@link UsageModelShare}. */
    public ObservableList<UsageModelShare> models() {
        return modelsView;
    }

    /** The sums over the window; {@link UsageTotals#NONE} before the first load and after a failed one. */
    public ReadOnlyObjectProperty<UsageTotals> totalsProperty() {
        return totals.getReadOnlyProperty();
    }

    /** Where the figures shown come from; {@code null} before the first load and after a failed one. */
    public ReadOnlyObjectProperty<UsageReport.Source> sourceProperty() {
        return source.getReadOnlyProperty();
    }

    /** The source in words, for the line under the figures; empty when none is shown. */
    public ReadOnlyStringProperty sourceTextProperty() {
        return sourceText.getReadOnlyProperty();
    }

    /** Whether a load is running. */
    public ReadOnlyBooleanProperty loadingProperty() {
        return loading.getReadOnlyProperty();
    }

    /** Whether the figures are loaded and no message counted in the window: show {@link #EMPTY_TEXT}. */
    public ReadOnlyBooleanProperty emptyProperty() {
        return empty.getReadOnlyProperty();
    }

    /** Why the last load failed, in plain words; empty when it did not. */
    public ReadOnlyStringProperty errorProperty() {
        return error.getReadOnlyProperty();
    }

    private record Loaded(UsageReport.Source source, String email, UsageSummary summary) {
    }
}
