package dev.rg.core.model;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The activation buffers of one {@link ModelState}: the sets of the three most recently used row counts (decode,
 * a full prefill chunk, the last chunk), plus the LM head's buffers of the three most recently used batch sizes.
 * Reallocated only when a call needs a row count not kept, so a decode loop allocates nothing, and a batch whose size
 * moves among a few values (sequences leaving and joining a server's batch, or a decode step alternating with a
 * {@link Griffin#forwardTogether shared pass} that also heads the prompts beside it) finds its buffers again: at the
 * same device addresses, so a device backend replays the head's recorded graph. Prefill rows are bounded by
 * {@link Griffin#CHUNK_ROWS}.
 */
final class Workspaces implements AutoCloseable {
    private final Backend backend;
    private final ModelConfig config;
    /** Most recently used first; at most {@link #KEPT}. */
    private final List<Workspace> sets = new ArrayList<>(KEPT);
    /** Decode (batch rows), a full prefill chunk and the last, shorter chunk: a chunked prefill followed by decoding reallocates nothing. */
    private static final int KEPT = 3;
    /** Most recently used first (the first is the one in use); at most {@link #KEPT}, none above {@link #headRowsKeptBeside}. */
    private final List<HeadBuffers> heads = new ArrayList<>(KEPT);
    /**
     * The most rows a head set may have to stay beside one of {@code rows} rows in use. A 2B vocabulary makes a row's
     * logits 1 MB, so what is kept stays proportional to what is used: a server's decode batch of 64 and its shared
     * passes of 64 + the prompts beside them keep each other, but a prompt's every-token logits (a loss over 256 rows)
     * are dropped at the next decode step.
     */
    static int headRowsKeptBeside(int rows) {
        return 2 * rows + 16;
    }

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
        HeadBuffers found = null;
        for (int i = 0; i < heads.size() && found == null; i++) {
            if (heads.get(i).logits().rows() == rows) {
                found = heads.remove(i);
            }
        }
        // dropped before a new set is allocated, so the sets dropped and the new one are never held together
        dropHeadsAbove(headRowsKeptBeside(rows));
        if (found == null) {
            if (heads.size() == KEPT) {
                heads.removeLast().close();
            }
            found = new HeadBuffers(backend.allocate(rows, config.hiddenSize()), backend.allocate(rows, config.hiddenSize()),
                    backend.allocate(rows, config.vocabSize()));
        }
        heads.addFirst(found);
        return found;
    }

    /** Closes the kept head sets of more than {@code limit} rows. */
    private void dropHeadsAbove(int limit) {
        for (Iterator<HeadBuffers> it = heads.iterator(); it.hasNext(); ) {
            HeadBuffers h = it.next();
            if (h.logits().rows() > limit) {
                h.close();
                it.remove();
            }
        }
    }

    /** The row counts of the kept head buffers, most recently used first (for tests). */
    List<Integer> headRows() {
        return heads.stream().map(h -> h.logits().rows()).toList();
    }

    @Override
    public void close() {
        sets.forEach(Workspace::close);
        sets.clear();
        heads.forEach(HeadBuffers::close);
        heads.clear();
    }
}
