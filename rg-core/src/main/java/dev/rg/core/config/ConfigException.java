package dev.rg.core.config;

/** config.json is missing, unreadable or inconsistent; the message names the file and the field. */
public class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(dev.rg.core.io.OneLine.of(message));
    }

    public ConfigException(String message, Throwable cause) {
        super(dev.rg.core.io.OneLine.of(message), cause);
    }
}
