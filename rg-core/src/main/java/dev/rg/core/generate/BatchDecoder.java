package dev.rg.core.generate;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a changing set of sequences together, one token each per {@link #step()}: the engine of continuous
 * batching. A sequence is prefilled first (alone in a single-sequence {@link ModelState}, or as a row of a
 * {@link PrefillBatch}) and then {@link #join joins}; each step feeds every member the token set with
 * {@link Slot#next(int)} in one batched forward pass, so the weights are read once per step for the whole batch.
 * Members may be at different positions (see {@code SeqBatch}). A member {@link #leave leaves} when it is done and
 * its slot is freed.
 *
 * <p>In-place slots: the batch state is allocated once, for {@link #capacity()} sequences, and the members
 * always occupy its first rows, so a step runs over exactly the members ({@link ModelState#useFirst}) with no
 * copy and no gather. A join copies the prefilled state once into the first free row; a leave frees its row by
 * moving the last member's state into it (one sequence copy, none when the leaver is the last row). The other
 * members' states are never touched. Why compacted rows rather than a list of row indices: the kernels address
 * sequence b of a call at row b of the state, so an index list would need a gather/scatter of the active rows
 * every step (or an index argument in every backend's kernels); compaction costs at most one copy per leave.
 * The state of a member can be copied out at any time between steps, e.g. to keep a finished conversation
 * ({@link #copyOut}).
 *
 * <p>Not thread-safe: one thread (a scheduler) owns a decoder; the {@link Model} may be shared.
 */
public final class BatchDecoder implements AutoCloseable {
    private final Model model;
    private final int capacity;
    private final int vocab;
    /** Members in state-row order: member i lives in row i of {@link #batch}. */
    private final List<Slot> members = new ArrayList<>();
    private ModelState batch;
    private float[] logits = new float[0];
    private int[] ids = new int[0];
    private boolean closed;

    /**
     * One sequence in the decoder. Its {@link #row()} indexes the logits of the last {@link #step()}.
     */
    public static final class Slot {
        /** Its row in the batch state (it moves into the row of a member that leaves when it is the last row). */
        private int index;
        /** Its row in the logits of the last step (-1 before its first step). */
        private int row = -1;
        private int next = -1;
        private int position;
        private boolean left;

        private Slot(int index, int position) {
            this.index = index;
            this.position = position;
        }

        /** Sets the token this sequence is fed at the next step. */
        public void next(int token) {
            this.next = token;
        }

        /** The row of this sequence's logits in the array the last {@link #step()} returned; -1 before. */
        public int row() {
            return row;
        }

        /** Tokens this sequence has processed (the position its next token takes). */
        public int position() {
            return position;
        }

        /** Whether it has {@link BatchDecoder#leave left}. */
        public boolean left() {
            return left;
        }
    }

    /** @param capacity the most sequences decoded together (a join beyond it is refused) */
    public BatchDecoder(Model model, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.model = model;
        this.capacity = capacity;
        this.vocab = model.config().vocabSize();
    }

    /** The most sequences decoded together. */
    public int capacity() {
        return capacity;
    }

    /** Sequences that are members (decoded at the next step). */
    public int size() {
        return members.size();
    }

    /** Whether another sequence may join. */
    public boolean hasRoom() {
        return size() < capacity;
    }

    /**
     * Adds a prefilled sequence: its state is copied into the first free row of the batch state (allocated, for
     * {@link #capacity()} sequences, by the first join). It is decoded from the next step on.
     *
     * @param prefilled a single-sequence state that has processed the sequence so far (at least one token);
     *                  the decoder takes ownership and closes it
     * @throws IllegalStateException if the decoder is full
     */
    public Slot join(ModelState prefilled) {
        if (prefilled.capacity() != 1) {
            throw new IllegalArgumentException("join takes a single-sequence state, got one for " + prefilled.capacity());
        }
        Slot s = join(prefilled, 0);
        prefilled.close();
        return s;
    }

    /**
     * Adds a prefilled sequence that is row {@code sequence} of {@code src} (copied into the first free row; {@code src}
     * stays the caller's), e.g. a row of a {@link PrefillBatch}. It is decoded from the next step on.
     *
     * @throws IllegalStateException if the decoder is full
     */
    public Slot join(ModelState src, int sequence) {
        requireOpen();
        if (!hasRoom()) {
            throw new IllegalStateException("the decoder is full (" + capacity + " sequences)");
        }
        if (batch == null) {
            batch = model.newState(capacity);
        }
        int index = members.size();
        batch.copySequence(src, sequence, index);
        Slot s = new Slot(index, src.position(sequence));
        members.add(s);
        return s;
    }

    /**
     * Removes a sequence (finished or cancelled); its row is free from now on (the last member moves into it).
     * The logits rows of the last step stay as they were. Leaving twice is a no-op.
     */
    public void leave(Slot slot) {
        if (slot.left) {
            return;
        }
        slot.left = true;
        int last = members.size() - 1;
        if (slot.index != last) {
            Slot moved = members.get(last);
            batch.copySequence(batch, last, slot.index);
            moved.index = slot.index;
            members.set(slot.index, moved);
        }
        members.remove(last);
        slot.index = -1;
    }

    /** Copies the current state of {@code slot} (a member) into sequence {@code to} of {@code dst}. */
    public void copyOut(Slot slot, ModelState dst, int to) {
        if (slot.left) {
            throw new IllegalStateException("the sequence has left the decoder");
        }
        dst.copySequence(batch, slot.index, to);
    }

    /**
     * Feeds every member the token set with {@link Slot#next(int)} and returns the logits, {@code vocab} floats
     * per member starting at {@code slot.row() * vocab}. The array is reused by the next step.
     *
     * @throws IllegalStateException if there are no members or a member has no next token
     */
    public float[] step() {
        Tensor out = stepOnBackend();
        if (logits.length < out.size()) {
            logits = new float[capacity * vocab];
        }
        model.backend().download(out, logits);
        return logits;
    }

    /**
     * Like {@link #step} but leaves the logits on the backend (row {@code slot.row()} per member; valid until the
     * next step), e.g. for {@link DeviceTopK}, which brings only the k largest per row across.
     */
    public Tensor stepOnBackend() {
        Griffin.Part part = stepPart();
        Tensor out = model.griffin().forward(part.state(), part.ids(), 1, Outputs.LAST);
        stepped(0);
        return out;
    }

    /** The model this decoder runs (a {@link SharedPass} needs its prefill batch's to be the same). */
    Model model() {
        return model;
    }

    /**
     * The next step as a part of a forward pass (the members' next tokens; the state set to the members), for
     * {@link #stepOnBackend} or a {@link SharedPass}; {@link #stepped} completes it once the pass has run.
     */
    Griffin.Part stepPart() {
        requireOpen();
        if (members.isEmpty()) {
            throw new IllegalStateException("no sequences to decode");
        }
        int n = members.size();
        if (ids.length != n) {
            ids = new int[n];
        }
        for (int i = 0; i < n; i++) {
            Slot s = members.get(i);
            if (s.next < 0) {
                throw new IllegalStateException("sequence in row " + i + " has no next token");
            }
            ids[i] = s.next;
        }
        for (Slot s : members) {
            s.next = -1;
        }
        batch.useFirst(n);
        return new Griffin.Part(batch, ids, 1);
    }

    /** After the pass of {@link #stepPart}: each member's logits are row {@code firstRow + its row} of the pass's. */
    void stepped(int firstRow) {
        for (Slot s : members) {
            s.row = firstRow + s.index;
            s.position++;
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the decoder is closed");
        }
    }

    /** Releases the batch state. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        members.clear();
        if (batch != null) {
            batch.close();
            batch = null;
        }
    }
}
