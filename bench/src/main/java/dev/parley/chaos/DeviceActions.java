package dev.parley.chaos;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.parley.client.Account;
import dev.parley.client.ChatClient;
import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.client.LocalMessage;
import dev.parley.client.LocalSession;
import dev.parley.client.SyncState;
import dev.parley.protocol.ChatRequest;
import dev.parley.protocol.ChatRequest.ContextMessage;
import dev.parley.protocol.Role;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What a simulated user does on one device, one action at a time, through the real {@link ChatClient}: send, try
 * again, rename, delete, push and pull by hand, sign out, sign in, switch accounts; and, where the device has a
 * {@link StreamingUser}, send a message as a stream in one of its conversations (the client library does not
 * stream yet, so that goes to the server directly; the device's store gets the rows by its next pull); regenerate
 * a reply and edit a question of the conversation's shown path (branches, SPEC §4.3). A
 * {@link ClientException} is an answer the user would see and is expected; any other exception is reported as
 * unexpected. Not thread-safe: one thread runs a device's actions, as one person uses one device.
 */
final class DeviceActions {
    private static final TimeBasedEpochGenerator IDS = Generators.timeBasedEpochGenerator();
    /** The shortest time between two exchanges a device begins. */
    private static final long EXCHANGE_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1_000);
    /** Earlier messages sent along as the context of a streamed message. */
    private static final int STREAM_CONTEXT = 6;

    /** The things a user can do. */
    enum Action {
        SEND, STREAM, RETRY, REGENERATE, EDIT, RENAME, NEW_SESSION, DELETE, PUSH, PULL, SIGN_OUT, SIGN_IN,
        SWITCH_ACCOUNT
    }

    /** An account of the run. */
    record User(String email, String password) {
    }

    /** Where a device reports what it did. */
    interface Reporter {
        /** A user message was written locally (its transaction committed). */
        void created(String messageId);

        /** A question was edited: {@code messageId} is the new sibling message, written locally. */
        void edited(String messageId);

        /** Another reply to the user message {@code messageId} was asked for, under {@code replyId}. */
        void regenerated(String messageId, String replyId);

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
    private final StreamingUser streaming;
    private long lastExchange = System.nanoTime() - EXCHANGE_GAP_NANOS;
    private int counter;

    /** A device that does not stream (its {@link Action#STREAM} does nothing). */
    DeviceActions(String device, ChatClient client, SplittableRandom random, List<User> users, User home,
                  Reporter reporter) {
        this(device, client, random, users, home, reporter, null);
    }

    /** @param streaming how the device streams, or {@code null} for one that does not */
    DeviceActions(String device, ChatClient client, SplittableRandom random, List<User> users, User home,
                  Reporter reporter, StreamingUser streaming) {
        this.streaming = streaming;
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
                case STREAM -> stream();
                case RETRY -> retry();
                case REGENERATE -> regenerate();
                case EDIT -> edit();
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
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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

    /**
     * Whether this device began an exchange (send, try again, stream) less than {@link #EXCHANGE_GAP_NANOS} ago: a
     * user then does something else. Replies stream for seconds, and the accounts' limit of live generations (SPEC
     * §5.3: 4) should be reached by the devices of an account together, or after a restart (a cut generation's claim
     * counts until it lapses), not by one device alone. A gap in time, not "wait for the reply", so that a device
     * that is offline (whose exchanges fail at once) does not send more often than one that is online.
     */
    private boolean tooSoon() {
        return System.nanoTime() - lastExchange < EXCHANGE_GAP_NANOS;
    }

    private void began() {
        lastExchange = System.nanoTime();
    }

    private void send() {
        if (tooSoon()) {
            return;
        }
        List<LocalSession> live = client.sessions(null, null, 30);
        LocalSession target = live.isEmpty() || random.nextInt(6) == 0
                ? client.newSession(random.nextInt(3) == 0 ? Texts.title(random, device, ++counter) : null)
                : live.get(random.nextInt(live.size()));
        Exchange exchange = client.send(target.id(), Texts.message(random, device, ++counter), null);
        reporter.created(exchange.userMessage().id());
        reporter.exchange(exchange.outcome());
        began();
    }

    /**
     * A new message as a stream, into one of the signed-in account's conversations on this device (or a new one),
     * with the request the client would make: the conversation's title while the server may not have it yet, and
     * the latest messages as context.
     */
    private void stream() throws InterruptedException {
        Optional<Account> account = client.account();
        if (streaming == null || account.isEmpty()) {
            return; // signed out, a stream can be neither re-attached nor stopped: nothing to hold the server to
        }
        Optional<User> user = users.stream().filter(u -> u.email().equalsIgnoreCase(account.get().email()))
                .findFirst();
        if (user.isEmpty() || tooSoon()) {
            return;
        }
        List<LocalSession> live = client.sessions(null, null, 30);
        LocalSession target = live.isEmpty() || random.nextInt(6) == 0
                ? client.newSession(Texts.title(random, device, ++counter))
                : live.get(random.nextInt(live.size()));
        List<ContextMessage> context = new ArrayList<>();
        for (LocalMessage m : client.messages(target.id())) {
            if (!m.failed() && m.message().role() != Role.SYSTEM) {
                context.add(new ContextMessage(m.message().role(), m.message().content()));
            }
        }
        List<ContextMessage> latest = List.copyOf(context.subList(Math.max(0, context.size() - STREAM_CONTEXT),
                context.size()));
        ChatRequest request = new ChatRequest(target.id(), IDS.generate().toString(),
                Texts.message(random, device, ++counter), null, Instant.now().truncatedTo(ChronoUnit.MILLIS),
                target.syncState() == SyncState.SYNCED ? null : target.title(), latest);
        began();
        streaming.stream(random, user.get(), request);
    }

    private void retry() {
        if (tooSoon()) {
            return;
        }
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<LocalSession> session = someSession();
            if (session.isEmpty()) {
                return;
            }
            // A failed question, or a failed regenerate (tried again under its reply id).
            List<LocalMessage> failed = client.messages(session.get().id()).stream()
                    .filter(LocalMessage::failed).toList();
            if (!failed.isEmpty()) {
                Exchange exchange = client.retry(failed.get(random.nextInt(failed.size())).id());
                reporter.exchange(exchange.outcome());
                began();
                return;
            }
        }
    }

    /** Another reply to an answered question of a conversation's shown path. */
    private void regenerate() {
        if (tooSoon()) {
            return;
        }
        Optional<LocalSession> session = someSession();
        if (session.isEmpty()) {
            return;
        }
        List<LocalMessage> replies = client.messages(session.get().id()).stream()
                .filter(m -> m.message().role() == Role.ASSISTANT && !m.failed() && !m.unfinished()).toList();
        if (replies.isEmpty()) {
            return;
        }
        LocalMessage reply = replies.get(random.nextInt(replies.size()));
        Exchange exchange = client.regenerate(reply.id(), null);
        reporter.regenerated(exchange.userMessage().id(), exchange.replyId());
        reporter.exchange(exchange.outcome());
        began();
    }

    /** A question of a conversation's shown path asked again in other words: a sibling, a new branch. */
    private void edit() {
        if (tooSoon()) {
            return;
        }
        Optional<LocalSession> session = someSession();
        if (session.isEmpty()) {
            return;
        }
        List<LocalMessage> questions = client.messages(session.get().id()).stream()
                .filter(m -> m.message().role() == Role.USER).toList();
        if (questions.isEmpty()) {
            return;
        }
        LocalMessage question = questions.get(random.nextInt(questions.size()));
        Exchange exchange = client.edit(question.id(), Texts.message(random, device, ++counter), null);
        reporter.edited(exchange.userMessage().id());
        reporter.exchange(exchange.outcome());
        began();
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
