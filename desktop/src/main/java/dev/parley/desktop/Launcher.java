package dev.parley.desktop;

import javafx.application.Application;

/** The entry point: a plain main class, so the app starts from a class path without JavaFX modules set up. */
public final class Launcher {
    private Launcher() {
    }

    public static void main(String[] args) {
        Application.launch(ParleyDesktop.class, args);
    }
}
