package dev.parley.desktop.view;

import javafx.application.Platform;
import javafx.collections.ListChangeListener;
import javafx.event.Event;
import javafx.scene.control.ListView;
import javafx.scene.control.skin.VirtualFlow;
import javafx.scene.input.KeyEvent;
import javafx.scene.input.MouseEvent;
import javafx.scene.input.ScrollEvent;

/**
 * Keeps a list scrolled to its end as it grows — a reply being written included — while the user is at the end;
 * once they scroll up to read, it stays where they are until they scroll back down. FX thread only.
 */
final class FollowTheEnd {
    private final ListView<?> list;
    private boolean following = true;

    private FollowTheEnd(ListView<?> list) {
        this.list = list;
    }

    static void install(ListView<?> list) {
        FollowTheEnd follow = new FollowTheEnd(list);
        list.getItems().addListener((ListChangeListener<Object>) c -> follow.changed());
        // Only the user moves the view away from the end: a wheel, a drag of the bar, a key.
        list.addEventFilter(ScrollEvent.SCROLL, follow::userMoved);
        list.addEventFilter(MouseEvent.MOUSE_RELEASED, follow::userMoved);
        list.addEventFilter(KeyEvent.KEY_RELEASED, follow::userMoved);
    }

    private void userMoved(Event e) {
        Platform.runLater(() -> {
            VirtualFlow<?> flow = flow();
            following = flow == null || flow.getPosition() >= 0.999;
        });
    }

    private void changed() {
        if (!following || list.getItems().isEmpty()) {
            return;
        }
        VirtualFlow<?> flow = flow();
        if (flow == null) {
            list.scrollTo(list.getItems().size() - 1);
        } else {
            flow.setPosition(1.0); // the very end, even of a last message taller than the view
        }
    }

    private VirtualFlow<?> flow() {
        return list.lookup(".virtual-flow") instanceof VirtualFlow<?> flow ? flow : null;
    }
}
