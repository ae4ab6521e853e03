package dev.parley.chaos;

import dev.parley.client.Account;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.protocol.Role;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * What a simulated user does on one device, one action at a time, through the real {@link ChatClient}: send, try
 * again, rename, delete, push and pull by hand, sign out, sign in, switch accounts. A {@link ClientException} is
 * an answer the user would see and is expected; any other exception is reported as unexpected. Not thread-safe:
 * one thread runs a device's actions, as one person uses one device.
 */
final class DeviceActions {

    /** The things a user can do. */
    enum Action { SEND, RETRY, RENAME, NEW_SESSION, DELETE, PUSH, PULL, SIGN_OUT, SIGN_IN, SWITCH_ACCOUNT }

    /** An account of the run. */
    record User(String email, String password) {
    }

    /** Where a device reports what it did. */
    interface Reporter {
        /** A user message was written locally (its transaction committed). */
        void created(String messageId);

        /** An exchange is under way; it completes when the server answered or did not. */
        void exchange(CompletableFuture<Exchange.Outcome> outcome);

        /** The client threw something other than {@link ClientException}. */
        void unexpected(Throwable e);
    }

    private final String device;
    private final ChatClient client;
    private final SplittableRandom random;
    private final List<User> users;
    private final User home;
    private final Reporter reporter;
    private int counter;

    DeviceActions(String device, ChatClient client, SplittableRandom random, List<User> users, User home,
                  Reporter reporter) {
        this.device = device;
        this.client = client;
        this.random = random;
        this.users = users;
        this.home = home;
        this.reporter = reporter;
    }

    void run(Action action) {
        try {
            switch (action) {
                case SEND -> send();
                case RETRY -> retry();
                case RENAME -> someSession().ifPresent(s -> client.rename(s.id(), Texts.title(random, device, ++counter)));
                case NEW_SESSION -> client.newSession(random.nextBoolean() ? null : Texts.title(random, device, ++counter));
                case DELETE -> someSession().ifPresent(s -> client.delete(s.id()));
                case PUSH -> waitFor(client.pushNow());
                case PULL -> waitFor(client.pullNow());
                case SIGN_OUT -> {
                    if (client.account().isPresent()) {
                        client.signOut();
                    }
                }
                case SIGN_IN -> signInAs(home);
                case SWITCH_ACCOUNT -> signInAs(users.get(random.nextInt(users.size())));
            }
        } catch (ClientException expected) {
            // offline, not found, rate limited…: what a user would be told
        } catch (RuntimeException e) {
            reporter.unexpected(e);
        }
    }

    /** Signs in as {@code user}, signing out of another account first; nothing when already signed in as it. */
    void signInAs(User user) {
        Optional<Account> current = client.account();
        if (current.isPresent() && current.get().email().equalsIgnoreCase(user.email())) {
            return;
        }
        if (current.isPresent()) {
            client.signOut();
        }
        client.signIn(user.email(), user.password());
    }

    private void send() {
        List<LocalSession> live = client.sessions(null, null, 30);
        LocalSession target = live.isEmpty() || random.nextInt(6) == 0
                ? client.newSession(random.nextInt(3) == 0 ? Texts.title(random, device, ++counter) : null)
                : live.get(random.nextInt(live.size()));
        Exchange exchange = client.send(target.id(), Texts.message(random, device, ++counter), null);
        reporter.created(exchange.userMessage().id());
        reporter.exchange(exchange.outcome());
    }

    private void retry() {
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<LocalSession> session = someSession();
            if (session.isEmpty()) {
                return;
            }
            List<LocalMessage> failed = client.messages(session.get().id()).stream()
                    .filter(m -> m.message().role() == Role.USER && m.failed()).toList();
            if (!failed.isEmpty()) {
                Exchange exchange = client.retry(failed.get(random.nextInt(failed.size())).id());
                reporter.exchange(exchange.outcome());
                return;
            }
        }
    }

    private Optional<LocalSession> someSession() {
        List<LocalSession> live = client.sessions(null, null, 30);
        return live.isEmpty() ? Optional.empty() : Optional.of(live.get(random.nextInt(live.size())));
    }

    private static void waitFor(CompletableFuture<?> future) {
        try {
            future.get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof ClientException)) {
                throw new IllegalStateException("a sync task failed", e.getCause());
            }
        } catch (TimeoutException e) {
            // still running in the background; the user moves on
        }
    }
}
