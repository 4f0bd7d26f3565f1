package dev.rg.core.model;

/**
 * The model computed a NaN or an infinity where a finite number was needed: broken weights, a broken config, or
 * an overflow. The message names where it was seen (the first layer and op when a checked pass could locate it).
 */
public final class NonFiniteException extends RuntimeException {
    public NonFiniteException(String message) {
        super(message);
    }
}
