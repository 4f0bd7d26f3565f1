package dev.rg.bench.cost;

import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The distinct linear-layer shapes of a RecurrentGemma architecture, each with the layers that have it, so
 * a matmul benchmark of {@code 2560x2560} reads as "linear_x/y/out, q/o proj" in the report.
 */
public final class LayerShapes {
    /** A weight shape and the layers that use it; {@code head} marks the LM head (decode only: one position). */
    public record Entry(MatrixShape shape, String layers, boolean head) {}

    private LayerShapes() {}

    /**
     * The shapes of {@code c}: every linear layer plus the transposed k/v shape (a tall-skinny case the 2B model
     * lacks but a backend's tiling must still handle) and the LM head.
     */
    public static List<Entry> of(ModelConfig c) {
        int h = c.hiddenSize();
        int r = c.lruWidth();
        int m = c.mlpWidth();
        int q = c.heads() * c.headDim();
        int kv = c.kvHeads() * c.headDim();
        Map<MatrixShape, List<String>> named = new LinkedHashMap<>();
        add(named, new MatrixShape(r, h), "linear_x/y");
        add(named, new MatrixShape(h, r), "linear_out");
        add(named, new MatrixShape(q, h), "q_proj");
        add(named, new MatrixShape(h, q), "o_proj");
        add(named, new MatrixShape(m, h), "MLP gate/up");
        add(named, new MatrixShape(h, m), "MLP down");
        add(named, new MatrixShape(kv, h), "k/v proj");
        add(named, new MatrixShape(h, kv), "k/v transposed");
        List<Entry> out = new ArrayList<>();
        named.forEach((s, names) -> out.add(new Entry(s, String.join(", ", names), false)));
        out.add(new Entry(new MatrixShape(c.vocabSize(), h), "LM head", true));
        return out;
    }

    private static void add(Map<MatrixShape, List<String>> named, MatrixShape s, String name) {
        named.computeIfAbsent(s, k -> new ArrayList<>()).add(name);
    }

    /**
     * The layers a shape string belongs to in the 2b, tiny or 9b preset (first match: the profiles use 2b and tiny,
     * and tiny's LM head has the shape of 9b's transposed k/v), or "" if none.
     */
    public static String label(String shape) {
        MatrixShape s;
        try {
            s = MatrixShape.parse(shape);
        } catch (IllegalArgumentException e) {
            return "";
        }
        for (String preset : List.of("2b", "tiny", "9b")) {
            for (Entry e : of(ModelConfig.preset(preset))) {
                if (e.shape().equals(s)) {
                    return e.layers();
                }
            }
        }
        return "";
    }
}
