package dev.rg.core.model;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fixed-size state of {@code batch} sequences, resident on the backend: per recurrent layer the conv1d
 * history ({@code (K-1) x R}) and the float32 RG-LRU state ({@code R}); per attention layer a key and a value
 * ring of W slots. Its size never depends on how many tokens were processed. Not thread-safe: one state
 * belongs to one generation at a time.
 *
 * <p>A state is allocated for {@link #capacity()} sequences; a forward call feeds the first {@link #batch()} of
 * them (all, unless {@link #useFirst} says fewer) and leaves the other rows untouched. A continuous-batching
 * decoder keeps its active sequences in the first rows and changes the count as they join and leave, without
 * reallocating or copying the others.
 */
public final class ModelState implements AutoCloseable {
    /** The model's kernels: the backend's with the per-op fallback, as the forward pass uses them. */
    private final Kernels kernels;
    private final int capacity;
    private int batch;
    private final int[] positions;
    private final Tensor[] conv;
    private final Tensor[] lru;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final Workspaces workspaces;

    ModelState(Backend backend, Kernels kernels, ModelConfig config, AttentionSpec spec, int batch) {
        this.kernels = kernels;
        this.capacity = batch;
        this.batch = batch;
        this.positions = new int[batch];
        int layers = config.layers();
        conv = new Tensor[layers];
        lru = new Tensor[layers];
        keys = new Tensor[layers];
        values = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            if (config.blockType(l) == BlockType.RECURRENT) {
                conv[l] = backend.allocate(batch, (config.convWidth() - 1) * config.lruWidth());
                lru[l] = backend.allocate(batch, config.lruWidth());
            } else {
                keys[l] = backend.allocate(batch, spec.cacheCols());
                values[l] = backend.allocate(batch, spec.cacheCols());
            }
        }
        workspaces = new Workspaces(backend, config);
    }

    /** Sequences a forward call feeds: the first {@code batch()} rows. */
    public int batch() {
        return batch;
    }

    /** Sequences the state holds (rows allocated). */
    public int capacity() {
        return capacity;
    }

    /**
     * From now on forward calls feed only the first {@code sequences} rows (their positions advance, the other
     * rows keep their state and position).
     */
    public void useFirst(int sequences) {
        if (sequences < 1 || sequences > capacity) {
            throw new IllegalArgumentException("sequences must be in 1.." + capacity + ", got " + sequences);
        }
        this.batch = sequences;
    }

    /** The absolute position the next token of sequence {@code b} will take (= tokens seen so far). */
    public int position(int b) {
        return positions[b];
    }

    /** Positions of the sequences a forward call feeds (the first {@link #batch()}). */
    public int[] positions() {
        return Arrays.copyOf(positions, batch);
    }

    /** Sets the position of sequence {@code b} (a restored state: {@link SavedState}). */
    void setPosition(int b, int position) {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        positions[b] = position;
    }

    void advance(int tokens) {
        for (int b = 0; b < batch; b++) {
            positions[b] = Math.addExact(positions[b], tokens);
        }
    }

    /** Forgets everything: every sequence starts again at position 0 with zero state. */
    public void reset() {
        Arrays.fill(positions, 0);
        for (Tensor t : all()) {
            kernels.fill(t, 0f);
        }
    }

    /**
     * Copies sequence {@code from} of {@code src} into slot {@code to} of this state (same model), e.g. to
     * decode together sequences that were prefilled separately.
     */
    public void copySequence(ModelState src, int from, int to) {
        if (from < 0 || from >= src.capacity || to < 0 || to >= capacity) {
            throw new IndexOutOfBoundsException("copySequence from " + from + " of " + src.capacity + " to " + to + " of "
                    + capacity);
        }
        List<Tensor> mine = all();
        List<Tensor> theirs = src.all();
        for (int i = 0; i < mine.size(); i++) {
            kernels.copyRows(theirs.get(i), from, mine.get(i), to, 1);
        }
        positions[to] = src.positions[from];
    }

    Tensor conv(int layer) {
        return conv[layer];
    }

    Tensor lru(int layer) {
        return lru[layer];
    }

    Tensor keys(int layer) {
        return keys[layer];
    }

    Tensor values(int layer) {
        return values[layer];
    }

    Workspaces workspaces() {
        return workspaces;
    }

    /** The state tensors (for inspection and tests: their number and sizes are fixed). */
    public List<Tensor> all() {
        List<Tensor> out = new ArrayList<>();
        for (Tensor[] group : List.of(conv, lru, keys, values)) {
            for (Tensor t : group) {
                if (t != null) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    /** Bytes of state (float32). */
    public long stateBytes() {
        long n = 0;
        for (Tensor t : all()) {
            n += t.size() * 4;
        }
        return n;
    }

    @Override
    public void close() {
        for (Tensor t : all()) {
            t.close();
        }
        workspaces.close();
    }
}
