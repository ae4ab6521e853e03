package dev.parley.desktop.viewmodel;

import dev.parley.client.ChatClient;
import dev.parley.client.ClientException;
import dev.parley.protocol.Limits;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/**
 * The sign-in / sign-up dialog: validates inline, then signs in off the UI thread and reports plain errors. Before
 * a password would go over plain {@code http://} to a machine other than this one, it says so
 * ({@link #warningProperty()}) and sends only when asked a second time (SPEC §8). Used on the UI thread.
 */
public final class SignInViewModel {
    private final ChatClient client;
    private final UiExecutor ui;
    private final StringProperty email = new SimpleStringProperty("");
    private final StringProperty password = new SimpleStringProperty("");
    private final StringProperty error = new SimpleStringProperty("");
    private final BooleanProperty busy = new SimpleBooleanProperty();
    private final BooleanProperty done = new SimpleBooleanProperty();
    private final StringProperty warning = new SimpleStringProperty("");
    /** The host a password would reach unencrypted, or {@code null} when the connection is safe for it. */
    private final String plainHost;
    private boolean plainAccepted;

    /** A server on this machine (the embedded one), to which a password never travels over a network. */
    public SignInViewModel(ChatClient client, UiExecutor ui) {
        this(client, ui, null);
    }

    /**
     * @param server the server's URL, or a label holding it such as {@code embedded (http://127.0.0.1:4711)};
     *               {@code null} for the embedded server
     */
    public SignInViewModel(ChatClient client, UiExecutor ui, String server) {
        this.client = client;
        this.ui = ui;
        this.plainHost = WebAddress.plainRemoteHost(server);
    }

    /** The first problem with the inputs, or empty when they may be sent. */
    public String validate() {
        String address = email.get() == null ? "" : email.get().strip();
        if (!address.matches("[^@\\s]+@[^@\\s]+\\.[^@\\s]+") || address.length() > Limits.MAX_EMAIL_CHARS) {
            return "Enter an e-mail address such as ada@example.com.";
        }
        String secret = password.get() == null ? "" : password.get();
        if (secret.length() < Limits.MIN_PASSWORD_CHARS || secret.length() > Limits.MAX_PASSWORD_CHARS) {
            return "The password must be " + Limits.MIN_PASSWORD_CHARS + " to " + Limits.MAX_PASSWORD_CHARS
                    + " characters long.";
        }
        return "";
    }

    public void signIn() {
        submit(false);
    }

    public void signUp() {
        submit(true);
    }

    private void submit(boolean create) {
        String problem = validate();
        error.set(problem);
        if (!problem.isEmpty() || busy.get()) {
            return;
        }
        if (plainHost != null && !plainAccepted) {
            warning.set("The connection to " + plainHost + " is not encrypted (http://), so your password could be"
                    + " read on the way. Click again to send it anyway, or ask for the server's https:// address.");
            plainAccepted = true;
            return;
        }
        busy.set(true);
        String address = email.get().strip();
        String secret = password.get();
        ui.run(() -> create ? client.signUp(address, secret) : client.signIn(address, secret), account -> {
            busy.set(false);
            password.set("");
            done.set(true);
        }, e -> {
            busy.set(false);
            error.set(e instanceof ClientException ? e.getMessage() : "Signing in failed: " + e.getMessage());
        });
    }

    public StringProperty emailProperty() {
        return email;
    }

    public StringProperty passwordProperty() {
        return password;
    }

    public ReadOnlyStringProperty errorProperty() {
        return error;
    }

    /** Why the password is not sent yet (plain HTTP to another machine); empty otherwise. */
    public ReadOnlyStringProperty warningProperty() {
        return warning;
    }

    public ReadOnlyBooleanProperty busyProperty() {
        return busy;
    }

    /** Becomes true once signed in; the dialog closes then. */
    public ReadOnlyBooleanProperty doneProperty() {
        return done;
    }
}
