package dev.rg.bench.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.runtime.FmaProbe;
import dev.rg.core.runtime.MemoryReadProbe;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a result means depends on the machine: CPU model, cores, memory, JDK, JVM flags, and two limits
 * measured in the same run (memory read bandwidth, f32 FMA rate), at one thread and at the benchmark thread
 * count, because shared machines move by tens of percent from minute to minute.
 */
final class MachineInfo {
    private MachineInfo() {}

    /** Static facts: CPU, cores, memory, OS, JDK, the runner's and the forks' JVM flags. */
    public static ObjectNode describe(ObjectMapper json, List<String> forkJvmArgs) {
        ObjectNode m = json.createObjectNode();
        m.put("cpu_model", cpuInfo("model name").orElseGet(() -> System.getProperty("os.arch")));
        m.put("cpu_flags_simd", simdFlags());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("memory_total_gib", memTotalGib());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("jdk_version", Runtime.version().toString());
        m.put("jdk_vendor", System.getProperty("java.vendor"));
        m.put("vm_name", System.getProperty("java.vm.name"));
        m.put("java_home", System.getProperty("java.home"));
        ArrayNode runner = m.putArray("runner_jvm_args");
        ManagementFactory.getRuntimeMXBean().getInputArguments().forEach(runner::add);
        ArrayNode fork = m.putArray("fork_jvm_args");
        forkJvmArgs.forEach(fork::add);
        return m;
    }

    /** The memory-read and FMA probes at 1 and at {@code threads} threads. */
    public static ObjectNode probes(ObjectMapper json, int threads, Profile profile) {
        ObjectNode p = json.createObjectNode();
        ArrayNode mem = p.putArray("memory_read");
        ArrayNode fma = p.putArray("fma_f32");
        Set<Integer> counts = new LinkedHashSet<>(List.of(1, threads));
        for (int t : counts) {
            MemoryReadProbe.Result r = MemoryReadProbe.measure(profile.probeBytes(), t, profile.probeRepetitions());
            mem.addObject().put("threads", t).put("best_gb_per_s", r.bestGbPerS()).put("median_gb_per_s", r.medianGbPerS())
                    .put("bytes", r.bytes());
        }
        for (int t : counts) {
            FmaProbe.Result r = FmaProbe.measure(t, profile.probeRepetitions(), profile.name().equals("quick") ? 100 : 300);
            fma.addObject().put("threads", t).put("best_gflops", r.bestGflops()).put("median_gflops", r.medianGflops())
                    .put("method", "auto-vectorised Math.fma chains over an L1-resident float[] (no Vector API)");
        }
        return p;
    }

    /**
     * The probes taken before and after the benchmarks, combined: for each thread count the best of both. The
     * machines are shared, and a limit measured while a neighbour was busy would make every result look closer to
     * it than it is.
     */
    static ObjectNode best(ObjectMapper json, ObjectNode before, ObjectNode after) {
        ObjectNode p = json.createObjectNode();
        for (String probe : List.of("memory_read", "fma_f32")) {
            String field = probe.equals("memory_read") ? "best_gb_per_s" : "best_gflops";
            ArrayNode merged = p.putArray(probe);
            for (int i = 0; i < before.path(probe).size(); i++) {
                ObjectNode b = before.path(probe).get(i).deepCopy();
                double start = b.path(field).asDouble();
                double end = after.path(probe).path(i).path(field).asDouble(0);
                b.put(field, Math.max(start, end)).put(field + "_before", start).put(field + "_after", end);
                merged.add(b);
            }
        }
        return p;
    }

    private static java.util.Optional<String> cpuInfo(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith(key)) {
                    return java.util.Optional.of(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall back to the architecture
        }
        return java.util.Optional.empty();
    }

    /** The SIMD extensions (AVX*, FMA, SSE4, NEON/ASIMD...) the kernels may use. */
    private static String simdFlags() {
        String flags = cpuInfo("flags").or(() -> cpuInfo("Features")).orElse("");
        StringBuilder sb = new StringBuilder();
        for (String f : flags.split("\\s+")) {
            if (f.startsWith("avx") || f.equals("fma") || f.startsWith("sse4") || f.equals("asimd") || f.startsWith("sve")
                    || f.equals("f16c") || f.startsWith("amx")) {
                sb.append(sb.isEmpty() ? "" : " ").append(f);
            }
        }
        return sb.toString();
    }

    private static double memTotalGib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / (1024.0 * 1024.0);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return 0;
    }
}
