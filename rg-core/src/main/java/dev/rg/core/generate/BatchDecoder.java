package dev.rg.core.generate;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a changing set of sequences together, one token each per {@link #step()}: the engine of continuous
 * batching. A sequence is prefilled on its own (chunk by chunk, in a single-sequence {@link ModelState}) and then
 * {@link #join joins}; each step feeds every member the token set with {@link Slot#next(int)} in one batched
 * forward pass, so the weights are read once per step for the whole batch. Members may be at different
 * positions (see {@code SeqBatch}). A member {@link #leave leaves} when it is done and its slot is freed.
 *
 * <p>Joins and leaves take effect at the next step: when the membership changed, the batch state is rebuilt
 * with one {@link ModelState#copySequence} per member (the cost of a change is one state copy per member, a
 * step without a change copies nothing). The state of a member can be copied out at any time between steps,
 * e.g. to keep a finished conversation for later ({@link #copyOut}).
 *
 * <p>Not thread-safe: one thread (a scheduler) owns a decoder; the {@link Model} may be shared.
 */
public final class BatchDecoder implements AutoCloseable {
    private final Model model;
    private final int capacity;
    private final int vocab;
    private final List<Slot> members = new ArrayList<>();
    private final List<Slot> joining = new ArrayList<>();
    private ModelState batch;
    private boolean changed;
    private float[] logits = new float[0];
    private int[] ids = new int[0];
    private boolean closed;

    /**
     * One sequence in the decoder. Its {@link #row()} indexes the logits of the last {@link #step()}.
     */
    public static final class Slot {
        /** Its own state until it is merged into the batch state (then null). */
        private ModelState own;
        private int row = -1;
        private int next = -1;
        private int position;
        private boolean left;

        private Slot(ModelState own) {
            this.own = own;
            this.position = own.position(0);
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

    /** Sequences that are members or will be at the next step. */
    public int size() {
        return members.size() + joining.size();
    }

    /** Whether another sequence may join. */
    public boolean hasRoom() {
        return size() < capacity;
    }

    /**
     * Adds a prefilled sequence; it is decoded from the next step on.
     *
     * @param prefilled a single-sequence state that has processed the sequence so far (at least one token);
     *                  the decoder takes ownership and closes it
     * @throws IllegalStateException if the decoder is full
     */
    public Slot join(ModelState prefilled) {
        requireOpen();
        if (prefilled.batch() != 1) {
            throw new IllegalArgumentException("join takes a single-sequence state, got a batch of " + prefilled.batch());
        }
        if (!hasRoom()) {
            throw new IllegalStateException("the decoder is full (" + capacity + " sequences)");
        }
        Slot s = new Slot(prefilled);
        joining.add(s);
        changed = true;
        return s;
    }

    /** Removes a sequence (finished or cancelled); its slot is free from now on. Leaving twice is a no-op. */
    public void leave(Slot slot) {
        if (slot.left) {
            return;
        }
        slot.left = true;
        if (joining.remove(slot)) {
            slot.own.close();
            slot.own = null;
        } else {
            members.remove(slot);
        }
        changed = true;
    }

    /** Copies the current state of {@code slot} (a member, or joining) into sequence {@code to} of {@code dst}. */
    public void copyOut(Slot slot, ModelState dst, int to) {
        if (slot.left) {
            throw new IllegalStateException("the sequence has left the decoder");
        }
        if (slot.own != null) {
            dst.copySequence(slot.own, 0, to);
        } else {
            dst.copySequence(batch, slot.row, to);
        }
    }

    /**
     * Feeds every member the token set with {@link Slot#next(int)} and returns the logits, {@code vocab} floats
     * per member starting at {@code slot.row() * vocab}. The array is reused by the next step.
     *
     * @throws IllegalStateException if there are no members or a member has no next token
     */
    public float[] step() {
        Tensor out = stepOnBackend();
        model.backend().download(out, logits);
        return logits;
    }

    /**
     * Like {@link #step} but leaves the logits on the backend (row {@code slot.row()} per member; valid until the
     * next step), e.g. for {@link DeviceTopK}, which brings only the k largest per row across.
     */
    public Tensor stepOnBackend() {
        requireOpen();
        if (changed) {
            rebuild();
        }
        if (members.isEmpty()) {
            throw new IllegalStateException("no sequences to decode");
        }
        int n = members.size();
        for (int i = 0; i < n; i++) {
            Slot s = members.get(i);
            if (s.next < 0) {
                throw new IllegalStateException("sequence in row " + i + " has no next token");
            }
            ids[i] = s.next;
            s.next = -1;
        }
        Tensor out = model.griffin().forward(batch, ids, 1, Outputs.LAST);
        for (Slot s : members) {
            s.position++;
        }
        return out;
    }

    /** Applies joins and leaves: a fresh batch state holding exactly the members, in row order. */
    private void rebuild() {
        members.addAll(joining);
        joining.clear();
        changed = false;
        int n = members.size();
        if (n == 0) {
            closeBatch();
            return;
        }
        ModelState next = model.newState(n);
        for (int i = 0; i < n; i++) {
            Slot s = members.get(i);
            if (s.own != null) {
                next.copySequence(s.own, 0, i);
                s.own.close();
                s.own = null;
            } else {
                next.copySequence(batch, s.row, i);
            }
            s.row = i;
        }
        closeBatch();
        batch = next;
        if (ids.length != n) {
            ids = new int[n];
        }
        if (logits.length != n * vocab) {
            logits = new float[n * vocab];
        }
    }

    private void closeBatch() {
        if (batch != null) {
            batch.close();
            batch = null;
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the decoder is closed");
        }
    }

    /** Releases the batch state and the states of sequences still joining. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Slot s : joining) {
            s.own.close();
            s.own = null;
        }
        joining.clear();
        members.clear();
        closeBatch();
    }
}
