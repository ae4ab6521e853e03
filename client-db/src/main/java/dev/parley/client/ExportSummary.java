package dev.parley.client;

import java.nio.file.Path;

/**
 * What an export ({@link ChatClient#exportHistory}) wrote: one zip of a Markdown file per conversation (every
 * branch) and {@code parley-export.json}, which {@link ChatClient#importHistory} reads back.
 */
public record ExportSummary(Path file, int conversations, long messages) {
}
