package dev.rg.api.backend;

import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;

/**
 * Shape checks shared by every backend's kernels, so that a wrong call fails the same clear way everywhere
 * (instead of reading out of bounds on a device).
 */
public final class KernelArgs {
    private KernelArgs() {}

    /** Fails unless {@code t} is {@code rows x cols}. */
    public static void shape(String what, Tensor t, int rows, int cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(what + " must be " + rows + "x" + cols + " but is " + t.rows() + "x" + t.cols());
        }
    }

    /**
     * Fails unless the state tensor {@code t} has {@code cols} columns and at least {@code batch} rows: a kernel
     * reads and writes the first {@code batch} rows (one per sequence of the call) and leaves the others
     * untouched, so a state allocated for more sequences can be advanced for a prefix of them.
     */
    public static void state(String what, Tensor t, int batch, int cols) {
        if (t.rows() < batch || t.cols() != cols) {
            throw new IllegalArgumentException(what + " must have at least " + batch + " rows of " + cols + " but is "
                    + t.rows() + "x" + t.cols());
        }
    }

    /** Fails unless {@code a} and {@code b} have the same shape. */
    public static void sameShape(String what, Tensor a, Tensor b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException(what + ": shapes differ, " + a.rows() + "x" + a.cols() + " vs "
                    + b.rows() + "x" + b.cols());
        }
    }

    /** Fails unless the weight has {@code count} elements in all. */
    public static void elements(String what, Weight w, long count) {
        if (w.shape().elementCount() != count) {
            throw new IllegalArgumentException(what + " '" + w.name() + "' must have " + count + " elements but has shape "
                    + w.shape());
        }
    }

    /** Checks a matmul: {@code x [N, in]}, {@code w [out, in]}, {@code bias [out]} or null, {@code out [N, out]}. */
    public static void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
        if (x.cols() != w.cols()) {
            throw new IllegalArgumentException("matmul: input has " + x.cols() + " columns but weight '" + w.name()
                    + "' " + w.shape() + " expects " + w.cols());
        }
        if (out.rows() != x.rows() || out.cols() != w.rows()) { // checked first: the message is built only on failure
            shape("matmul output for '" + w.name() + "'", out, x.rows(), w.rows());
        }
        if (bias != null) {
            elements("matmul bias", bias, w.rows());
        }
    }

    /** Checks that {@code seq} describes exactly the rows of {@code t}. */
    public static void rows(SeqBatch seq, Tensor t) {
        if (t.rows() != seq.rows()) {
            throw new IllegalArgumentException("tensor has " + t.rows() + " rows but the batch describes " + seq.rows()
                    + " (" + seq.batch() + " x " + seq.length() + ")");
        }
    }

    /** Checks token ids against the vocabulary size. */
    public static void ids(int[] ids, int vocab) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("token id " + ids[i] + " at index " + i + " is outside the vocabulary [0, "
                        + vocab + ")");
            }
        }
    }
}
