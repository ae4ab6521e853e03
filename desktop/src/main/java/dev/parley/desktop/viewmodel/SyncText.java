package dev.parley.desktop.viewmodel;

import dev.parley.client.LiveState;
import dev.parley.client.SyncStatus;

/** The status bar's words for a sync status. */
public final class SyncText {
    private SyncText() {
    }

    /** The words for {@code status}, and whether other devices' changes arrive live when signed in. */
    public static String of(SyncStatus status, LiveState live) {
        String text = of(status);
        if (status.state() == SyncStatus.State.SIGNED_OUT) {
            return text;
        }
        return switch (live) {
            case LIVE -> text + " · live";
            case RECONNECTING -> text + " · reconnecting";
            case OFF, CONNECTING -> text;
        };
    }

    public static String of(SyncStatus status) {
        String text = switch (status.state()) {
            case SIGNED_OUT -> status.unsent() == 0 ? "On this device only"
                    : "On this device only · " + status.unsent() + " to upload at sign-in";
            case SYNCED -> "Synced ✓";
            case PENDING -> status.unsent() + " unsent";
            case OFFLINE -> "Offline · " + status.unsent() + " unsent";
            case SYNCING -> "Syncing " + status.done() + " of " + status.total();
        };
        return status.rejected() == 0 ? text
                : text + " · " + status.rejected() + (status.rejected() == 1 ? " rejected row" : " rejected rows");
    }
}
