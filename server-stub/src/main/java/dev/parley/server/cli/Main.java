package dev.parley.server.cli;

import dev.parley.server.AnalyticsVerifier;
import dev.parley.server.AnalyticsVerifier.Mismatch;
import dev.parley.server.ModelException;
import dev.parley.server.ModelProvider;
import dev.parley.server.ParleyServer;
import dev.parley.server.ServerConfig;
import dev.parley.server.internal.model.CombinedModelProvider;
import dev.parley.server.internal.model.LocalModelProvider;
import dev.parley.server.internal.model.OpenAiCompatibleProvider;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.UnaryOperator;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code parley server …} and {@code parley verify-analytics …}: the server's command line (SPEC §7). */
@Command(name = "parley", mixinStandardHelpOptions = true, version = "parley 0.1.0",
        description = "Parley chat server tools.",
        subcommands = {Main.Serve.class, Main.VerifyAnalytics.class})
public final class Main {
    /** Environment variable with the database password: kept off the command line, which other users can see. */
    static final String DB_PASSWORD_ENV = "PARLEY_DB_PASSWORD";

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code. */
    public static int run(String... args) {
        return new CommandLine(new Main()).execute(args);
    }

    @Command(name = "server", mixinStandardHelpOptions = true, description = "Runs the chat server.")
    static final class Serve implements Callable<Integer> {
        @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}).")
        String host;

        @Option(names = "--port", defaultValue = "8080", description = "Port to bind; 0 picks a free one (default ${DEFAULT-VALUE}).")
        int port;

        @Option(names = "--db", defaultValue = "jdbc:sqlite:parley.db",
                description = "JDBC URL: jdbc:sqlite:FILE or jdbc:postgresql://HOST/DB (default ${DEFAULT-VALUE}).")
        String db;

        @Option(names = "--db-user", description = "Database account (PostgreSQL); its password comes from the"
                + " environment variable " + DB_PASSWORD_ENV + ". Default: the URL's user= parameter.")
        String dbUser;

        @Option(names = "--pool-size", defaultValue = "8",
                description = "Database connections of this process (default ${DEFAULT-VALUE}).")
        int poolSize;

        @Option(names = "--no-signup", description = "Refuse new accounts (sign-up answers 403).")
        boolean noSignUp;

        @Option(names = "--model-provider",
                description = "local (offline, built in) or openai (any OpenAI-compatible server); default local.")
        String provider;

        @Option(names = "--model-base-url", description = "Base URL of the OpenAI-compatible API, e.g. https://openrouter.ai/api/v1.")
        String modelBaseUrl;

        @Option(names = "--models", split = ",", description = "Model ids the openai provider offers; the first is the"
                + " default. Default: the models the server lists at GET {base URL}/models, read at start.")
        List<String> models;

        @Option(names = "--model-timeout-seconds", defaultValue = "60", description = "Timeout of one model call (default ${DEFAULT-VALUE}).")
        int modelTimeoutSeconds;

        @Option(names = "--provider", paramLabel = "NAME=BASE_URL|local", description = "Offers the models of one"
                + " more OpenAI-compatible server, listed as NAME/MODEL (e.g. ollama/llama3.1:8b) from GET"
                + " {BASE_URL}/models, read at start; its API key comes from the environment variable"
                + " PARLEY_<NAME>_API_KEY (upper case, other characters than letters and digits as _). 'local' adds the"
                + " built-in offline model as local/parley-local. Repeatable; the first provider's default model is the"
                + " default. Replaces --model-provider, --model-base-url and --models.")
        List<String> providers;

        @Option(names = "--local-model-latency-ms", defaultValue = "0", description = "Delay of each local reply (default ${DEFAULT-VALUE}).")
        long localLatencyMs;

        @Option(names = "--local-model-token-ms", defaultValue = "0", description = "Delay between two words of a"
                + " streamed local reply; 0 sends them all at once (default ${DEFAULT-VALUE}).")
        long localTokenMs;

        @Option(names = "--local-model-fail-rate", defaultValue = "0.0", description = "Share of local replies that fail, 0.0 to 1.0 (default ${DEFAULT-VALUE}).")
        double localFailRate;

        @Option(names = "--local-model-seed", description = "Seed of the local model's simulated failures, for reproducible runs.")
        Long localSeed;

        @Option(names = "--trusted-proxy", paramLabel = "CIDR", description = "A reverse proxy (e.g. 10.0.0.0/8) whose"
                + " X-Forwarded-For names the client; repeatable. Without it the socket's address is the client's.")
        List<String> trustedProxies;

        @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain: serve HTTPS"
                + " (with --tls-key).")
        java.nio.file.Path tlsCert;

        @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key (PKCS#8) of --tls-cert.")
        java.nio.file.Path tlsKey;

        @Option(names = "--daily-token-budget", defaultValue = "0", paramLabel = "N", description = "The most tokens"
                + " (input + output) one user may use per UTC day; a chat past it answers 429 quota_exceeded."
                + " 0: no cap (default).")
        long dailyTokenBudget;

        /** Reads an environment variable (the API keys); a test puts its own in. */
        UnaryOperator<String> environment = System::getenv;

        @Override
        public Integer call() throws InterruptedException {
            ServerConfig config;
            try {
                config = ServerConfig.builder().host(host).port(port).databaseUrl(db).databaseUser(dbUser)
                        .databasePassword(System.getenv(DB_PASSWORD_ENV)).poolSize(poolSize)
                        .signUpAllowed(!noSignUp).trustedProxies(trustedProxies).tls(tlsCert, tlsKey)
                        .dailyTokenBudget(dailyTokenBudget).modelProvider(provider()).build();
            } catch (IllegalArgumentException e) {
                System.err.println("parley server: " + e.getMessage());
                return 2;
            } catch (ModelException e) {
                // The upstream's model list could not be read: the options may be fine, the upstream is not.
                System.err.println("parley server: could not start: " + e.getMessage());
                return 1;
            }
            ParleyServer server;
            try {
                server = ParleyServer.start(config);
            } catch (RuntimeException e) {
                System.err.println("parley server: could not start: "
                        + withoutPassword(String.valueOf(e.getMessage())));
                return 1;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                stopped.countDown();
            }, "parley-shutdown"));
            if (!config.security().tlsEnabled() && !isLoopback(host)) {
                System.err.println("parley server: warning: serving plain HTTP on " + host + ": passwords and tokens"
                        + " cross the network unencrypted; use --tls-cert and --tls-key, or a TLS proxy in front");
            }
            System.out.println("Parley server listening on " + server.url());
            System.out.flush();
            stopped.await();
            return 0;
        }

        private static boolean isLoopback(String host) {
            return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
        }

        /**
         * The configured model provider. Without {@code --models}, the openai provider offers what the upstream
         * lists at {@code GET /models}, read now, so a dead upstream or a refused key stops the start here.
         */
        ModelProvider provider() throws ModelException {
            if (providers != null && !providers.isEmpty()) {
                return combinedProvider();
            }
            switch (provider == null ? "local" : provider) {
                case "local":
                    return localProvider();
                case "openai":
                    if (modelBaseUrl == null) {
                        throw new IllegalArgumentException("--model-provider openai needs --model-base-url");
                    }
                    String apiKey = environment.apply("PARLEY_MODEL_API_KEY");
                    Duration timeout = Duration.ofSeconds(modelTimeoutSeconds);
                    return models == null
                            ? OpenAiCompatibleProvider.withUpstreamModels(modelBaseUrl, apiKey, timeout)
                            : new OpenAiCompatibleProvider(modelBaseUrl, models, apiKey, timeout);
                default:
                    throw new IllegalArgumentException("--model-provider must be local or openai, not '" + provider + "'");
            }
        }

        private LocalModelProvider localProvider() {
            return new LocalModelProvider(Duration.ofMillis(localLatencyMs), Duration.ofMillis(localTokenMs),
                    localFailRate, localSeed == null ? new Random() : new Random(localSeed));
        }

        /**
         * The providers of {@code --provider}, each value checked before any upstream is asked for its models, so a
         * typo in the last one does not wait for the first one's network.
         */
        private ModelProvider combinedProvider() throws ModelException {
            if (provider != null || modelBaseUrl != null || models != null) {
                throw new IllegalArgumentException("--provider cannot be combined with --model-provider,"
                        + " --model-base-url or --models: give every provider with --provider NAME=BASE_URL, and the"
                        + " built-in model with --provider local");
            }
            List<NamedProvider> named = new ArrayList<>();
            Map<String, String> nameOfVariable = new HashMap<>();
            for (String value : providers) {
                NamedProvider part = NamedProvider.parse(value.strip());
                String variable = OpenAiCompatibleProvider.keyVariable(part.name());
                String before = nameOfVariable.putIfAbsent(variable, part.name());
                if (before != null) {
                    throw new IllegalArgumentException(before.equals(part.name())
                            ? "--provider names '" + before + "' twice; each provider needs a name of its own"
                            : "--provider names '" + before + "' and '" + part.name() + "', which would share the"
                                    + " API key variable " + variable + "; rename one");
                }
                named.add(part);
            }
            Duration timeout = Duration.ofSeconds(modelTimeoutSeconds);
            CombinedModelProvider.Builder combined = CombinedModelProvider.builder();
            List<OpenAiCompatibleProvider> made = new ArrayList<>();
            try {
                for (NamedProvider part : named) {
                    if (part.baseUrl() == null) {
                        combined.add(part.name(), localProvider());
                        continue;
                    }
                    OpenAiCompatibleProvider upstream;
                    try {
                        upstream = OpenAiCompatibleProvider.withUpstreamModels(part.name(), part.baseUrl(),
                                environment.apply(OpenAiCompatibleProvider.keyVariable(part.name())), timeout);
                    } catch (ModelException e) {
                        throw new ModelException(e.code(), "--provider " + part.name() + ": " + e.getMessage(),
                                e.retryable(), e.retryAfterSeconds(), e);
                    }
                    made.add(upstream);
                    combined.add(part.name(), upstream);
                }
                return combined.build();
            } catch (ModelException | RuntimeException e) {
                made.forEach(OpenAiCompatibleProvider::close);
                throw e;
            }
        }
    }

    /**
     * One {@code --provider} value: {@code NAME=BASE_URL}, or {@code local} for the built-in model.
     *
     * @param baseUrl {@code null} for the built-in model
     */
    record NamedProvider(String name, String baseUrl) {
        /** @throws IllegalArgumentException naming {@code --provider} when {@code value} is neither form */
        static NamedProvider parse(String value) {
            if (value.equals("local")) {
                return new NamedProvider("local", null);
            }
            int equals = value.indexOf('=');
            if (equals < 0) {
                throw new IllegalArgumentException("--provider '" + value + "' must be NAME=BASE_URL, as in"
                        + " ollama=http://127.0.0.1:11434/v1, or local");
            }
            String name = value.substring(0, equals).strip();
            String baseUrl = value.substring(equals + 1).strip();
            OpenAiCompatibleProvider.checkProviderName(name);
            if (name.equalsIgnoreCase("local")) {
                throw new IllegalArgumentException("--provider " + value + ": the name local is the built-in offline"
                        + " model (--provider local); give this server another name");
            }
            if (baseUrl.isEmpty()) {
                throw new IllegalArgumentException("--provider " + name + "= needs the server's base URL after the =,"
                        + " as in " + name + "=http://127.0.0.1:11434/v1");
            }
            return new NamedProvider(name, baseUrl);
        }
    }

    /** A JDBC URL fit to print: the value of a {@code password=} parameter is masked. */
    static String withoutPassword(String jdbcUrl) {
        return jdbcUrl.replaceAll("(?i)([?&;]password=)[^&;]*", "$1***");
    }

    @Command(name = "verify-analytics", mixinStandardHelpOptions = true,
            description = "Recomputes usage and session statistics from the messages; exits 1 on any mismatch.")
    static final class VerifyAnalytics implements Callable<Integer> {
        @Option(names = "--db", required = true, description = "JDBC URL of the server database.")
        String db;

        @Option(names = "--db-user", description = "Database account (PostgreSQL); its password comes from the"
                + " environment variable " + DB_PASSWORD_ENV + ".")
        String dbUser;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            List<Mismatch> mismatches;
            try {
                mismatches = AnalyticsVerifier.verify(db, dbUser, System.getenv(DB_PASSWORD_ENV));
            } catch (SQLException e) {
                err.println("verify-analytics: cannot read " + withoutPassword(db) + ": " + e.getMessage());
                err.flush();
                return 2;
            }
            for (Mismatch mismatch : mismatches) {
                out.println("MISMATCH " + mismatch);
            }
            out.println(mismatches.isEmpty()
                    ? "analytics exact: no mismatches"
                    : mismatches.size() + " mismatch" + (mismatches.size() == 1 ? "" : "es") + " found");
            out.flush();
            return mismatches.isEmpty() ? 0 : 1;
        }
    }
}
