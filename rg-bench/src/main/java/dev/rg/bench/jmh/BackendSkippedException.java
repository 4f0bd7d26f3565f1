package dev.rg.bench.jmh;

/**
 * A benchmark was asked to run on a backend that cannot run here (unknown, or its probe said no). The runner
 * never asks for one (it passes only available backends); this is what a hand-written {@code -p backend=...}
 * gets instead of a stack trace from deep inside the backend: JMH logs the message and goes on.
 */
public final class BackendSkippedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackendSkippedException(String message) {
        super(message);
    }
}
