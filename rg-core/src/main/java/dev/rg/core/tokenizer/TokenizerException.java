package dev.rg.core.tokenizer;

/**
 * A tokenizer file is missing, malformed or describes a tokenizer this package does not implement exactly.
 * The message names the file (or directory) and what was expected, so a user can tell a truncated download
 * from a tokenizer of another model family.
 */
public class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message) {
        super(dev.rg.core.io.OneLine.of(message));
    }

    public TokenizerException(String message, Throwable cause) {
        super(dev.rg.core.io.OneLine.of(message), cause);
    }
}
