package dev.rg.bench.report;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.bench.cost.CostModel;
import dev.rg.bench.cost.OpCost;
import dev.rg.bench.run.Sidecar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads JMH JSON results (with their sidecars) and {@code rg bench --json} output, which may be one object,
 * an array of them, or several objects one after another (e.g. appended by a loop in a shell script).
 */
public final class ResultLoader {
    private final ObjectMapper json = new ObjectMapper();

    /** What one input file held. */
    public record Loaded(List<RunData> runs, List<EndToEnd> endToEnd) {}

    /** Reads a file of either kind, deciding by its content. */
    public Loaded load(Path file) throws IOException {
        List<JsonNode> roots = roots(file);
        if (roots.size() == 1 && roots.get(0).isArray() && !roots.get(0).isEmpty() && roots.get(0).get(0).has("primaryMetric")) {
            return new Loaded(List.of(jmh(file, roots.get(0))), List.of());
        }
        if (roots.size() == 1 && roots.get(0).isArray() && roots.get(0).isEmpty()) {
            return new Loaded(List.of(new RunData(label(file), List.of(), sidecar(file))), List.of());
        }
        List<EndToEnd> e2e = rgBench(file, roots);
        return new Loaded(List.of(), e2e);
    }

    /** Reads {@code rg bench --json} objects; fails on anything else. */
    public List<EndToEnd> loadRgBench(Path file) throws IOException {
        return rgBench(file, roots(file));
    }

    private List<EndToEnd> rgBench(Path file, List<JsonNode> roots) {
        List<EndToEnd> out = new ArrayList<>();
        for (JsonNode root : roots) {
            for (JsonNode n : root.isArray() ? root : List.of(root)) {
                if (!EndToEnd.accepts(n)) {
                    throw new IllegalArgumentException(file + ": neither JMH results (an array of objects with "
                            + "'primaryMetric') nor 'rg bench --json' output (objects with 'decode_tokens_per_s')");
                }
                out.add(EndToEnd.of(label(file), n));
            }
        }
        return out;
    }

    private List<JsonNode> roots(Path file) throws IOException {
        List<JsonNode> roots = new ArrayList<>();
        // a parser, not readValues(): that would unwrap a root array into its elements
        try (JsonParser p = json.getFactory().createParser(file.toFile())) {
            for (JsonNode n = json.readTree(p); n != null; n = json.readTree(p)) {
                roots.add(n);
            }
        }
        if (roots.isEmpty()) {
            throw new IllegalArgumentException(file + " is empty");
        }
        return roots;
    }

    private RunData jmh(Path file, JsonNode array) throws IOException {
        JsonNode side = sidecar(file);
        Map<String, OpCost> costs = new HashMap<>();
        if (side != null) {
            for (JsonNode c : side.path("costs")) {
                costs.put(key(c.path("benchmark").asText(), params(c.path("params"))),
                        new OpCost(c.path("flops").asDouble(), c.path("bytes").asDouble()));
            }
        }
        List<Measurement> out = new ArrayList<>();
        for (JsonNode r : array) {
            String benchmark = r.path("benchmark").asText();
            Map<String, String> params = params(r.path("params"));
            JsonNode pm = r.path("primaryMetric");
            double scale = toMicros(r.path("mode").asText(), pm.path("scoreUnit").asText());
            double score = pm.path("score").asDouble();
            double error = pm.path("scoreError").asDouble(Double.NaN);
            boolean throughput = isThroughput(pm.path("scoreUnit").asText());
            double timeUs = throughput ? scale / score : score * scale;
            // a rate's error maps to a time error to first order
            double errorUs = throughput ? timeUs * error / score : error * scale;
            OpCost cost = costs.get(key(benchmark, params));
            if (cost == null) {
                cost = CostModel.of(benchmark, params).orElse(null);
            }
            out.add(new Measurement(label(file), benchmark, params, timeUs, errorUs, cost));
        }
        return new RunData(label(file), out, side);
    }

    private JsonNode sidecar(Path file) throws IOException {
        Path s = Sidecar.of(file);
        return Files.isRegularFile(s) ? json.readTree(s.toFile()) : null;
    }

    private static Map<String, String> params(JsonNode p) {
        Map<String, String> m = new TreeMap<>();
        p.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
        return m;
    }

    private static String key(String benchmark, Map<String, String> params) {
        return benchmark + " " + new TreeMap<>(params);
    }

    private static boolean isThroughput(String unit) {
        return unit.startsWith("ops/");
    }

    /** Microseconds per unit of a JMH score unit ("us/op", "ms/op", "ops/s", ...). */
    static double toMicros(String mode, String unit) {
        String u = unit.toLowerCase(Locale.ROOT);
        String time = isThroughput(u) ? u.substring(4) : u.substring(0, Math.max(0, u.indexOf('/')));
        return switch (time) {
            case "ns" -> 1e-3;
            case "us" -> 1;
            case "ms" -> 1e3;
            case "s" -> 1e6;
            case "min" -> 60e6;
            default -> throw new IllegalArgumentException("unsupported JMH score unit '" + unit + "' (mode " + mode + ")");
        };
    }

    /** The file name, shown as the run's label. */
    static String label(Path file) {
        return file.getFileName().toString();
    }
}
