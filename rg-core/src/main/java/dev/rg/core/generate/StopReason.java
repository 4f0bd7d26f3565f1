package dev.rg.core.generate;

/** Why generation ended. */
public enum StopReason {
    /** A stop token (EOS, {@code <end_of_turn>} or a user one) was produced. */
    STOP_TOKEN,
    /** A stop string appeared in the text (it is not part of the returned text). */
    STOP_STRING,
    /** The maximum number of new tokens was reached. */
    MAX_TOKENS,
    /** In JSON mode, the JSON object closed. */
    JSON_COMPLETE,
    /** The consumer of the streamed text asked to stop (e.g. closed output). */
    CANCELLED
}
