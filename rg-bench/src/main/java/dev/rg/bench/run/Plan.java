package dev.rg.bench.run;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One JMH invocation: a benchmark method on one backend with lists of parameter values (JMH runs their
 * cartesian product). The runner splits a run into plans because the valid combinations are not a single
 * product: each backend has its own formats, and the capped reference backend its own shapes.
 *
 * @param backend   backend name (also in {@code params})
 * @param benchmark {@code Class.method} inside {@code dev.rg.bench.jmh}, e.g. {@code MatmulBench.matvec}
 * @param params    JMH parameters, each with one or more values
 */
public record Plan(String backend, String benchmark, Map<String, List<String>> params) {
    /** Package of the benchmark classes. */
    public static final String PACKAGE = "dev.rg.bench.jmh.";

    public Plan {
        params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** The JMH include pattern matching exactly this benchmark. */
    public String include() {
        return "^" + Pattern.quote(PACKAGE + benchmark) + "$";
    }

    /** The fully qualified benchmark name, as JMH writes it into results. */
    public String fullName() {
        return PACKAGE + benchmark;
    }

    /** Every parameter combination, in JMH's order (first parameter varies slowest). */
    public List<Map<String, String>> combinations() {
        List<Map<String, String>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : out) {
                for (String v : e.getValue()) {
                    Map<String, String> m = new LinkedHashMap<>(partial);
                    m.put(e.getKey(), v);
                    next.add(m);
                }
            }
            out = next;
        }
        return out;
    }

    @Override
    public String toString() {
        return benchmark + " " + params;
    }
}
