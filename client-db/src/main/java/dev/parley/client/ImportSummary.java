package dev.parley.client;

/**
 * What an import did. Importing a file again adds only what is not stored yet, so a second import of the same file
 * reports {@code messagesAdded == 0}.
 *
 * @param source               the kind of file read: {@code chatgpt} (a ChatGPT data export) or {@code parley} (a
 *                             Parley export)
 * @param conversationsInFile  the conversations the file holds that have a message to import
 * @param conversationsAdded   conversations that were not here before
 * @param messagesAdded        messages written (every branch of every conversation)
 * @param messagesAlreadyHere  messages the store already had, left as they were
 * @param conversationsSkipped conversations left out: deleted here, or stored under another account
 * @param nodesSkipped         parts of the export that are not messages to show (system, tool and hidden nodes,
 *                             nodes referred to but missing)
 * @param notes                non-text parts (images, files, audio) kept as a note in place of the part
 * @param cancelled            true when the import was stopped before the end
 */
public record ImportSummary(String source, int conversationsInFile, int conversationsAdded, long messagesAdded,
                            long messagesAlreadyHere, int conversationsSkipped, long nodesSkipped, long notes,
                            boolean cancelled) {
}
