package dev.parley.desktop.view;

import dev.parley.desktop.viewmodel.SignInViewModel;
import javafx.geometry.Insets;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.PasswordField;
import javafx.scene.control.TextField;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.HBox;
import javafx.scene.layout.VBox;
import javafx.stage.Modality;
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
        Label error = new Label();
        error.setId("signInError");
        error.getStyleClass().add("danger");
        error.setWrapText(true);
        error.textProperty().bind(vm.errorProperty());
        error.visibleProperty().bind(vm.errorProperty().isNotEmpty());
        error.managedProperty().bind(error.visibleProperty());
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
        VBox box = new VBox(10, new Label("Sign in to Parley"), email, password, error, new HBox(8, signIn, signUp),
                note);
        box.setPadding(new Insets(16));
        box.setPrefWidth(360);
        Stage stage = new Stage();
        stage.initOwner(owner);
        stage.initModality(Modality.WINDOW_MODAL);
        stage.setTitle("Sign in");
        Scene scene = new Scene(box);
        scene.setOnKeyPressed(e -> {
            if (e.getCode() == KeyCode.ESCAPE) {
                stage.close();
            }
        });
        stage.setScene(scene);
        vm.doneProperty().addListener((obs, old, done) -> {
            if (done) {
                stage.close();
            }
        });
        stage.show();
        email.requestFocus();
        return stage;
    }
}
