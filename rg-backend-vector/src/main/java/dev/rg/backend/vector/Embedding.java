package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import jdk.incubator.vector.FloatVector;

/** {@code out[r] = table[ids[r]] * scale}: one dequantised row per token, read in place from the table. */
final class Embedding {
    private Embedding() {}

    static void run(int[] ids, VectorWeight table, float scale, float[] out) {
        int h = table.cols();
        RowDot dot = table.dot();
        for (int r = 0; r < ids.length; r++) {
            int b = r * h;
            dot.dequantizeRow(table, ids[r], out, b);
            int c = 0;
            for (int bound = h - L; c <= bound; c += L) {
                FloatVector.fromArray(F, out, b + c).mul(scale).intoArray(out, b + c);
            }
            for (; c < h; c++) {
                out[b + c] *= scale;
            }
        }
    }
}
