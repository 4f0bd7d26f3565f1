package dev.rg.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Chart.js configurations (plain JSON, no callbacks) for the report: per section, grouped bars of time,
 * GB/s, GFLOP/s, percent of the measured limit and speed-up over the reference, one bar per backend and format;
 * the end-to-end tokens/s; the change against a baseline. Animation is off so the charts are complete as soon
 * as they are created (the page's readiness hook and screenshots rely on it).
 */
final class ChartSpecs {
    /**
     * One chart.
     *
     * @param id     canvas id
     * @param config the Chart.js configuration
     */
    record Chart(String id, ObjectNode config) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private ChartSpecs() {}

    /** The charts of one section (empty when it has no results). */
    static List<Chart> forGroup(ReportModel model, String group) {
        List<Measurement> ms = model.group(group);
        if (ms.isEmpty()) {
            return List.of();
        }
        List<Chart> charts = new ArrayList<>();
        charts.add(bars(group + "-time", "Time per operation (log scale; lower is better)", "time per op (µs)", true, model, ms,
                Measurement::timeUs));
        charts.add(bars(group + "-gbs", "Memory throughput (GB/s of compulsory traffic)", "GB/s", false, model, ms,
                Measurement::gbPerS));
        charts.add(bars(group + "-gflops", "Compute (GFLOP/s)", "GFLOP/s", false, model, ms, Measurement::gflops));
        if (Groups.bandwidthBound(group)) {
            charts.add(bars(group + "-peak", "Percent of the measured memory-read bandwidth", "% of read probe", false, model, ms,
                    model::percentOfRead));
        } else {
            charts.add(bars(group + "-peak", "Percent of the measured f32 FMA rate", "% of FMA probe", false, model, ms,
                    model::percentOfFma));
        }
        boolean anySpeedUp = ms.stream().anyMatch(m -> model.speedUp(m).isPresent());
        if (anySpeedUp) {
            charts.add(bars(group + "-speedup", "Speed-up over the reference backend (log scale)", "x reference", true, model,
                    ms.stream().filter(m -> !m.backend().equals("reference")).toList(),
                    m -> model.speedUp(m).orElse(Double.NaN)));
        }
        return charts;
    }

    private static Chart bars(String id, String title, String axis, boolean log, ReportModel model, List<Measurement> ms,
            ToDoubleFunction<Measurement> value) {
        LinkedHashSet<String> labels = new LinkedHashSet<>();
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        for (Measurement m : ms) {
            String label = Groups.label(m);
            labels.add(label);
            series.computeIfAbsent(variant(model, m), k -> new LinkedHashMap<>()).put(label, Fmt.chart(value.applyAsDouble(m)));
        }
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("type", "bar");
        ObjectNode data = cfg.putObject("data");
        ArrayNode xs = data.putArray("labels");
        labels.forEach(l -> xs.add(multiline(l)));
        ArrayNode sets = data.putArray("datasets");
        int i = 0;
        for (Map.Entry<String, Map<String, Double>> s : series.entrySet()) {
            ObjectNode d = sets.addObject();
            d.put("label", s.getKey());
            String color = Colors.of(s.getKey(), i++);
            d.put("backgroundColor", color).put("borderColor", color).put("borderWidth", 1);
            ArrayNode vs = d.putArray("data");
            for (String l : labels) {
                Double v = s.getValue().get(l);
                if (v == null || (log && v <= 0)) {
                    vs.addNull();
                } else {
                    vs.add(v);
                }
            }
        }
        options(cfg, title, axis, log);
        return new Chart(id, cfg);
    }

    /** End-to-end prefill and decode tokens/s (median), one bar pair per run. */
    static List<Chart> endToEnd(ReportModel model) {
        if (model.endToEnd().isEmpty()) {
            return List.of();
        }
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("type", "bar");
        ObjectNode data = cfg.putObject("data");
        ArrayNode xs = data.putArray("labels");
        ArrayNode sets = data.putArray("datasets");
        ObjectNode pre = sets.addObject().put("label", "prefill tokens/s").put("backgroundColor", "hsl(30, 80%, 55%)");
        ObjectNode dec = sets.addObject().put("label", "decode tokens/s").put("backgroundColor", "hsl(210, 70%, 50%)");
        ArrayNode pv = pre.putArray("data");
        ArrayNode dv = dec.putArray("data");
        for (EndToEnd e : model.endToEnd()) {
            xs.add(multiline(e.label()));
            add(pv, Fmt.chart(e.prefill()[1]));
            add(dv, Fmt.chart(e.decode()[1]));
        }
        options(cfg, "rg bench: end-to-end tokens/s (median; log scale)", "tokens/s", true);
        return List.of(new Chart("e2e-tokens", cfg));
    }

    /** Percent change of time against the baseline, red when slower beyond the threshold, green when faster. */
    static List<Chart> comparison(ReportModel model) {
        List<Comparison.Delta> ds = model.comparison().stream().filter(d -> !Double.isNaN(d.change())).toList();
        if (ds.isEmpty()) {
            return List.of();
        }
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("type", "bar");
        ObjectNode data = cfg.putObject("data");
        ArrayNode xs = data.putArray("labels");
        ObjectNode set = data.putArray("datasets").addObject().put("label", "time change vs baseline (%)");
        ArrayNode vs = set.putArray("data");
        ArrayNode colors = set.putArray("backgroundColor");
        for (Comparison.Delta d : ds) {
            Measurement m = d.any();
            xs.add(multiline(Groups.label(m) + " [" + variant(model, m) + "]"));
            vs.add(Fmt.chart(d.change() * 100));
            colors.add(switch (d.status()) {
                case REGRESSION -> "hsl(0, 75%, 50%)";
                case IMPROVEMENT -> "hsl(130, 55%, 40%)";
                default -> "hsl(0, 0%, 65%)";
            });
        }
        options(cfg, "Change of time per op against the baseline (positive = slower)", "% change", false);
        // horizontal bars: the categories go on y, the values on x
        ObjectNode o = (ObjectNode) cfg.get("options");
        o.put("indexAxis", "y");
        ((ObjectNode) o.get("plugins").get("legend")).put("display", false);
        ObjectNode scales = o.putObject("scales");
        scales.putObject("x").put("type", "linear").putObject("title").put("display", true).put("text", "% change of time per op");
        scales.putObject("y").putObject("ticks").put("autoSkip", false);
        return List.of(new Chart("baseline-change", cfg));
    }

    private static void add(ArrayNode a, Double v) {
        if (v == null) {
            a.addNull();
        } else {
            a.add(v);
        }
    }

    private static void options(ObjectNode cfg, String title, String axis, boolean log) {
        ObjectNode o = cfg.putObject("options");
        o.put("animation", false).put("responsive", true).put("maintainAspectRatio", false);
        ObjectNode plugins = o.putObject("plugins");
        plugins.putObject("title").put("display", true).put("text", title).putObject("font").put("size", 14);
        plugins.putObject("legend").put("position", "bottom").putObject("labels").put("boxWidth", 12);
        ObjectNode scales = o.putObject("scales");
        ObjectNode y = scales.putObject("y");
        y.put("type", log ? "logarithmic" : "linear");
        y.putObject("title").put("display", true).put("text", axis);
        ObjectNode x = scales.putObject("x");
        x.putObject("ticks").put("autoSkip", false).put("maxRotation", 0);
    }

    /** "backend · format" (and the file when there are several), what one colour stands for. */
    static String variant(ReportModel model, Measurement m) {
        String v = m.backend() + (m.format().equals("-") ? "" : " · " + m.format()) + " · " + m.threads() + "t";
        return model.multipleSources() ? m.source() + ": " + v : v;
    }

    /**
     * Splits "shape (layer, layer)" / "op [preset]" into lines (Chart.js draws an array label as lines), one name
     * per line, so the x axis stays horizontal and readable.
     */
    private static ArrayNode multiline(String label) {
        ArrayNode lines = JSON.createArrayNode();
        int cut = label.indexOf(" (");
        if (cut < 0) {
            cut = label.indexOf(" [");
        }
        if (cut <= 0) {
            return lines.add(label);
        }
        lines.add(label.substring(0, cut));
        String rest = label.substring(cut + 1);
        if (rest.startsWith("(") && rest.endsWith(")")) {
            for (String part : rest.substring(1, rest.length() - 1).split(", ")) {
                lines.add(part);
            }
        } else {
            lines.add(rest);
        }
        return lines;
    }
}
