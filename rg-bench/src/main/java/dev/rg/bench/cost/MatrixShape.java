package dev.rg.bench.cost;

import java.util.Locale;

/**
 * The shape of a linear layer's weight as PyTorch stores it, {@code [out, in]}, written {@code "OUTxIN"} in
 * benchmark parameters (e.g. {@code "7680x2560"} is the 2B MLP's gate/up projection: 2560 inputs, 7680
 * outputs). One spelling everywhere, so the report never has to guess which side is which.
 *
 * @param out output features (weight rows)
 * @param in  input features (weight columns)
 */
public record MatrixShape(int out, int in) {
    public MatrixShape {
        if (out < 1 || in < 1) {
            throw new IllegalArgumentException("matrix shape must be positive, got " + out + "x" + in);
        }
    }

    /** Parses {@code "OUTxIN"}. */
    public static MatrixShape parse(String s) {
        String[] p = s.trim().toLowerCase(Locale.ROOT).split("x");
        if (p.length != 2) {
            throw new IllegalArgumentException("matrix shape must be OUTxIN (e.g. 2560x7680), got '" + s + "'");
        }
        return new MatrixShape(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
    }

    /** Weight elements. */
    public long elements() {
        return (long) out * in;
    }

    @Override
    public String toString() {
        return out + "x" + in;
    }
}
