package dev.parley.chaos;

import dev.parley.chaos.DeviceActions.User;
import dev.parley.protocol.ChatRequest;
import java.io.IOException;
import java.util.SplittableRandom;

/**
 * What a simulated user does with streamed replies on one device, through its {@link DirectChat}: sends a message as
 * a stream and reads the reply as it grows; now and then drops the connection after a few words (the network went
 * away, the app was closed), re-attaches with {@code Last-Event-ID} (on the other server process when there are
 * two), or presses Stop. Everything it sees goes into the message's {@link StreamedExchange}. After the faults,
 * {@link #resolve} finds out how each message ended, as a client that re-attaches to every unfinished reply and
 * sends again what was interrupted would.
 *
 * <p>Not thread-safe: one thread at a time (the device's, then the resolution's).
 */
final class StreamingUser {
    /** Odds that a stream is dropped after 1–4 deltas. */
    static final double DROP = 0.35;
    /** Odds that a stream that broke (dropped here or cut on the way) is re-attached at once. */
    static final double REATTACH = 0.8;
    /** Odds that the user presses Stop, after 0–5 deltas. */
    static final double STOP = 0.2;
    /** The longest a user waits on one streamed message while the faults last. */
    private static final long ACTION_LIMIT_MS = 15_000;
    /** The longest one re-attach is followed during the resolution (a lapse takes up to 10 s to show). */
    private static final long RESOLVE_ATTACH_MS = 30_000;

    private final String device;
    private final DirectChat chat;
    private final Ledger ledger;

    StreamingUser(String device, DirectChat chat, Ledger ledger) {
        this.device = device;
        this.chat = chat;
        this.ledger = ledger;
    }

    /** How a stream ended for the client. */
    private enum Ending { DONE, ERROR, BROKEN, DROPPED, TIMEOUT, OTHER_GENERATION }

    /**
     * What the user means to do with one message's stream: drop it after {@code dropAfter} deltas (−1: never), then
     * re-attach or not; press Stop after {@code stopAt} deltas (0: right after the start, −1: never) on server
     * {@code stopOn}. {@code deltas} counts what it read, over re-attaches.
     */
    static final class Plan {
        final int dropAfter;
        final boolean reattach;
        final int stopAt;
        final int stopOn;
        int deltas;
        boolean stopSent;

        Plan(int dropAfter, boolean reattach, int stopAt, int stopOn) {
            this.dropAfter = dropAfter;
            this.reattach = reattach;
            this.stopAt = stopAt;
            this.stopOn = stopOn;
        }

        /** Reads to the end, stops nothing. */
        static Plan follow() {
            return new Plan(-1, false, -1, 0);
        }
    }

    /** Sends {@code request} as a stream and acts on it as the plan drawn from {@code random} says. */
    void stream(SplittableRandom random, User user, ChatRequest request) throws InterruptedException {
        int server = random.nextInt(chat.servers());
        int dropAfter = random.nextDouble() < DROP ? 1 + random.nextInt(4) : -1;
        boolean reattach = random.nextDouble() < REATTACH;
        int stopAt = random.nextDouble() < STOP ? random.nextInt(6) : -1;
        stream(user, request, server, new Plan(dropAfter, reattach, stopAt, random.nextInt(chat.servers())));
    }

    /** Sends {@code request} as a stream to server {@code server} and acts on it as {@code plan} says. */
    StreamedExchange stream(User user, ChatRequest request, int server, Plan plan) throws InterruptedException {
        StreamedExchange exchange = new StreamedExchange(device, user, request, server);
        ledger.streamed(exchange);
        long deadline = System.nanoTime() + ACTION_LIMIT_MS * 1_000_000;
        ReplyStream stream;
        try {
            stream = chat.post(server, user, request);
        } catch (DirectChat.Refused refused) {
            exchange.refused(refused, false);
            return exchange;
        } catch (IOException e) {
            exchange.noAnswer("no answer to the stream request: " + e.getMessage());
            return exchange;
        }
        exchange.newView();
        Ending ending = follow(stream, exchange, server, deadline, plan);
        int at = (server + 1) % chat.servers(); // the other process, when there are two
        for (int attaches = 0; attaches < 3 && System.nanoTime() < deadline; attaches++) {
            boolean again = ending == Ending.OTHER_GENERATION
                    || (ending == Ending.DROPPED || ending == Ending.BROKEN) && plan.reattach;
            if (!again) {
                return exchange;
            }
            if (ending == Ending.OTHER_GENERATION) {
                exchange.newView();
            }
            try {
                stream = chat.attach(at, user, exchange.messageId, exchange.offset());
            } catch (DirectChat.Refused refused) {
                exchange.refused(refused, true);
                return exchange;
            } catch (IOException e) {
                exchange.noAnswer("no answer to a re-attach: " + e.getMessage());
                return exchange;
            }
            exchange.reattached();
            ending = follow(stream, exchange, -1, deadline, plan);
        }
        return exchange;
    }

    /**
     * Finds out how the message ended, until it is answered or refused for good or {@code deadline} passes:
     * re-attaches while the outcome is unknown (from the text it has, alternating between the server processes),
     * and sends it again as JSON, with the same id, when it was interrupted, failed or never arrived. True when
     * the outcome is final.
     */
    boolean resolve(StreamedExchange exchange, long deadline) throws InterruptedException {
        int server = 0;
        while (!exchange.isFinal() && System.nanoTime() < deadline) {
            StreamedExchange.State state = exchange.state();
            if (state == StreamedExchange.State.TO_SEND_AGAIN || state == StreamedExchange.State.NOT_FOUND) {
                sendAgain(exchange, server);
            } else {
                ReplyStream stream = null;
                try {
                    stream = chat.attach(server, exchange.user, exchange.messageId, exchange.offset());
                } catch (DirectChat.Refused refused) {
                    exchange.refused(refused, true);
                    pause(refused);
                } catch (IOException e) {
                    exchange.noAnswer("no answer to a re-attach: " + e.getMessage());
                    Thread.sleep(200);
                }
                if (stream != null) {
                    exchange.reattached();
                    long until = Math.min(deadline, System.nanoTime() + RESOLVE_ATTACH_MS * 1_000_000);
                    if (follow(stream, exchange, -1, until, Plan.follow()) == Ending.OTHER_GENERATION) {
                        exchange.newView();
                    }
                }
            }
            server = (server + 1) % chat.servers();
        }
        return exchange.isFinal();
    }

    /** The client's Try again: the same request, same message id, as JSON. */
    private void sendAgain(StreamedExchange exchange, int server) throws InterruptedException {
        exchange.resent();
        DirectChat.Answer answer;
        try {
            answer = chat.send(server, exchange.user, exchange.request);
        } catch (DirectChat.Refused refused) { // signing in was refused (rate limited): later
            pause(refused);
            return;
        } catch (IOException e) {
            exchange.noAnswer("no answer to a send: " + e.getMessage());
            Thread.sleep(200);
            return;
        }
        if (answer.response() == null) {
            exchange.refused(answer.refused(), false);
            pause(answer.refused());
        } else if (answer.response().persisted()) {
            exchange.newView();
            exchange.answered(answer.response(), false);
        } else {
            exchange.noAnswer("answered but not stored"); // the next round sends it again
            Thread.sleep(200);
        }
    }

    private static void pause(DirectChat.Refused refused) throws InterruptedException {
        Long after = refused.body == null ? null : refused.body.error().retryAfterSeconds();
        Thread.sleep(after == null ? 300 : Math.min(2_000, after * 1_000));
    }

    /**
     * Reads one stream to its end, or until the plan drops it or {@code deadline} passes. {@code generating} is the
     * server the generation was started on, while it is followed there (−1 for a re-attach): a stream counts as
     * live on it from its first delta, so that restarts can be aimed at live generations.
     */
    private Ending follow(ReplyStream stream, StreamedExchange exchange, int generating, long deadline, Plan plan)
            throws InterruptedException {
        boolean live = false;
        try {
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    stream.drop();
                    exchange.broken("the user stopped waiting");
                    return Ending.TIMEOUT;
                }
                ReplyStream.Event event = stream.next(left);
                if (event == null) {
                    continue;
                }
                if (event instanceof ReplyStream.Start start) {
                    if (!exchange.start(start.start())) {
                        stream.drop();
                        return Ending.OTHER_GENERATION;
                    }
                    if (plan.stopAt == 0) {
                        stop(exchange, plan);
                    }
                } else if (event instanceof ReplyStream.Delta delta) {
                    exchange.delta(delta.id(), delta.text());
                    plan.deltas++;
                    if (generating >= 0 && !live) {
                        live = true;
                        ledger.streaming(generating, 1);
                    }
                    if (plan.deltas == plan.dropAfter) {
                        stream.drop();
                        exchange.broken("dropped after " + plan.deltas + " deltas");
                        return Ending.DROPPED;
                    }
                    if (plan.stopAt >= 0 && plan.deltas >= plan.stopAt) {
                        stop(exchange, plan);
                    }
                } else if (event instanceof ReplyStream.Done done) {
                    exchange.answered(done.response(), true);
                    return Ending.DONE;
                } else if (event instanceof ReplyStream.Error error) {
                    exchange.error(error.body());
                    return Ending.ERROR;
                } else if (event instanceof ReplyStream.Broken broken) {
                    exchange.broken(broken.cause());
                    return Ending.BROKEN;
                } else if (event instanceof ReplyStream.Malformed malformed) {
                    exchange.problem(malformed.what());
                    stream.drop();
                    exchange.broken(malformed.what());
                    return Ending.BROKEN;
                } else if (event instanceof ReplyStream.Refused) {
                    exchange.problem("a refusal after the stream opened");
                }
            }
        } finally {
            if (live) {
                ledger.streaming(generating, -1);
            }
        }
    }

    /** Presses Stop, once per message, on one of the server processes (whichever runs the generation). */
    private void stop(StreamedExchange exchange, Plan plan) {
        if (plan.stopSent) {
            return;
        }
        plan.stopSent = true;
        try {
            DirectChat.Answer answer = chat.stop(plan.stopOn, exchange.user, exchange.messageId);
            if (answer.response() != null) {
                exchange.stopAnswered(answer.response());
            }
        } catch (DirectChat.Refused | IOException e) {
            // no answer or refused (signing in failed): the stream or the resolution tells how it ended
        }
    }
}
