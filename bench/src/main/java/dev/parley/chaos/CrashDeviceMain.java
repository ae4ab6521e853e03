package dev.parley.chaos;

import dev.parley.chaos.DeviceActions.Action;
import dev.parley.chaos.DeviceActions.User;
import dev.parley.client.ChatClient;
import dev.parley.client.ChatListener;
import dev.parley.client.ClientException;
import dev.parley.client.Exchange;
import dev.parley.client.SyncStatus;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * One device in its own JVM, so that the chaos run can kill it for real (SIGKILL) in the middle of a push and start
 * it again on the same files. It signs in when it has no account, then acts like a user until it is killed. It tells
 * the parent on standard output: {@code CREATED <id>} once a message is written locally, {@code PUSHING} when a
 * push with rows starts.
 *
 * <p>Arguments: data directory, server (proxy) URL, email, password, seed.
 */
public final class CrashDeviceMain {
    private static final Action[] PLAN = weighted();

    private CrashDeviceMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        String url = args[1];
        User home = new User(args[2], args[3]);
        SplittableRandom random = new SplittableRandom(Long.parseLong(args[4]));
        PrintStream out = System.out;
        ChatClient client = ChatClient.open(SimulatedDevice.config(dataDir, url));
        client.addListener(new ChatListener() {
            @Override
            public void syncStatusChanged(SyncStatus status) {
                if (status.state() == SyncStatus.State.SYNCING && status.total() > 0) {
                    tell(out, "PUSHING");
                } else {
                    tell(out, "STATUS " + status.state() + " unsent=" + status.unsent());
                }
            }
        });
        DeviceActions actions = new DeviceActions("crash", client, random, List.of(home), home,
                new DeviceActions.Reporter() {
                    @Override
                    public void created(String messageId) {
                        tell(out, "CREATED " + messageId);
                    }

                    @Override
                    public void edited(String messageId) {
                        tell(out, "EDITED " + messageId);
                    }

                    @Override
                    public void regenerated(String messageId, String replyId) {
                        // Not in this device's plan: a kill between the request and this line would leave a stored
                        // reply the ledger never heard of, which the verification would count as duplicated.
                        throw new IllegalStateException("the crashing device does not regenerate");
                    }

                    @Override
                    public void exchange(CompletableFuture<Exchange.Outcome> outcome) {
                    }

                    @Override
                    public void unexpected(Throwable e) {
                        tell(out, "UNEXPECTED " + e.getClass().getName() + ": " + String.valueOf(e.getMessage())
                                .replace('\n', ' '));
                        e.printStackTrace();
                    }
                });
        tell(out, "STARTED");
        while (true) {
            if (client.account().isEmpty()) {
                try {
                    actions.signInAs(home);
                } catch (ClientException e) {
                    Thread.sleep(100); // offline or rate limited: try again
                    continue;
                }
            }
            actions.run(PLAN[random.nextInt(PLAN.length)]);
            Thread.sleep(20 + random.nextInt(80));
        }
    }

    private static void tell(PrintStream out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    private static Action[] weighted() {
        return ChaosRun.weighted(new Object[][] {
                {Action.SEND, 60}, {Action.RETRY, 12}, {Action.EDIT, 3}, {Action.RENAME, 8}, {Action.NEW_SESSION, 4},
                {Action.DELETE, 1},
                {Action.PUSH, 5}, {Action.PULL, 4}, {Action.SIGN_OUT, 1}, {Action.SIGN_IN, 5}});
    }
}
