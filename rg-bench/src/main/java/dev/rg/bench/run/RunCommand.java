package dev.rg.bench.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.bench.cost.CostModel;
import dev.rg.bench.cost.OpCost;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rg-bench.jar run}: discovers backends and formats, plans, measures the machine, runs JMH and writes
 * {@code --out} (JMH's JSON) plus its sidecar {@code *.machine.json}. Exit status 1 when any benchmark failed
 * (never because of a timing), 0 otherwise.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the JMH benchmarks of every available backend x native format x layer shape.")
public final class RunCommand implements Callable<Integer> {
    /** JVM flags of every measurement JVM: those of the ./rg launcher, plus room for the 2B model off-heap. */
    public static final List<String> FORK_JVM_ARGS = List.of("-XX:+UseParallelGC", "-Xss8m", "-Xms1g", "-Xmx4g",
            "-XX:MaxDirectMemorySize=64g", "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");

    @Option(names = "--profile", defaultValue = "quick", paramLabel = "quick|full",
            description = "quick: tiny shapes, seconds per benchmark, for CI (fails only on errors); full: the 2B shapes, forks, for publishing. Default: ${DEFAULT-VALUE}.")
    String profile;

    @Option(names = "--backends", split = ",", paramLabel = "NAME", description = "Backends to run (default: every available one).")
    List<String> backends = new ArrayList<>();

    @Option(names = "--formats", split = ",", paramLabel = "FORMAT", description = "Weight formats to run (default: each backend's native ones).")
    List<String> formats = new ArrayList<>();

    @Option(names = "--benchmarks", split = ",", paramLabel = "GROUP",
            description = "Groups to run: matvec, prefill, kernels, layers, decode (default: these), batch (batched decode, 8 and 16 rows; only when named).")
    List<String> groups = new ArrayList<>();

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Threads of the multi-threaded backends (default: all cores). The reference backend has one.")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--out", defaultValue = "rg-bench-results.json", paramLabel = "FILE", description = "JMH JSON results (the sidecar goes next to it). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--jvm-arg", paramLabel = "FLAG", description = "Extra flag for the measurement JVMs (repeatable).")
    List<String> extraJvmArgs = new ArrayList<>();

    @Option(names = "--dry-run", description = "Print the plan and exit.")
    boolean dryRun;

    @Option(names = "--quiet", description = "JMH's output goes to FILE.log next to --out instead of the console (progress lines and the summary stay).")
    boolean quiet;

    @Override
    public Integer call() throws IOException {
        PrintStream log = System.out;
        long started = System.nanoTime();
        Profile p = Profile.named(profile);
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1");
        }
        Set<String> groupSet = new LinkedHashSet<>(groups);
        for (String g : groupSet) {
            if (!Planner.GROUPS.contains(g) && !Planner.OPT_IN.contains(g)) {
                throw new IllegalArgumentException("unknown benchmark group '" + g + "' (known: " + Planner.GROUPS + ", "
                        + Planner.OPT_IN + ")");
            }
        }
        List<BackendCatalog.Backend> catalog = BackendCatalog.discover();
        Planner.Result plan = new Planner(p, threads).plan(catalog, new LinkedHashSet<>(backends), new LinkedHashSet<>(formats),
                groupSet);
        for (BackendCatalog.Backend b : catalog) {
            log.printf("backend %-10s %s%s%n", b.name(), b.available() ? "available, native formats " + b.formats() : "UNAVAILABLE",
                    " (" + b.reason() + ")");
        }
        plan.skipped().forEach(s -> log.println("skipping " + s));
        plan.capped().forEach(s -> log.println("reference cap " + p.referenceCapFlops() / 1e9 + " GFLOP: skipping " + s));
        int combos = plan.plans().stream().mapToInt(x -> x.combinations().size()).sum();
        log.printf("profile %s: %d plan(s), %d benchmark(s)%n", p.name(), plan.plans().size(), combos);
        if (dryRun) {
            plan.plans().forEach(x -> log.println("  " + x.backend() + " " + x));
            return 0;
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        List<String> jvmArgs = new ArrayList<>(FORK_JVM_ARGS);
        jvmArgs.addAll(extraJvmArgs);
        ObjectNode side = json.createObjectNode();
        ObjectNode run = side.putObject("run");
        run.put("tool", "rg-bench").put("profile", p.name()).put("started", Instant.now().toString());
        run.putPOJO("profile_settings", p);
        side.set("machine", MachineInfo.describe(json, p.forks() == 0 ? List.of() : jvmArgs));
        log.println("measuring memory read bandwidth and f32 FMA rate...");
        ObjectNode before = MachineInfo.probes(json, threads, p);
        side.set("probes", before);
        side.set("backends", json.valueToTree(catalog));
        side.set("skipped", json.valueToTree(plan.skipped()));
        side.set("capped", json.valueToTree(plan.capped()));
        side.set("costs", costs(json, plan));

        // what else ran beside the benchmarks (Linux): the forks are this process's waited-for children, so theirs is ours
        java.util.Optional<dev.rg.core.runtime.MachineLoad.Sample> loadBefore = dev.rg.core.runtime.MachineLoad.sample();
        JmhExecutor.Outcome outcome;
        if (quiet) {
            Path jmhLog = out.resolveSibling(out.getFileName() + ".log");
            try (PrintStream jmhOut = new PrintStream(Files.newOutputStream(jmhLog), true, StandardCharsets.UTF_8)) {
                log.println("JMH output -> " + jmhLog);
                outcome = new JmhExecutor(p, jvmArgs, jmhOut, jmhLog.toString(), log).run(plan.plans());
            }
        } else {
            outcome = new JmhExecutor(p, jvmArgs, System.out, "the log above", log).run(plan.plans());
        }
        JmhExecutor.writeJson(outcome.results(), out);
        dev.rg.core.runtime.MachineLoad.between(loadBefore, dev.rg.core.runtime.MachineLoad.sample()).ifPresent(l -> {
            side.putObject("load").put("other_processes_cpu_percent", l.othersPercent()).put("steal_percent", l.stealPercent());
            log.println("machine during the benchmarks: " + l.describe());
        });
        log.println("measuring memory read bandwidth and f32 FMA rate again...");
        side.set("probes", MachineInfo.best(json, before, MachineInfo.probes(json, threads, p)));
        side.set("failures", json.valueToTree(outcome.failures()));
        run.put("wall_seconds", (System.nanoTime() - started) / 1e9);
        dev.rg.core.io.AtomicFiles.write(Sidecar.of(out), tmp -> json.writeValue(tmp.toFile(), side));

        log.printf("%d result(s) -> %s (machine and probes -> %s), %.0f s%n", outcome.results().size(), out,
                Sidecar.of(out), (System.nanoTime() - started) / 1e9);
        if (!outcome.failures().isEmpty()) {
            log.println(outcome.failures().size() + " benchmark(s) FAILED:");
            outcome.failures().forEach(f -> log.println("  " + f));
            return 1;
        }
        return 0;
    }

    /** Bytes and FLOPs of every planned combination, so the report needs neither the format plugins nor this code. */
    private static ArrayNode costs(ObjectMapper json, Planner.Result plan) {
        ArrayNode a = json.createArrayNode();
        for (Plan p : plan.plans()) {
            for (Map<String, String> combo : p.combinations()) {
                Optional<OpCost> c = CostModel.of(p.fullName(), combo);
                if (c.isPresent()) {
                    ObjectNode o = a.addObject();
                    o.put("benchmark", p.fullName());
                    o.set("params", json.valueToTree(combo));
                    o.put("flops", c.get().flops()).put("bytes", c.get().bytes());
                }
            }
        }
        return a;
    }
}
