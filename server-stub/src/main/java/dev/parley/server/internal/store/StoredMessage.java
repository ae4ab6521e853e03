package dev.parley.server.internal.store;

import dev.parley.protocol.Message;

/** A message row with its owner. */
public record StoredMessage(String userId, Message message) {
}
