package dev.rg.api.backend;

/**
 * Shape of the local multi-query attention.
 *
 * @param heads     query heads
 * @param kvHeads   key/value heads (1 for RecurrentGemma: MQA); must divide {@code heads}
 * @param headDim   dimension of one head
 * @param window    W: a query at position t sees the keys of positions t-W .. t (DeepMind semantics, W+1 keys);
 *                  the key/value caches hold W slots, position p in slot {@code p % W}
 */
public record AttentionSpec(int heads, int kvHeads, int headDim, int window) {
    public AttentionSpec {
        if (heads < 1 || kvHeads < 1 || headDim < 1 || window < 1 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("invalid attention shape: heads=" + heads + " kvHeads=" + kvHeads
                    + " headDim=" + headDim + " window=" + window);
        }
    }

    /** Columns of one row of a key or value cache: {@code window * kvHeads * headDim}. */
    public int cacheCols() {
        return Math.multiplyExact(window, kvHeads * headDim);
    }
}
