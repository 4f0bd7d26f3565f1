package dev.rg.core.safetensors;

/** A safetensors file (or index) is malformed; the message names the file and, where known, the tensor. */
public class SafetensorsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SafetensorsException(String message) {
        super(dev.rg.core.io.OneLine.of(message));
    }

    public SafetensorsException(String message, Throwable cause) {
        super(dev.rg.core.io.OneLine.of(message), cause);
    }
}
