package dev.rg.core.model;

/** A saved state file that cannot be read, or does not belong to the model it is resumed on; the message names the file. */
public final class StateFileException extends RuntimeException {
    public StateFileException(String message) {
        super(message);
    }

    public StateFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
