package dev.rg.api.backend;

/**
 * Describes the rows of an activation tensor: {@code batch} sequences of {@code length} tokens each, row
 * {@code b*length + t} holding token {@code t} of sequence {@code b} at absolute position
 * {@code startPositions[b] + t}. A prefill has {@code length} = prompt length (a continuation chunk starts
 * at a non-zero position); a decode step has {@code length == 1}. Sequences of a batch may be at different
 * positions. Positions are kernel arguments and cross to a device like token ids do.
 *
 * @param batch          number of sequences
 * @param length         tokens per sequence in this call
 * @param startPositions absolute position of each sequence's first token in this call
 */
public record SeqBatch(int batch, int length, int[] startPositions) {
    public SeqBatch {
        if (batch < 1 || length < 1) {
            throw new IllegalArgumentException("batch and length must be >= 1, got " + batch + " and " + length);
        }
        if (startPositions.length != batch) {
            throw new IllegalArgumentException(startPositions.length + " start positions for a batch of " + batch);
        }
        for (int p : startPositions) {
            if (p < 0) {
                throw new IllegalArgumentException("negative start position " + p);
            }
        }
        startPositions = startPositions.clone();
    }

    /** A single sequence of {@code length} tokens starting at {@code start}. */
    public static SeqBatch single(int start, int length) {
        return new SeqBatch(1, length, new int[] {start});
    }

    /** Total rows ({@code batch * length}). */
    public int rows() {
        return batch * length;
    }

    /** Absolute position of row {@code row}. */
    public int position(int row) {
        return startPositions[row / length] + row % length;
    }

    /** Start position of sequence {@code b}. */
    public int start(int b) {
        return startPositions[b];
    }

    @Override
    public int[] startPositions() {
        return startPositions.clone();
    }
}
