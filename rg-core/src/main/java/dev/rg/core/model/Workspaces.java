package dev.rg.core.model;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.config.ModelConfig;

/**
 * The activation buffers of one {@link ModelState}: one set for decode-sized calls and one for the most
 * recent prefill size, plus the logits buffers. Reallocated only when a call needs a different row count,
 * so a decode loop allocates nothing.
 */
final class Workspaces implements AutoCloseable {
    private final Backend backend;
    private final ModelConfig config;
    private Workspace small;
    private Workspace large;
    private HeadBuffers head;

    /** Buffers of the LM head for a number of rows. */
    record HeadBuffers(Tensor in, Tensor normed, Tensor logits) implements AutoCloseable {
        @Override
        public void close() {
            in.close();
            normed.close();
            logits.close();
        }
    }

    Workspaces(Backend backend, ModelConfig config) {
        this.backend = backend;
        this.config = config;
    }

    Workspace forRows(int rows) {
        if (small != null && small.rows == rows) {
            return small;
        }
        if (large != null && large.rows == rows) {
            return large;
        }
        Workspace w = new Workspace(backend, config, rows);
        // keep the smaller set (decode) around; the larger one (prefill) is replaced by the next prefill size
        if (small == null || rows < small.rows) {
            if (large != null) {
                large.close();
            }
            large = small;
            small = w;
        } else {
            if (large != null) {
                large.close();
            }
            large = w;
        }
        return w;
    }

    /** Buffers for {@code rows} rows going through the LM head. */
    HeadBuffers head(int rows) {
        if (head == null || head.logits().rows() != rows) {
            if (head != null) {
                head.close();
            }
            head = new HeadBuffers(backend.allocate(rows, config.hiddenSize()), backend.allocate(rows, config.hiddenSize()),
                    backend.allocate(rows, config.vocabSize()));
        }
        return head;
    }

    @Override
    public void close() {
        for (Workspace w : new Workspace[] {small, large}) {
            if (w != null) {
                w.close();
            }
        }
        if (head != null) {
            head.close();
        }
    }
}
