package dev.rg.bench.run;

import dev.rg.bench.cost.CostModel;
import dev.rg.bench.cost.LayerShapes;
import dev.rg.bench.cost.OpCost;
import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Turns a profile, the discovered backends and the command-line filters into {@link Plan}s: every available
 * backend, with each of its native formats, on every benchmark group; unavailable backends are listed with
 * their reason instead; the reference backend loses the operations above the profile's FLOP cap.
 */
public final class Planner {
    /** The benchmark groups, as {@code --benchmarks} names them; a run without {@code --benchmarks} runs these. */
    public static final List<String> GROUPS = List.of("matvec", "prefill", "kernels", "layers", "decode");
    /** Groups that run only when {@code --benchmarks} names them: batched decode (8 and 16 rows, every shape). */
    public static final List<String> OPT_IN = List.of("batch");

    /**
     * The plans and what was left out.
     *
     * @param plans   what to run
     * @param skipped one line per backend not run, with the reason
     * @param capped  one line per operation the reference cap removed
     */
    public record Result(List<Plan> plans, List<String> skipped, List<String> capped) {}

    private final Profile profile;
    private final int threads;

    /**
     * @param profile the profile
     * @param threads worker threads of the multi-threaded backends (the reference always has 1)
     */
    public Planner(Profile profile, int threads) {
        this.profile = profile;
        this.threads = threads;
    }

    /**
     * Plans a run.
     *
     * @param backends      the discovered backends
     * @param backendFilter names to run (empty = all available)
     * @param formatFilter  formats to run (empty = each backend's native ones)
     * @param groups        benchmark groups to run (empty = all)
     */
    public Result plan(List<BackendCatalog.Backend> backends, Set<String> backendFilter, Set<String> formatFilter,
            Set<String> groups) {
        List<Plan> plans = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<String> capped = new ArrayList<>();
        for (String wanted : backendFilter) {
            if (backends.stream().noneMatch(b -> b.name().equals(wanted))) {
                skipped.add(wanted + ": not discovered (its jar is not on the class path)");
            }
        }
        for (BackendCatalog.Backend b : backends) {
            if (!backendFilter.isEmpty() && !backendFilter.contains(b.name())) {
                continue;
            }
            if (!b.available()) {
                skipped.add(b.name() + ": " + b.reason());
                continue;
            }
            List<String> formats = BackendCatalog.formats(b, formatFilter);
            boolean reference = b.name().equals("reference");
            double cap = reference ? profile.referenceCapFlops() : Double.POSITIVE_INFINITY;
            String t = Integer.toString(reference ? 1 : threads);
            for (String group : java.util.stream.Stream.concat(GROUPS.stream(), OPT_IN.stream()).toList()) {
                if (groups.isEmpty() ? OPT_IN.contains(group) : !groups.contains(group)) {
                    continue;
                }
                if (formats.isEmpty() && !group.equals("kernels")) {
                    skipped.add(b.name() + " " + group + ": none of its native formats passes --formats");
                    continue;
                }
                for (Plan p : group(group, b.name(), t, formats)) {
                    Plan kept = cap(p, cap, capped);
                    if (kept != null) {
                        plans.add(kept);
                    }
                }
            }
        }
        return new Result(plans, skipped, capped);
    }

    private List<Plan> group(String group, String backend, String t, List<String> formats) {
        ModelConfig c = ModelConfig.preset(profile.preset());
        String n = Integer.toString(profile.prefillTokens());
        List<LayerShapes.Entry> shapes = LayerShapes.of(c);
        List<String> all = shapes.stream().map(e -> e.shape().toString()).toList();
        // the LM head runs for the last position of a prompt only: no prefill of it
        List<String> noHead = shapes.stream().filter(e -> !e.head()).map(e -> e.shape().toString()).toList();
        return switch (group) {
            case "matvec" -> List.of(plan(backend, "MatmulBench.matvec", t, "format", formats, "shape", all));
            case "prefill" -> List.of(plan(backend, "MatmulBench.prefill", t, "format", formats, "shape", noHead, "tokens",
                    List.of(n)));
            case "batch" -> List.of(plan(backend, "MatmulBench.batch", t, "format", formats, "shape", all, "rows",
                    List.of("8", "16")));
            case "kernels" -> {
                List<Plan> ps = new ArrayList<>();
                for (String op : List.of("rmsNorm", "conv1dStep", "rgLruStep", "attentionDecode")) {
                    ps.add(plan(backend, "KernelBench." + op, t, "preset", List.of(profile.preset())));
                }
                ps.add(plan(backend, "KernelBench.rgLruScan", t, "preset", List.of(profile.preset()), "tokens", List.of(n)));
                yield ps;
            }
            case "layers" -> {
                List<Plan> ps = new ArrayList<>();
                for (String op : List.of("recurrentBlock", "attentionBlock", "mlp")) {
                    ps.add(plan(backend, "LayerBench." + op, t, "format", formats, "preset", List.of(profile.preset()), "tokens",
                            List.of("1", n)));
                }
                yield ps;
            }
            case "decode" -> List.of(plan(backend, "DecodeBench.decodeStep", t, "format", formats, "preset",
                    List.of(profile.preset())));
            default -> throw new IllegalArgumentException("unknown benchmark group '" + group + "' (known: " + GROUPS + ", " + OPT_IN + ")");
        };
    }

    private static Plan plan(String backend, String benchmark, String threads, Object... keyValues) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        params.put("backend", List.of(backend));
        params.put("threads", List.of(threads));
        for (int i = 0; i < keyValues.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<String> values = (List<String>) keyValues[i + 1];
            params.put((String) keyValues[i], values);
        }
        return new Plan(backend, benchmark, params);
    }

    /**
     * Drops the values of the size parameter (shape, then tokens) whose operation exceeds the cap; FLOPs do not
     * depend on the format, so the first format decides for all. Null when nothing is left.
     */
    private Plan cap(Plan p, double cap, List<String> capped) {
        if (Double.isInfinite(cap)) {
            return p;
        }
        String sizeKey = p.params().containsKey("shape") ? "shape" : p.params().containsKey("tokens") ? "tokens" : null;
        Map<String, List<String>> params = new LinkedHashMap<>(p.params());
        Predicate<Map<String, String>> fits = combo -> CostModel.of(p.fullName(), combo).map(OpCost::flops)
                .orElse(Double.POSITIVE_INFINITY) <= cap;
        Map<String, String> first = new LinkedHashMap<>();
        params.forEach((k, v) -> first.put(k, v.get(0)));
        if (sizeKey == null) {
            if (fits.test(first)) {
                return p;
            }
            capped.add(p.backend() + " " + p.benchmark() + " " + first);
            return null;
        }
        List<String> kept = new ArrayList<>();
        for (String v : params.get(sizeKey)) {
            Map<String, String> combo = new LinkedHashMap<>(first);
            combo.put(sizeKey, v);
            if (fits.test(combo)) {
                kept.add(v);
            } else {
                capped.add(p.backend() + " " + p.benchmark() + " " + sizeKey + "=" + v);
            }
        }
        if (kept.isEmpty()) {
            return null;
        }
        params.put(sizeKey, kept);
        return new Plan(p.backend(), p.benchmark(), params);
    }
}
