package dev.rg.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/** The report's tables, shared by the HTML and Markdown renderers. */
final class Tables {
    private Tables() {}

    /** One column per run (and the baseline): machine, JDK, flags, profile, probes, backends. */
    static Table machines(ReportModel model) {
        List<RunData> runs = new ArrayList<>(model.runs());
        if (model.baseline() != null) {
            runs.add(model.baseline());
        }
        Table.Builder t = new Table.Builder().text("");
        for (RunData r : runs) {
            t.text(r == model.baseline() ? "baseline: " + r.label() : r.label());
        }
        Map<String, List<String>> rows = new LinkedHashMap<>();
        for (RunData r : runs) {
            JsonNode s = r.sidecar();
            JsonNode m = s == null ? null : s.path("machine");
            put(rows, "CPU", text(m, "cpu_model"), runs.size());
            put(rows, "SIMD", text(m, "cpu_flags_simd"), runs.size());
            put(rows, "cores / memory", m == null ? "" : m.path("cores").asText() + " cores, "
                    + String.format(Locale.ROOT, "%.0f GiB", m.path("memory_total_gib").asDouble()), runs.size());
            put(rows, "OS", text(m, "os"), runs.size());
            put(rows, "JDK", m == null ? "" : text(m, "jdk_version") + " (" + text(m, "vm_name") + ", " + text(m, "jdk_vendor") + ")",
                    runs.size());
            put(rows, "measurement JVM flags", m == null ? "" : flags(m), runs.size());
            put(rows, "profile", s == null ? "" : s.path("run").path("profile").asText() + ", "
                    + Fmt.sig(s.path("run").path("wall_seconds").asDouble()) + " s, started " + s.path("run").path("started").asText(),
                    runs.size());
            put(rows, "memory read (best)", probes(s, "memory_read", "best_gb_per_s", " GB/s"), runs.size());
            put(rows, "f32 FMA (best)", probes(s, "fma_f32", "best_gflops", " GFLOP/s"), runs.size());
            put(rows, "other load during the run", load(s), runs.size());
            put(rows, "backends", s == null ? "" : backends(s.path("backends")), runs.size());
            put(rows, "results", r.measurements().size() + (s == null ? " (no sidecar: no probes)" : "")
                    + (s != null && s.path("failures").size() > 0 ? ", " + s.path("failures").size() + " FAILED" : ""), runs.size());
        }
        rows.forEach((k, v) -> {
            List<String> cells = new ArrayList<>();
            cells.add(k);
            cells.addAll(v);
            t.row(cells);
        });
        return t.build();
    }

    private static void put(Map<String, List<String>> rows, String key, String value, int columns) {
        rows.computeIfAbsent(key, k -> new ArrayList<>(columns)).add(value);
    }

    private static String text(JsonNode n, String field) {
        return n == null ? "" : n.path(field).asText("");
    }

    private static String flags(JsonNode m) {
        JsonNode fork = m.path("fork_jvm_args");
        JsonNode args = fork.isArray() && !fork.isEmpty() ? fork : m.path("runner_jvm_args");
        List<String> out = new ArrayList<>();
        args.forEach(a -> out.add(a.asText()));
        return (fork.isArray() && !fork.isEmpty() ? "forks: " : "in the runner: ") + String.join(" ", out);
    }

    private static String probes(JsonNode s, String probe, String field, String unit) {
        if (s == null) {
            return "";
        }
        List<String> out = new ArrayList<>();
        for (JsonNode p : s.path("probes").path(probe)) {
            out.add(Fmt.sig(p.path(field).asDouble()) + unit + " (" + p.path("threads").asInt() + "t)");
        }
        return String.join(", ", out);
    }

    /**
     * Other processes' and the hypervisor's share of the CPU while the benchmarks ran (the sidecar's {@code load}, Linux):
     * a busy machine's timings run low, which a comparison between runs should know.
     */
    private static String load(JsonNode s) {
        JsonNode l = s == null ? null : s.get("load");
        if (l == null) {
            return "not measured";
        }
        double others = l.path("other_processes_cpu_percent").asDouble();
        double steal = l.path("steal_percent").asDouble();
        return String.format(Locale.ROOT, "other processes %.0f%% of the CPU, steal %.0f%%", others, steal)
                + (dev.rg.core.runtime.MachineLoad.busy(others, steal) ? " (busy: timings run low)" : "");
    }

    private static String backends(JsonNode list) {
        List<String> out = new ArrayList<>();
        for (JsonNode b : list) {
            out.add(b.path("name").asText() + (b.path("available").asBoolean() ? " " + b.path("formats") : " (unavailable: "
                    + b.path("reason").asText() + ")"));
        }
        return String.join("; ", out);
    }

    /** Per backend, format and threads: decode step, median % of the limits, median speed-up. */
    static Table summary(ReportModel model) {
        Map<String, List<Measurement>> byVariant = new LinkedHashMap<>();
        for (Measurement m : model.measurements()) {
            if (!m.format().equals("-")) {
                byVariant.computeIfAbsent(ChartSpecs.variant(model, m), k -> new ArrayList<>()).add(m);
            }
        }
        Table.Builder t = new Table.Builder().text("backend · format · threads").number("decode step").number("tokens/s")
                .number("matvec: median % of read").number("prefill: median % of FMA").number("median x reference");
        byVariant.forEach((variant, ms) -> {
            Measurement decode = ms.stream().filter(m -> m.group().equals("decode")).findFirst().orElse(null);
            String time = decode == null ? "" : Fmt.time(decode.timeUs()) + " [" + decode.params().getOrDefault("preset", "?") + "]";
            String tps = decode == null ? "" : Fmt.sig(1e6 / decode.timeUs());
            t.row(List.of(variant, time, tps,
                    Fmt.pct(median(ms.stream().filter(m -> m.group().equals("matvec")).mapToDouble(model::percentOfRead).toArray())),
                    Fmt.pct(median(ms.stream().filter(m -> m.group().equals("prefill")).mapToDouble(model::percentOfFma).toArray())),
                    Fmt.factor(median(ms.stream().map(model::speedUp).filter(OptionalDouble::isPresent)
                            .mapToDouble(OptionalDouble::getAsDouble).toArray()))));
        });
        return t.build();
    }

    private static double median(double[] xs) {
        double[] v = Arrays.stream(xs).filter(x -> !Double.isNaN(x)).sorted().toArray();
        return v.length == 0 ? Double.NaN : v[v.length / 2];
    }

    /** Every result of a section. */
    static Table group(ReportModel model, String group) {
        Table.Builder t = new Table.Builder();
        if (model.multipleSources()) {
            t.text("run");
        }
        t.text("operation").text("backend").text("format").number("threads").number("time / op").number("±")
                .number("GB/s").number("% of read").number("GFLOP/s").number("% of FMA").number("x reference");
        for (Measurement m : model.group(group)) {
            List<String> cells = new ArrayList<>();
            if (model.multipleSources()) {
                cells.add(m.source());
            }
            cells.addAll(List.of(Groups.label(m), m.backend(), m.format(), m.threads(), Fmt.time(m.timeUs()),
                    Double.isNaN(m.errorUs()) ? "" : Fmt.time(m.errorUs()), Fmt.sig(m.gbPerS()), Fmt.pct(model.percentOfRead(m)),
                    Fmt.sig(m.gflops()), Fmt.pct(model.percentOfFma(m)),
                    model.speedUp(m).isPresent() ? Fmt.factor(model.speedUp(m).getAsDouble()) : ""));
            t.row(cells, m.backend().equals("reference") ? "reference" : "");
        }
        return t.build();
    }

    /** The {@code rg bench --json} results. */
    static Table endToEnd(ReportModel model) {
        Table.Builder t = new Table.Builder().text("file").text("model").text("backend").text("format").number("threads")
                .number("batch").text("decode picks").number("prefill tok/s (min / median / max)").number("decode tok/s (min / median / max)")
                .number("weights GB/token").number("decode GB/s").number("read probe GB/s").number("% of read")
                .number("other CPU load");
        for (EndToEnd e : model.endToEnd()) {
            t.row(List.of(e.source(), e.model(), e.backend(), e.format(), Integer.toString(e.threads()), Integer.toString(e.batch()),
                    e.tokenChoice(), triple(e.prefill()), triple(e.decode()), Fmt.sig(e.weightBytes() / 1e9), Fmt.sig(e.decodeGbPerS()),
                    Fmt.sig(e.measuredReadGbPerS()), Fmt.pct(e.percentOfRead()),
                    Fmt.pct(e.otherLoadPercent()))); // empty where the file does not say
        }
        return t.build();
    }

    private static String triple(double[] v) {
        return Fmt.sig(v[0]) + " / " + Fmt.sig(v[1]) + " / " + Fmt.sig(v[2]);
    }

    /** Current vs baseline, benchmark by benchmark, slowest change first. */
    static Table comparison(ReportModel model) {
        Table.Builder t = new Table.Builder().text("operation").text("backend").text("format").number("threads")
                .number("baseline").number("current").number("change").text("verdict");
        List<Comparison.Delta> ds = new ArrayList<>(model.comparison());
        ds.sort((a, b) -> Double.compare(nanLast(b.change()), nanLast(a.change())));
        for (Comparison.Delta d : ds) {
            Measurement m = d.any();
            String verdict = switch (d.status()) {
                case REGRESSION -> "REGRESSION (slower)";
                case IMPROVEMENT -> "improvement (faster)";
                case SAME -> "within " + Fmt.pct(model.threshold() * 100);
                case NEW -> "new";
                case MISSING -> "missing now";
            };
            t.row(List.of(Groups.label(m), m.backend(), m.format(), m.threads(),
                    d.baseline() == null ? "" : Fmt.time(d.baseline().timeUs()),
                    d.current() == null ? "" : Fmt.time(d.current().timeUs()), Fmt.change(d.change()), verdict),
                    d.status().name().toLowerCase(Locale.ROOT));
        }
        return t.build();
    }

    private static double nanLast(double v) {
        return Double.isNaN(v) ? Double.NEGATIVE_INFINITY : v;
    }

    /** Warnings about runs whose numbers must not be quoted (quick-profile smoke runs). */
    static List<String> warnings(ReportModel model) {
        List<String> out = new ArrayList<>();
        for (RunData r : model.runs()) {
            JsonNode s = r.sidecar();
            if (s != null && s.path("run").path("profile").asText().equals("quick")) {
                out.add(r.label() + " is a quick-profile smoke run (tiny shapes, no fork, 150 ms warm-up: kernels may still be"
                        + " compiling): its timings show that everything runs, not how fast. Publish full-profile runs.");
            }
        }
        return out;
    }

    /** Skipped backends, capped operations and failures of every run (lines). */
    static List<String> notes(ReportModel model) {
        List<String> out = new ArrayList<>();
        for (RunData r : model.runs()) {
            JsonNode s = r.sidecar();
            if (s == null) {
                continue;
            }
            s.path("skipped").forEach(x -> out.add(r.label() + ": skipped " + x.asText()));
            s.path("capped").forEach(x -> out.add(r.label() + ": reference cap, not run: " + x.asText()));
            s.path("failures").forEach(x -> out.add(r.label() + ": FAILED " + x.asText()));
        }
        return out;
    }
}
