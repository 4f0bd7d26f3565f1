package dev.rg.core.generate;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Prefills several prompts together, the prefill half of continuous batching ({@link BatchDecoder} is the decode
 * half). Each prompt is a {@link Row} of one multi-sequence state; {@link #advance} feeds every row the same number
 * of its next prompt tokens in one forward pass, so the weights are read once for all of them instead of once per
 * prompt. Rows keep their own positions, so a prompt resumed mid-way (from a kept state) prefills beside fresh ones.
 * A row whose prompt is fed is {@link #handOver handed over} to a decoder (or {@link #leave left}); the others
 * carry on.
 *
 * <p>Why one length for all rows: the forward pass takes {@code length} tokens of every sequence of its state. The
 * caller picks that length per round with {@link #chunk}: never past the shortest remaining prompt (so a row that
 * finishes leaves at once and starts decoding) and within a token budget.
 *
 * <p>Rows are kept like {@link BatchDecoder}'s slots: the state is allocated once for {@link #capacity()} rows, the
 * members occupy its first rows ({@link ModelState#useFirst}), a join copies one sequence into the first free row
 * (a fresh prompt copies a zero state, so stale rows never leak) and a leave moves the last member into the freed
 * row. The other members' states are never touched, so each row's state and logits are exactly those of the same
 * prompt prefilled alone in the same chunks wherever the backend computes each row independently of how many rows
 * a call has: bit for bit on the reference backend ({@code PrefillBatchTest}). The vector backend's matmul tiles
 * sum in an order that depends on the row count, so there a row matches its solo prefill within the conformance
 * kit's kernel tolerance (the server's {@code BatchedPrefillExactnessTest}), as batched decode does.
 *
 * <p>Not thread-safe: one thread (a scheduler) owns it; the {@link Model} may be shared.
 */
public final class PrefillBatch implements AutoCloseable {
    private final Model model;
    private final int capacity;
    /** Members in state-row order: member i lives in row i of {@link #batch}. */
    private final List<Row> members = new ArrayList<>();
    private ModelState batch;
    /** A single sequence at position 0 with zero state: what a fresh prompt's row is reset to. */
    private ModelState zero;
    private boolean closed;

    /** One prompt being prefilled. */
    public static final class Row {
        private final int[] tokens;
        private int fed;
        /** Its row in the batch state (it moves into the row of a member that leaves when it is the last row). */
        private int index;
        /** Its row in the logits of the last {@link #advance} (-1 before its first). */
        private int row = -1;
        private boolean left;
        /** Positions in {@link #tokens} where a round stops so that the state there can be kept (ascending). */
        private int[] marks = new int[0];
        private int nextMark;

        private Row(int[] tokens, int index) {
            this.tokens = tokens;
            this.index = index;
        }

        /** Tokens of its prompt still to feed. */
        public int remaining() {
            return tokens.length - fed;
        }

        /**
         * Makes rounds stop after {@code positions} tokens of this row's prompt (those between what is fed and its end,
         * ascending), so that the caller can keep the state there ({@link #atMark}, {@link PrefillBatch#copyOut}): a
         * prefix that other prompts share. A round's chunk is the same for every row, so a mark can shorten the others'
         * round too, once.
         */
        public void stopAt(int... positions) {
            int[] sorted = Arrays.stream(positions).filter(p -> p > fed && p < tokens.length).sorted().distinct().toArray();
            marks = sorted;
            nextMark = 0;
        }

        /** Whether the last round stopped at one of {@link #stopAt}'s positions; {@link #passMark} moves on. */
        public boolean atMark() {
            return nextMark < marks.length && fed == marks[nextMark];
        }

        /** Past the mark {@link #atMark} reported: rounds go on to the next mark or the end. */
        public void passMark() {
            if (atMark()) {
                nextMark++;
            }
        }

        /** Tokens fed so far. */
        public int fed() {
            return fed;
        }

        /** Tokens until its next mark, or its end. */
        int untilMark() {
            while (nextMark < marks.length && marks[nextMark] < fed) {
                nextMark++; // fed past it (through decode steps or a chunk that did not stop)
            }
            return (nextMark < marks.length && marks[nextMark] > fed ? marks[nextMark] : tokens.length) - fed;
        }

        /** Its prompt tokens still to feed (a copy). */
        public int[] remainingTokens() {
            return Arrays.copyOfRange(tokens, fed, tokens.length);
        }

        /** Whether its whole prompt has been fed (its logits of the last advance predict the first new token). */
        public boolean done() {
            return fed == tokens.length;
        }

        /** Its row in the logits tensor the last {@link PrefillBatch#advance} returned; -1 before. */
        public int row() {
            return row;
        }

        /** Whether it has left the batch (handed over or dropped). */
        public boolean left() {
            return left;
        }
    }

    /** @param capacity the most prompts prefilled together (a join beyond it is refused) */
    public PrefillBatch(Model model, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.model = model;
        this.capacity = capacity;
    }

    public int capacity() {
        return capacity;
    }

    /** Prompts being prefilled. */
    public int size() {
        return members.size();
    }

    public boolean hasRoom() {
        return size() < capacity;
    }

    /** Adds a prompt that starts from scratch (position 0): {@code tokens} is the whole prompt. */
    public Row join(int[] tokens) {
        return add(tokens, null, 0);
    }

    /**
     * Adds a prompt that resumes from sequence {@code sequence} of {@code from} (copied; {@code from} stays the
     * caller's), e.g. a kept conversation state: {@code tokens} are the tokens that follow what that state has seen.
     */
    public Row join(int[] tokens, ModelState from, int sequence) {
        return add(tokens, from, sequence);
    }

    private Row add(int[] tokens, ModelState from, int sequence) {
        requireOpen();
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a prompt to prefill needs at least one token");
        }
        if (!hasRoom()) {
            throw new IllegalStateException("the prefill batch is full (" + capacity + " prompts)");
        }
        if (batch == null) {
            batch = model.newState(capacity);
        }
        int index = members.size();
        if (from == null) {
            if (zero == null) {
                zero = model.newState(1);
            }
            batch.copySequence(zero, 0, index);
        } else {
            batch.copySequence(from, sequence, index);
        }
        Row r = new Row(tokens.clone(), index);
        members.add(r);
        return r;
    }

    /**
     * The tokens per row for the next {@link #advance} within {@code budget} token-rows in all: the budget shared
     * by the rows, never more than the shortest remaining prompt nor past a row's next {@linkplain Row#stopAt mark},
     * at least one.
     */
    public int chunk(int budget) {
        if (members.isEmpty()) {
            throw new IllegalStateException("no prompts to prefill");
        }
        int shortest = Integer.MAX_VALUE;
        for (Row r : members) {
            shortest = Math.min(shortest, r.untilMark());
        }
        return Math.max(1, Math.min(shortest, budget / members.size()));
    }

    /**
     * Feeds every member its next {@code length} prompt tokens in one forward pass and returns the logits of each
     * member's last fed token: row {@link Row#row()} of the tensor (on the backend; valid until the next advance,
     * and not disturbed by leaves).
     *
     * @throws IllegalArgumentException if a member has fewer than {@code length} tokens left
     */
    public Tensor advance(int length) {
        Griffin.Part part = advancePart(length);
        Tensor out = model.griffin().forward(part.state(), part.ids(), length, Outputs.LAST);
        advanced(length, 0);
        return out;
    }

    /** The model this batch runs. */
    Model model() {
        return model;
    }

    /**
     * The next {@code length} prompt tokens of every member as a part of a forward pass (the state set to the
     * members), for {@link #advance} or a {@link SharedPass}; {@link #advanced} completes it once the pass has run.
     */
    Griffin.Part advancePart(int length) {
        requireOpen();
        if (members.isEmpty()) {
            throw new IllegalStateException("no prompts to prefill");
        }
        int n = members.size();
        int[] ids = new int[n * length];
        for (int i = 0; i < n; i++) {
            Row r = members.get(i);
            if (length < 1 || length > r.remaining()) {
                throw new IllegalArgumentException("chunk of " + length + " tokens, but the prompt in row " + i + " has "
                        + r.remaining() + " left");
            }
            System.arraycopy(r.tokens, r.fed, ids, i * length, length);
        }
        batch.useFirst(n);
        return new Griffin.Part(batch, ids, length);
    }

    /** After the pass of {@link #advancePart}: each member's logits are row {@code firstRow + its row} of the pass's. */
    void advanced(int length, int firstRow) {
        for (Row r : members) {
            r.fed += length;
            r.row = firstRow + r.index;
        }
    }

    /** Copies the current state of {@code row} (a member) into sequence {@code to} of {@code dst}. */
    public void copyOut(Row row, ModelState dst, int to) {
        requireMember(row);
        dst.copySequence(batch, row.index, to);
    }

    /** Moves a fully prefilled row into {@code decoder} (which decodes it from its next step) and removes it here. */
    public BatchDecoder.Slot handOver(Row row, BatchDecoder decoder) {
        requireMember(row);
        if (!row.done()) {
            throw new IllegalStateException("the prompt has " + row.remaining() + " tokens left to prefill");
        }
        return handOverUnfinished(row, decoder);
    }

    /**
     * Copies a fully prefilled row into {@code decoder} as one more member and keeps it here: several continuations of one
     * prompt (a request's {@code n} choices) share its prefill, each decoding from its own copy of the state. The row
     * still has to be {@link #handOver handed over} or {@link #leave left}.
     */
    public BatchDecoder.Slot fork(Row row, BatchDecoder decoder) {
        requireMember(row);
        if (!row.done()) {
            throw new IllegalStateException("the prompt has " + row.remaining() + " tokens left to prefill");
        }
        return decoder.join(batch, row.index);
    }

    /**
     * Moves a row into {@code decoder} before its prompt is fed (possibly before any of it is: a fresh row starts at
     * position 0) and removes it here. The caller feeds {@link Row#remainingTokens()} (read before this call) through
     * the decoder's steps, one per step, ignoring the logits until the last: the prompt's tail then costs a row of each
     * step instead of a prefill pass between steps.
     */
    public BatchDecoder.Slot handOverUnfinished(Row row, BatchDecoder decoder) {
        requireMember(row);
        BatchDecoder.Slot slot = decoder.join(batch, row.index);
        leave(row);
        return slot;
    }

    /** Removes a row (handed over or cancelled); the last member moves into its row. Leaving twice is a no-op. */
    public void leave(Row row) {
        if (row.left) {
            return;
        }
        row.left = true;
        int last = members.size() - 1;
        if (row.index != last) {
            Row moved = members.get(last);
            batch.copySequence(batch, last, row.index);
            moved.index = row.index;
            members.set(row.index, moved);
        }
        members.remove(last);
        row.index = -1;
    }

    private void requireMember(Row row) {
        requireOpen();
        if (row.left) {
            throw new IllegalStateException("the prompt has left the prefill batch");
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the prefill batch is closed");
        }
    }

    /** Releases the states. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Row r : members) {
            r.left = true;
        }
        members.clear();
        for (ModelState s : Arrays.asList(batch, zero)) {
            if (s != null) {
                s.close();
            }
        }
        batch = null;
        zero = null;
    }
}
