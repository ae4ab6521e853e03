package dev.parley.client.internal;

import dev.parley.client.Account;
import dev.parley.client.ClientException;
import dev.parley.client.LocalChange;
import dev.parley.client.LocalMessage;
import dev.parley.protocol.AuthResponse;
import dev.parley.protocol.Credentials;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The account of this device: signing up, in and out, and what a sign-in does with the rows written signed out
 * (adopts them, uploads them, then downloads the account's history). Thread-safe.
 */
public final class AccountSession {
    private static final Logger LOG = LoggerFactory.getLogger(AccountSession.class);

    private final ServerApi api;
    private final TokenStore tokens;
    private final LocalDatabase db;
    private final SyncEngine engine;
    private final Events events;
    private final Runnable signedIn;
    private final LocalSessions sessions = new LocalSessions();
    private final LocalMessages messages = new LocalMessages();

    /** @param signedIn called once a sign-in's upload and download are done (resumes its unfinished replies) */
    public AccountSession(ServerApi api, TokenStore tokens, LocalDatabase db, SyncEngine engine, Events events,
                          Runnable signedIn) {
        this.api = api;
        this.tokens = tokens;
        this.db = db;
        this.engine = engine;
        this.events = events;
        this.signedIn = signedIn;
    }

    public Optional<Account> account() {
        return tokens.load().map(t -> new Account(t.user().id(), t.user().email()));
    }

    /** Adopts rows written signed out when a sign-in was cut between saving the tokens and adopting them. */
    public void adoptLeftovers() {
        Optional<Account> account = account();
        account.ifPresent(a -> db.inTransaction(c -> sessions.adopt(c, a.userId()) + messages.adopt(c, a.userId())));
    }

    public Account signUp(String email, String password) {
        return signInWith(() -> api.signUp(new Credentials(email, password)));
    }

    public Account signIn(String email, String password) {
        return signInWith(() -> api.signIn(new Credentials(email, password)));
    }

    private Account signInWith(AuthCall call) {
        AuthResponse auth;
        try {
            auth = call.run();
        } catch (ServerError e) {
            throw new ClientException(e.code(), e.getMessage(), e.retryable(), e);
        } catch (IOException e) {
            throw new ClientException(LocalMessage.OFFLINE, "The server could not be reached. Check the connection"
                    + " and try again.", true, e);
        }
        engine.reset();
        tokens.save(auth);
        String owner = auth.user().id();
        db.inTransaction(c -> sessions.adopt(c, owner) + messages.adopt(c, owner));
        Account account = new Account(owner, auth.user().email());
        events.fire(l -> l.accountChanged(account));
        events.changed(LocalChange.everything());
        try {
            engine.uploadAndPull(done -> { }).get(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            LOG.warn("sign-in sync did not finish; it continues in the background", e);
        }
        events.changed(LocalChange.everything());
        signedIn.run();
        return account;
    }

    /** The server refused both the access and the refresh token: treated as a sign-out (rows stay, hidden). */
    public void expired() {
        tokens.clear();
        events.fire(l -> l.accountChanged(null));
        events.changed(LocalChange.everything());
    }

    /** Forgets the tokens (revoking them on the server when it answers); the account's rows stay, hidden. */
    public void signOut() {
        tokens.load().ifPresent(t -> {
            try {
                api.signOut(t.accessToken());
            } catch (IOException | ServerError e) {
                LOG.info("server sign-out not confirmed ({}); tokens are forgotten locally", e.getMessage());
            }
        });
        tokens.clear();
        engine.reset();
        events.fire(l -> l.accountChanged(null));
        events.changed(LocalChange.everything());
    }

    @FunctionalInterface
    private interface AuthCall {
        AuthResponse run() throws IOException, ServerError;
    }
}
