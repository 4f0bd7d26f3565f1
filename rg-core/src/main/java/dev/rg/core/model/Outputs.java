package dev.rg.core.model;

/** Which rows of a forward call go through the LM head. */
public enum Outputs {
    /** No logits (e.g. feeding a prompt whose continuation is not needed yet). */
    NONE,
    /** The last token of each sequence: {@code [batch, V]}. */
    LAST,
    /** Every token: {@code [batch * length, V]} (for losses and comparisons). */
    ALL
}
