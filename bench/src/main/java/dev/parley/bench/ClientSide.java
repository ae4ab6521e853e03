package dev.parley.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.internal.LocalDatabase;
import dev.parley.client.internal.ServerApi;
import dev.parley.client.internal.SyncEngine;
import dev.parley.client.internal.TokenStore;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Json;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * One signed-in client's store and sync engine, wired as {@code ChatClient} wires them, for scenarios that time the
 * push or the pull alone. The caller closes it.
 */
final class ClientSide implements AutoCloseable {
    final LocalDatabase db;
    final TokenStore tokens;
    final ServerApi api;
    final SyncEngine engine;
    final ClientStore store;

    ClientSide(Path dataDir, String serverUrl, AuthResponse account) {
        ObjectMapper json = Json.newMapper();
        this.db = LocalDatabase.open(ClientStore.file(dataDir));
        this.tokens = new TokenStore(dataDir, json);
        tokens.save(account);
        this.api = new ServerApi(serverUrl, json, tokens, Duration.ofMinutes(2));
        this.engine = new SyncEngine(db, api, tokens, json, Clock.systemUTC(), Duration.ofSeconds(1),
                Duration.ofMinutes(5), (done, total) -> { }, () -> {
                    throw new IllegalStateException("the bench account's sign-in expired");
                });
        this.store = new ClientStore(db);
    }

    /** Pushes everything pending, untimed; fails unless the outbox drained with no row refused. */
    void deliverAll() throws Exception {
        SyncEngine.PushReport report = engine.pushNow().get();
        if (!report.completed() || report.rejected() > 0) {
            throw new IllegalStateException("setup push did not complete: " + report);
        }
    }

    @Override
    public void close() {
        engine.close();
        api.close();
        db.close();
    }
}
