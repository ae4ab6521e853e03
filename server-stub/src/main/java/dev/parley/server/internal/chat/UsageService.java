package dev.parley.server.internal.chat;

import dev.parley.protocol.UsageResponse;
import dev.parley.server.internal.ApiException;
import dev.parley.server.internal.store.Database;
import dev.parley.server.internal.store.UsageRepository;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/** {@code GET /api/usage/daily}: the user's daily figures; dates are UTC and inclusive. Thread-safe. */
public final class UsageService {
    private static final int DEFAULT_DAYS = 30;
    private static final int MAX_DAYS = 366;

    private final Database db;
    private final Clock clock;
    private final UsageRepository usage;

    public UsageService(Database db, Clock clock, UsageRepository usage) {
        this.db = db;
        this.clock = clock;
        this.usage = usage;
    }

    public UsageResponse daily(String userId, String fromText, String toText) {
        LocalDate to = toText == null || toText.isEmpty() ? LocalDate.now(clock.withZone(ZoneOffset.UTC)) : date(toText, "to");
        LocalDate from = fromText == null || fromText.isEmpty() ? to.minusDays(DEFAULT_DAYS - 1) : date(fromText, "from");
        if (from.isAfter(to)) {
            throw ApiException.badRequest("from must not be after to");
        }
        if (ChronoUnit.DAYS.between(from, to) >= MAX_DAYS) {
            throw ApiException.badRequest("a usage query spans at most " + MAX_DAYS + " days");
        }
        return new UsageResponse(db.read(c -> usage.days(c, userId, from, to)));
    }

    private static LocalDate date(String text, String field) {
        try {
            LocalDate date = LocalDate.parse(text);
            if (date.getYear() >= 1970 && date.getYear() <= 9999) {
                return date;
            }
        } catch (DateTimeParseException e) {
            // answered below
        }
        throw ApiException.badRequest(field + " must be a date from 1970 to 9999, such as 2026-11-26");
    }
}
