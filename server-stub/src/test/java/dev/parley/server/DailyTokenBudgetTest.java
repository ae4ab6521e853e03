package dev.parley.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.protocol.ChatResponse;
import dev.parley.server.internal.chat.ChatService;
import dev.parley.server.testing.HttpApi.Response;
import dev.parley.server.testing.TestIds;
import dev.parley.server.testing.TestServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --daily-token-budget} (SPEC §8): a chat that would start once the user's {@code total_tokens} for today
 * (UTC) has reached the budget is refused with 429 {@code quota_exceeded}; replays still answer.
 *
 * <p>The overshoot bound: the budget is read from {@code user_usage_daily}, which holds stored exchanges only, so the
 * day's total can pass the budget by what the exchanges admitted before it was reached spend. At most
 * {@link ChatService#MAX_LIVE_PER_USER} of a user's exchanges are in flight at once, so the total stays below
 * {@code budget + MAX_LIVE_PER_USER × (tokens of one exchange)}.
 */
class DailyTokenBudgetTest {
    private static final String CONTENT = "How many tokens does this exchange cost?";

    @TempDir
    Path dir;

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void eightConcurrentChatsPassTheBudgetByAtMostTheExchangesInFlightAndLaterOnesAreRefused() throws Exception {
        long perExchange = tokensOfOneExchange();
        long budget = perExchange + 1; // a second stored exchange reaches it
        server = TestServer.start(java.nio.file.Files.createDirectories(dir.resolve("budget")), b -> b.dailyTokenBudget(budget)
                .accessTokenTtl(Duration.ofDays(2))); // still signed in on the next day
        String token = server.signUp("ada@example.com").accessToken();
        String sessionId = TestIds.next();
        List<String> messageIds = new ArrayList<>();
        server.model.closeGate(); // every admitted exchange waits in the model, so all eight are in flight together
        ExecutorService senders = Executors.newFixedThreadPool(8);
        List<CompletableFuture<Response>> answers = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                String messageId = TestIds.next();
                messageIds.add(messageId);
                answers.add(CompletableFuture.supplyAsync(() -> server.chat(token, sessionId, messageId, CONTENT),
                        senders));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (server.model.calls() + answers.stream().filter(CompletableFuture::isDone).count() < 8) {
                assertThat(System.nanoTime()).as("every chat admitted or refused").isLessThan(deadline);
                Thread.onSpinWait();
            }
            server.model.openGate();
            Map<String, Integer> byOutcome = new TreeMap<>();
            List<String> answered = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Response r = answers.get(i).get(30, TimeUnit.SECONDS);
                String outcome = r.status() == 200 ? "200" : r.status() + " " + r.errorCode();
                byOutcome.merge(outcome, 1, Integer::sum);
                assertThat(outcome).isIn("200", "429 rate_limited", "429 quota_exceeded");
                if (r.status() == 200) {
                    answered.add(messageIds.get(i));
                }
            }
            long total = server.queryLong("SELECT total_tokens FROM user_usage_daily");
            System.out.printf("budget %d, %d tokens an exchange, outcomes %s, day's total %d (overshoot %d)%n",
                    budget, perExchange, byOutcome, total, total - budget);

            assertThat(answered).isNotEmpty().hasSizeLessThanOrEqualTo(ChatService.MAX_LIVE_PER_USER);
            assertThat(total).isEqualTo(answered.size() * perExchange)
                    .isLessThan(budget + ChatService.MAX_LIVE_PER_USER * perExchange);
            assertThat(server.mismatches()).isEmpty();

            Response refused = server.chat(token, sessionId, TestIds.next(), CONTENT);
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.errorCode()).isEqualTo("quota_exceeded");
            assertThat(refused.json().path("error").path("retryable").asBoolean()).isFalse();
            assertThat(refused.json().path("error").path("message").asText()).contains("today", "midnight UTC");
            int calls = server.model.calls();
            Response replay = server.chat(token, sessionId, answered.get(0), CONTENT);
            assertThat(replay.status()).isEqualTo(200);
            assertThat(replay.as(ChatResponse.class).replayed()).isTrue();
            assertThat(server.model.calls()).isEqualTo(calls);
            assertThat(server.queryLong("SELECT total_tokens FROM user_usage_daily")).isEqualTo(total);

            server.clock.advance(Duration.ofDays(1)); // a new UTC day, a new budget
            assertThat(server.chat(token, sessionId, TestIds.next(), CONTENT).status()).isEqualTo(200);
        } finally {
            server.model.openGate();
            senders.shutdownNow();
        }
    }

    @Test
    void aUserUnderTheBudgetIsNotAffectedByAnotherWhoReachedIt() throws Exception {
        long perExchange = tokensOfOneExchange();
        server = TestServer.start(java.nio.file.Files.createDirectories(dir.resolve("budget")), b -> b.dailyTokenBudget(perExchange));
        String ada = server.signUp("ada@example.com").accessToken();
        String bob = server.signUp("bob@example.com").accessToken();
        assertThat(server.chat(ada, TestIds.next(), TestIds.next(), CONTENT).status()).isEqualTo(200);

        assertThat(server.chat(ada, TestIds.next(), TestIds.next(), CONTENT).errorCode()).isEqualTo("quota_exceeded");
        assertThat(server.chat(bob, TestIds.next(), TestIds.next(), CONTENT).status()).isEqualTo(200);
    }

    /** The tokens one exchange of {@link #CONTENT} costs, measured on a server without a budget. */
    private long tokensOfOneExchange() throws Exception {
        try (TestServer unlimited = TestServer.start(java.nio.file.Files.createDirectories(dir.resolve("measure")))) {
            String token = unlimited.signUp("measure@example.com").accessToken();
            assertThat(unlimited.chat(token, TestIds.next(), TestIds.next(), CONTENT).status()).isEqualTo(200);
            long tokens = unlimited.queryLong("SELECT total_tokens FROM user_usage_daily");
            assertThat(tokens).isPositive();
            return tokens;
        }
    }
}
