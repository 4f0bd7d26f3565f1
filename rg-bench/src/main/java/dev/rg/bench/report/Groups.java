package dev.rg.bench.report;

import dev.rg.bench.cost.LayerShapes;
import java.util.List;
import java.util.Map;

/** The report's sections: which benchmark belongs where, section titles, and the x-axis label of a result. */
final class Groups {
    /** Section order. */
    static final List<String> ORDER = List.of("matvec", "batch", "prefill", "kernels", "layers", "decode", "other");

    private static final Map<String, String> TITLES = Map.of(
            "matvec", "Matrix x vector (decode, one token)",
            "batch", "Batched decode (B sequences, each weight read once for all)",
            "prefill", "Matrix x matrix (prefill chunk)",
            "kernels", "Kernels (one token; the RG-LRU scan over a prompt)",
            "layers", "Layers (pre-norm + block + residual add)",
            "decode", "Whole decode step (random-weight model)",
            "other", "Other benchmarks");

    private Groups() {}

    /** The section of a benchmark, from its class and method. */
    static String of(String benchmark) {
        String op = op(benchmark);
        if (benchmark.contains("MatmulBench")) {
            return op.equals("prefill") || op.equals("batch") ? op : "matvec";
        }
        if (benchmark.contains("KernelBench")) {
            return "kernels";
        }
        if (benchmark.contains("LayerBench")) {
            return "layers";
        }
        if (benchmark.contains("DecodeBench")) {
            return "decode";
        }
        return "other";
    }

    static String title(String group) {
        return TITLES.getOrDefault(group, group);
    }

    /** The method name of a fully qualified benchmark. */
    static String op(String benchmark) {
        return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }

    /** Whether the section is limited by memory (one token) rather than by arithmetic (a prompt chunk). */
    static boolean bandwidthBound(String group) {
        return !group.equals("prefill");
    }

    /** What a result is, on a chart's x axis: the shape and its layers, the kernel, the block and its tokens. */
    static String label(Measurement m) {
        Map<String, String> p = m.params();
        String op = op(m.benchmark());
        return switch (m.group()) {
            case "matvec", "prefill", "batch" -> {
                String shape = p.getOrDefault("shape", "?");
                String layers = LayerShapes.label(shape);
                String n = switch (m.group()) {
                    case "prefill" -> " N=" + p.getOrDefault("tokens", "?");
                    case "batch" -> " B=" + p.getOrDefault("rows", "?");
                    default -> "";
                };
                yield shape + n + (layers.isEmpty() ? "" : " (" + layers + ")");
            }
            case "kernels" -> op + (p.containsKey("tokens") ? " N=" + p.get("tokens") : "") + " [" + p.getOrDefault("preset", "?") + "]";
            case "layers" -> op + " N=" + p.getOrDefault("tokens", "?") + " [" + p.getOrDefault("preset", "?") + "]";
            case "decode" -> "decode step [" + p.getOrDefault("preset", "?") + "]";
            default -> op + " " + p;
        };
    }
}
