package dev.rg.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.TreeMap;

/**
 * The machine limits measured alongside a run (from its sidecar): best memory read GB/s and best f32 FMA
 * GFLOP/s, by thread count. A result is compared with the limit at its own thread count (the reference backend
 * with the single-thread one), or the nearest count measured.
 */
public record Peaks(Map<Integer, Double> readGbPerS, Map<Integer, Double> fmaGflops) {
    /** No probes. */
    public static final Peaks NONE = new Peaks(Map.of(), Map.of());

    /** Reads {@code probes.memory_read} and {@code probes.fma_f32} of a sidecar. */
    public static Peaks of(JsonNode sidecar) {
        if (sidecar == null) {
            return NONE;
        }
        return new Peaks(read(sidecar.path("probes").path("memory_read"), "best_gb_per_s"),
                read(sidecar.path("probes").path("fma_f32"), "best_gflops"));
    }

    private static Map<Integer, Double> read(JsonNode array, String field) {
        Map<Integer, Double> m = new TreeMap<>();
        for (JsonNode n : array) {
            if (n.has("threads") && n.has(field)) {
                m.put(n.get("threads").asInt(), n.get(field).asDouble());
            }
        }
        return m;
    }

    /** The read bandwidth at {@code threads} (NaN if unknown). */
    public double read(String threads) {
        return nearest(readGbPerS, threads);
    }

    /** The FMA rate at {@code threads} (NaN if unknown). */
    public double fma(String threads) {
        return nearest(fmaGflops, threads);
    }

    private static double nearest(Map<Integer, Double> m, String threads) {
        if (m.isEmpty()) {
            return Double.NaN;
        }
        int t;
        try {
            t = Integer.parseInt(threads);
        } catch (NumberFormatException e) {
            t = Integer.MAX_VALUE;
        }
        int best = -1;
        for (int k : m.keySet()) {
            if (best < 0 || Math.abs((long) k - t) < Math.abs((long) best - t)) {
                best = k;
            }
        }
        return m.get(best);
    }
}
