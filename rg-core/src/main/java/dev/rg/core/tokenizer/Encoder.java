package dev.rg.core.tokenizer;

/** Turns text into ids, with no BOS/EOS added. Implementations are immutable and thread-safe. */
interface Encoder {
    /** Encodes {@code text}, which contains no lone surrogates (see {@link InputText}). */
    int[] encode(String text);
}
