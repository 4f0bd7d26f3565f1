package dev.rg.core.generate;

/** Receives generated text as soon as it is valid UTF-8 and cannot be the start of a stop string. */
@FunctionalInterface
public interface TextSink {
    /** @return false to stop generating (e.g. the output was closed) */
    boolean accept(String text);

    /** Discards the text. */
    TextSink NONE = t -> true;
}
