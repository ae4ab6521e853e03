package dev.parley.desktop.view;

import dev.parley.desktop.viewmodel.SignInViewModel;
import javafx.geometry.Insets;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.PasswordField;
import javafx.scene.control.TextField;
import javafx.scene.layout.HBox;
import javafx.scene.layout.VBox;
import javafx.stage.Stage;
import javafx.stage.Window;

/** Sign in or create an account; errors appear inline, in plain words. Escape closes it. */
public final class SignInDialog {
    private SignInDialog() {
    }

    public static Stage open(Window owner, SignInViewModel vm) {
        TextField email = new TextField();
        email.setId("email");
        email.setPromptText("E-mail");
        email.textProperty().bindBidirectional(vm.emailProperty());
        PasswordField password = new PasswordField();
        password.setId("password");
        password.setPromptText("Password (8 characters or more)");
        password.textProperty().bindBidirectional(vm.passwordProperty());
        Label error = Dialogs.message("signInError", "danger", vm.errorProperty());
        Label warning = Dialogs.message("signInWarning", "warning", vm.warningProperty());
        Button signIn = new Button("Sign in");
        signIn.setId("doSignIn");
        signIn.setDefaultButton(true);
        signIn.setOnAction(e -> vm.signIn());
        Button signUp = new Button("Create account");
        signUp.setId("doSignUp");
        signUp.setOnAction(e -> vm.signUp());
        signIn.disableProperty().bind(vm.busyProperty());
        signUp.disableProperty().bind(vm.busyProperty());
        Label note = new Label("Conversations written on this device are uploaded to your account.");
        note.setWrapText(true);
        note.getStyleClass().add("text-muted");
        VBox box = new VBox(10, new Label("Sign in to Parley"), email, password, error, warning, new HBox(8, signIn, signUp),
                note);
        box.setPadding(new Insets(16));
        box.setPrefWidth(360);
        Stage stage = Dialogs.show(owner, "Sign in", box, vm.doneProperty());
        email.requestFocus();
        return stage;
    }
}
