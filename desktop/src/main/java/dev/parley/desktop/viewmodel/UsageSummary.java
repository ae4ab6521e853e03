package dev.parley.desktop.viewmodel;

import dev.parley.protocol.UsageResponse.UsageDay;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the usage panel shows, worked out from the daily rows of a report: one day per date of the window (zeros
 * where there is no row, so a chart has no gaps), their totals, and the messages by model. Pure; any thread.
 *
 * <p>The rows are taken as they come but not trusted blindly: a row without a date or outside the window is left
 * out, two rows of one date are added up, a negative figure counts as zero, and a model without a name is shown as
 * {@link #UNNAMED_MODEL}.
 *
 * @param days   every date of the window, oldest first
 * @param totals the sums over {@code days}
 * @param models the models used, most messages first (then by name)
 */
record UsageSummary(List<UsageDay> days, UsageTotals totals, List<UsageModelShare> models) {
    static final String UNNAMED_MODEL = "(no model named)";

    UsageSummary {
        days = List.copyOf(days);
        models = List.copyOf(models);
    }

    /** Whether no message counted on any day (conversations started without a message do not count). */
    boolean empty() {
        return totals.messages() == 0;
    }

    /**
     * @param rows  the report's rows, in any order; {@code null} for none
     * @param first the first date of the window
     * @param to    the last date of the window, inclusive
     */
    static UsageSummary of(List<UsageDay> rows, LocalDate first, LocalDate to) {
        Map<LocalDate, UsageDay> byDate = new HashMap<>();
        if (rows != null) {
            for (UsageDay row : rows) {
                if (row == null || row.date() == null || row.date().isBefore(first) || row.date().isAfter(to)) {
                    continue;
                }
                byDate.merge(row.date(), clean(row), UsageSummary::add);
            }
        }
        List<UsageDay> days = new ArrayList<>();
        Map<String, Long> uses = new LinkedHashMap<>();
        long sent = 0;
        long received = 0;
        long input = 0;
        long output = 0;
        long total = 0;
        long generation = 0;
        long sessions = 0;
        for (LocalDate date = first; !date.isAfter(to); date = date.plusDays(1)) {
            UsageDay day = byDate.getOrDefault(date, zero(date));
            days.add(day);
            sent += day.messagesSent();
            received += day.messagesReceived();
            input += day.inputTokens();
            output += day.outputTokens();
            total += day.totalTokens();
            generation += day.generationMs();
            sessions += day.sessionsCreated();
            day.modelsUsed().forEach((model, count) -> uses.merge(model, count, Long::sum));
        }
        long withModel = uses.values().stream().mapToLong(Long::longValue).sum();
        List<UsageModelShare> models = uses.entrySet().stream()
                .filter(e -> e.getValue() > 0)
                .map(e -> new UsageModelShare(e.getKey(), e.getValue(), (double) e.getValue() / withModel))
                .sorted(Comparator.comparingLong(UsageModelShare::messages).reversed()
                        .thenComparing(UsageModelShare::model))
                .toList();
        return new UsageSummary(days,
                new UsageTotals(sent, received, input, output, total, generation, sessions), models);
    }

    static UsageDay zero(LocalDate date) {
        return new UsageDay(date, 0, 0, 0, 0, 0, Map.of(), 0, 0);
    }

    private static UsageDay clean(UsageDay row) {
        Map<String, Long> models = new HashMap<>();
        if (row.modelsUsed() != null) {
            row.modelsUsed().forEach((model, count) -> {
                if (count != null && count > 0) {
                    models.merge(model == null || model.isBlank() ? UNNAMED_MODEL : model, count, Long::sum);
                }
            });
        }
        return new UsageDay(row.date(), atLeastZero(row.messagesSent()), atLeastZero(row.messagesReceived()),
                atLeastZero(row.inputTokens()), atLeastZero(row.outputTokens()), atLeastZero(row.totalTokens()),
                Map.copyOf(models), atLeastZero(row.sessionsCreated()), atLeastZero(row.generationMs()));
    }

    private static UsageDay add(UsageDay a, UsageDay b) {
        Map<String, Long> models = new HashMap<>(a.modelsUsed());
        b.modelsUsed().forEach((model, count) -> models.merge(model, count, Long::sum));
        return new UsageDay(a.date(), a.messagesSent() + b.messagesSent(),
                a.messagesReceived() + b.messagesReceived(), a.inputTokens() + b.inputTokens(),
                a.outputTokens() + b.outputTokens(), a.totalTokens() + b.totalTokens(), Map.copyOf(models),
                a.sessionsCreated() + b.sessionsCreated(), a.generationMs() + b.generationMs());
    }

    private static long atLeastZero(long n) {
        return Math.max(0, n);
    }
}
