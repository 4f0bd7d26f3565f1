package dev.rg.core.model;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The activation buffers of one {@link ModelState}: the sets of the three most recently used row counts (decode,
 * a full prefill chunk, the last chunk), plus the logits buffers. Reallocated only when a call needs a row count
 * not kept, so a decode loop allocates nothing. Prefill rows are bounded by {@link Griffin#CHUNK_ROWS}.
 */
final class Workspaces implements AutoCloseable {
    private final Backend backend;
    private final ModelConfig config;
    /** Most recently used first; at most {@link #KEPT}. */
    private final List<Workspace> sets = new ArrayList<>(KEPT);
    /** Decode (batch rows), a full prefill chunk and the last, shorter chunk: a chunked prefill followed by decoding reallocates nothing. */
    private static final int KEPT = 3;
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
        for (int i = 0; i < sets.size(); i++) {
            Workspace w = sets.get(i);
            if (w.rows == rows) {
                if (i > 0) {
                    sets.remove(i);
                    sets.addFirst(w);
                }
                return w;
            }
        }
        if (sets.size() == KEPT) {
            sets.removeLast().close();
        }
        Workspace w = new Workspace(backend, config, rows);
        sets.addFirst(w);
        return w;
    }

    /** The largest row count of the kept activation sets (for tests of the memory bound). */
    int largestRows() {
        return sets.stream().mapToInt(w -> w.rows).max().orElse(0);
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
        sets.forEach(Workspace::close);
        sets.clear();
        if (head != null) {
            head.close();
        }
    }
}
