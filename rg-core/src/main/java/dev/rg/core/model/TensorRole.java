package dev.rg.core.model;

/**
 * What a tensor does in the model. The role decides how it is stored and run: only {@link #LINEAR} tensors
 * (and the {@link #EMBEDDING} when the head is quantised too) are converted by {@code --format} and need a
 * matmul kernel for their format; the others keep their stored precision.
 */
public enum TensorRole {
    /** The token embedding, also the tied LM head. */
    EMBEDDING,
    /** An RMSNorm scale. */
    NORM,
    /** A large projection matrix (MLP, linear_x/y/out, q/k/v/o): what weight formats quantise. */
    LINEAR,
    /** The bias of a projection or of the conv. */
    BIAS,
    /** The depthwise conv1d filter. */
    CONV,
    /** A block-diagonal RG-LRU gate (weight or bias). */
    GATE,
    /** The RG-LRU recurrence parameter (Λ). */
    PARAM;

    /** Whether {@code --format} converts tensors of this role (the embedding only with the head option). */
    public boolean isLinear() {
        return this == LINEAR;
    }
}
