package dev.parley.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.client.internal.ServerApi;
import dev.parley.client.internal.TokenStore;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Credentials;
import dev.parley.protocol.Json;
import dev.parley.protocol.PushRequest;
import dev.parley.protocol.PushResponse;
import dev.parley.protocol.RowResult;
import dev.parley.protocol.UsageResponse;
import dev.parley.server.ModelProvider;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import dev.parley.server.internal.http.Api;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * A real {@link ParleyServer} on a loopback port over the benchmark's database, with the local model and no
 * latency (or the model a scenario gives), and an API client for setting up accounts and history. Rate limits on
 * sign-up are lifted, as every run signs up fresh accounts. The caller closes it.
 */
final class BenchServer implements AutoCloseable {
    static final String PASSWORD = "bench-password-1";

    final ParleyServer server;
    final String databaseUrl;
    final ObjectMapper json = Json.newMapper();
    private final ServerApi api;
    private final OkHttpClient http = new OkHttpClient.Builder().callTimeout(Duration.ofMinutes(2)).build();

    private BenchServer(ParleyServer server, String databaseUrl, Path scratch) {
        this.server = server;
        this.databaseUrl = databaseUrl;
        this.api = new ServerApi(server.url(), json, new TokenStore(scratch, json), Duration.ofMinutes(2));
    }

    static BenchServer start(BenchOptions options, String name) {
        return open(options, options.databaseUrl(name), null);
    }

    /** As {@link #start(BenchOptions, String)}, answering with {@code model} instead of the instant local model. */
    static BenchServer start(BenchOptions options, String name, ModelProvider model) {
        return open(options, options.databaseUrl(name), model);
    }

    /** As {@link #start(BenchOptions, String)}, with {@code customize} applied to the server's settings last. */
    static BenchServer start(BenchOptions options, String name, UnaryOperator<ServerConfig.Builder> customize) {
        return open(options, options.databaseUrl(name), null, customize);
    }

    /**
     * A second server process over this one's database, answering with {@code model}: what SPEC §5.3 calls another
     * process sharing the database. It runs in this JVM, but shares nothing with the first but the database (its
     * own pool, change signals, generations and HTTP port). The caller closes it.
     */
    BenchServer another(BenchOptions options, ModelProvider model) {
        return open(options, databaseUrl, model);
    }

    private static BenchServer open(BenchOptions options, String url, ModelProvider model) {
        return open(options, url, model, config -> config);
    }

    private static BenchServer open(BenchOptions options, String url, ModelProvider model,
                                    UnaryOperator<ServerConfig.Builder> customize) {
        ServerConfig.Builder config = ServerConfig.builder()
                .port(0)
                .databaseUrl(url)
                .signInAttemptsPerMinute(1_000_000)
                .anonymousChatsPerMinute(1_000_000);
        if (options.poolSize != null) {
            config.poolSize(options.poolSize);
        }
        if (model != null) {
            config.modelProvider(model);
        }
        ParleyServer server = ParleyServer.start(customize.apply(config).build());
        return new BenchServer(server, url, options.workDir());
    }

    String url() {
        return server.url();
    }

    /** Rows of every kind and result the server's direct-write endpoint has received so far. */
    long pushRowsReceived() {
        return (long) server.meters().find(Api.PUSH_ROWS).counters().stream().mapToDouble(Counter::count).sum();
    }

    /** Signs up a new account with a unique address, so that runs against a shared database never collide. */
    AuthResponse newAccount(String label) {
        String email = label + "-" + UUID.randomUUID().toString().substring(0, 8) + "@bench.example.com";
        try {
            return api.signUp(new Credentials(email, PASSWORD));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("sign-up of a bench account failed", e);
        } catch (dev.parley.client.internal.ServerError e) {
            throw new IllegalStateException("sign-up of a bench account was refused: " + e.getMessage(), e);
        }
    }

    /** Pushes rows of {@code account} through {@code POST /api/chat/messages}; fails on any rejected row. */
    PushResponse push(PushRequest request, AuthResponse account) {
        PushResponse response;
        try {
            response = api.push(request, account);
        } catch (IOException e) {
            throw new IllegalStateException("push failed", e);
        } catch (dev.parley.client.internal.ServerError e) {
            throw new IllegalStateException("push refused: " + e.getMessage(), e);
        }
        for (RowResult r : response.sessions()) {
            requireAccepted(r);
        }
        for (RowResult r : response.messages()) {
            requireAccepted(r);
        }
        return response;
    }

    /** The account's usage rows over the last year (bench history lies within it) (SPEC §5 {@code GET /api/usage/daily}). */
    UsageResponse usage(AuthResponse account) {
        java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
        Request request = new Request.Builder()
                .url(url() + "/api/usage/daily?from=" + today.minusDays(365) + "&to=" + today)
                .header("Authorization", "Bearer " + account.accessToken()).get().build();
        try (Response response = http.newCall(request).execute()) {
            if (!response.isSuccessful()) {
                throw new IllegalStateException("usage answered HTTP " + response.code());
            }
            return json.readValue(response.body().bytes(), UsageResponse.class);
        } catch (IOException e) {
            throw new IllegalStateException("usage failed", e);
        }
    }

    /** Messages sent plus received by the account, as the server's analytics count them. */
    long countedMessages(AuthResponse account) {
        return usage(account).days().stream().mapToLong(d -> d.messagesSent() + d.messagesReceived()).sum();
    }

    private static void requireAccepted(RowResult r) {
        if (!r.accepted()) {
            throw new IllegalStateException("row " + r.id() + " rejected: " + r.code() + " " + r.reason());
        }
    }

    @Override
    public void close() {
        api.close();
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
        server.close();
    }
}
