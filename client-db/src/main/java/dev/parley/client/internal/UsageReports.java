package dev.parley.client.internal;

import dev.parley.client.ClientException;
import dev.parley.client.UsageReport;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.UsageResponse.UsageDay;
import java.io.IOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Daily usage for the usage view: the server's figures when signed in and the server answers, else the same
 * figures counted from this device's store ({@link LocalUsage}). Blocking; thread-safe.
 */
public final class UsageReports {
    private static final Logger LOG = LoggerFactory.getLogger(UsageReports.class);

    private final ServerApi api;
    private final TokenStore tokens;
    private final LocalDatabase db;
    private final LocalUsage local = new LocalUsage();

    public UsageReports(ServerApi api, TokenStore tokens, LocalDatabase db) {
        this.api = api;
        this.tokens = tokens;
        this.db = db;
    }

    /**
     * The days from {@code from} to {@code to} (inclusive, UTC) with activity.
     *
     * @throws ClientException {@code bad_request} when {@code from} is after {@code to}
     */
    public UsageReport usage(LocalDate from, LocalDate to) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (from.isAfter(to)) {
            throw new ClientException("bad_request", "The first day of the period must not be after its last.", false,
                    null);
        }
        Optional<AuthResponse> account = tokens.load();
        if (account.isPresent()) {
            try {
                return new UsageReport(UsageReport.Source.SERVER, fromServer(from, to, account.get()));
            } catch (IOException | ServerError e) {
                LOG.info("usage not had from the server ({}); counted from this device's store", e.getMessage());
            }
        }
        String owner = account.map(a -> a.user().id()).orElse(null);
        return new UsageReport(UsageReport.Source.THIS_DEVICE, db.inTransaction(c -> local.days(c, owner, from, to)));
    }

    /** The server's figures, asked for in periods it accepts. */
    private List<UsageDay> fromServer(LocalDate from, LocalDate to, AuthResponse account)
            throws IOException, ServerError {
        List<UsageDay> days = new ArrayList<>();
        for (LocalDate start = from; !start.isAfter(to); start = start.plusDays(ServerApi.MAX_USAGE_DAYS)) {
            LocalDate last = start.plusDays(ServerApi.MAX_USAGE_DAYS - 1);
            days.addAll(api.usage(start, last.isAfter(to) ? to : last, account).days());
        }
        return days;
    }
}
