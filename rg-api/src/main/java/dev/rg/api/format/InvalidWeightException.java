package dev.rg.api.format;

/** A weight (or the checkpoint tensors it is made of) is malformed; the message names the tensor and the problem. */
public class InvalidWeightException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidWeightException(String message) {
        super(message);
    }

    public InvalidWeightException(String message, Throwable cause) {
        super(message, cause);
    }
}
