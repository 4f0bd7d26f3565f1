package dev.rg.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.Model;
import dev.rg.core.runtime.FmaProbe;
import dev.rg.core.runtime.MachineLoad;
import dev.rg.core.runtime.MemoryReadProbe;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rg bench}: the end-to-end benchmark, llama-bench style. Builds a random-weight model of real shapes
 * ({@code --preset}) or loads a checkpoint ({@code --model}), measures prefill and decode with repetitions,
 * and in the same run measures how fast this machine reads memory, so decode is reported as a fraction of
 * the bandwidth limit.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark prefill and decode (min/median/max over repetitions) against a memory-read probe run alongside.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--preset", paramLabel = "2b|9b|tiny", description = "Random weights of these shapes (no download). Default: 2b unless --model.")
    String preset;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Benchmark a real checkpoint instead of a preset.")
    Path model;

    @Option(names = "--format", paramLabel = "FORMAT", description = "Weight format of the linear layers (default bf16 for presets, as stored for --model).")
    String format;

    @Option(names = "--quantize-head", description = "Also put the embedding / LM head in --format.")
    boolean quantizeHead;

    @picocli.CommandLine.Mixin
    BackendSettingsOption backendSettings;

    @Option(names = "--head-format", paramLabel = "FORMAT", description = ModelOptions.HEAD_FORMAT_HELP)
    String headFormat;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "NAME", description = "Backend (default auto).")
    String backend;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "Threads (0 = all cores).")
    int threads;

    @Option(names = {"-b", "--batch"}, defaultValue = "1", split = ",", paramLabel = "B",
            description = "Sequences decoded together; a list (1,8,64) measures each on the same model.")
    int[] batches;

    @Option(names = {"-p", "--prompt-tokens"}, defaultValue = "128", split = ",", paramLabel = "P",
            description = "Prefill length (0 = skip); a list (128,1024) measures each on the same model.")
    int[] prompts;

    @Option(names = {"-n", "--gen-tokens"}, defaultValue = "64", paramLabel = "N", description = "Decode steps (0 = skip).")
    int generate;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", paramLabel = "R", description = "Repetitions (min/median/max over them).")
    int repetitions;

    @Option(names = "--beside-prefill", defaultValue = "0", paramLabel = "N",
            description = "Each decode step also prefills N prompt tokens of one more sequence, as rg serve does when a"
                    + " prompt arrives while others decode: measured in one pass (shared) and in two (apart), alternately.")
    int beside;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K",
            description = "Decode picks each token by sampling from the K most likely (temperature 1; the backend's topK brings"
                    + " K ids and values back, as rg chat and rg serve do with top-k), instead of greedy argmax. 0 (default):"
                    + " greedy.")
    int topK;

    @Option(names = "--warmup-seconds", defaultValue = "1", paramLabel = "S",
            description = "Unmeasured runs of each kind of work (prefill, decode at each batch) before its repetitions: at least"
                    + " S seconds, then until the JIT compiler has finished nothing for a second, at most 60 s (default"
                    + " ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--probe-mb", defaultValue = "1024", paramLabel = "MB", description = "Size of the memory-read probe buffer.")
    int probeMb;

    @Option(names = "--resume",
            description = "Also time saving the state after each prompt to a file and restoring it (what rg chat --session,"
                    + " --prompt-cache and rg serve --state-cache-dir cost) beside the prefill of the same tokens.")
    boolean resume;

    @Option(names = "--json", description = "Print one JSON object instead of the table (an array of them when -p or -b is a list).")
    boolean json;

    @Override
    public Integer call() throws IOException {
        boolean prefill = Arrays.stream(prompts).anyMatch(p -> p > 0);
        if (Arrays.stream(batches).anyMatch(b -> b < 1) || Arrays.stream(prompts).anyMatch(p -> p < 0) || generate < 0
                || repetitions < 1 || probeMb < 1 || (!prefill && generate == 0) || !(warmupSeconds >= 0 && warmupSeconds <= 3600)) {
            throw new IllegalArgumentException("need --batch >= 1, -p/-n >= 0 (not both 0), -r >= 1, --probe-mb >= 1,"
                    + " --warmup-seconds in [0, 3600]");
        }
        if (topK < 0) { // the vocabulary's bound is checked once the model is loaded
            throw new IllegalArgumentException("--top-k must be 0 (greedy) or a positive number of tokens, got " + topK);
        }
        int largestBatch = Arrays.stream(batches).max().orElse(1);
        if (beside < 0 || (beside > 0 && (generate == 0 || (long) largestBatch + beside > Griffin.maxRowsTogether()))) {
            throw new IllegalArgumentException("--beside-prefill must be >= 0, needs -n > 0, and --batch + --beside-prefill"
                    + " must be at most " + Griffin.maxRowsTogether() + " token-rows; got " + beside + " beside a batch of "
                    + largestBatch);
        }
        LoadOptions options = new LoadOptions(backend, threads, model != null ? format : null, quantizeHead,
                backendSettings.settings(), headFormat);
        String what;
        RecurrentGemma rg;
        try (TerminalProgress progress = new TerminalProgress("preparing")) {
            if (model != null) {
                rg = RecurrentGemma.loadForIds(model, options, progress);
                what = model.getFileName().toString();
            } else {
                String p = preset == null ? "2b" : preset;
                rg = RecurrentGemma.random(ModelConfig.preset(p), format == null ? "bf16" : format, 42, options, progress);
                what = "preset " + p;
            }
        }
        try (rg) {
            Model m = rg.model();
            Warnings.print(m);
            int vocab = m.config().vocabSize();
            if (topK > vocab) { // a negative one was refused above
                throw new IllegalArgumentException("--top-k must be in 0.." + vocab + " (0 = greedy; the model's vocabulary has "
                        + vocab + " tokens), got " + topK);
            }
            // one configuration per list entry, all on this one model (building a 2B/9B model is the slow part); a single
            // -p and -b keep the original combined measurement and output
            List<int[]> configs = new ArrayList<>();
            if (prompts.length == 1 && batches.length == 1) {
                configs.add(new int[] {prompts[0], generate, batches[0]});
            } else {
                for (int p : prompts) {
                    if (p > 0) {
                        configs.add(new int[] {p, 0, 1});
                    }
                }
                for (int b : batches) {
                    if (generate > 0) {
                        configs.add(new int[] {0, generate, b});
                    }
                }
            }
            List<Measured> results = new ArrayList<>();
            java.util.Optional<MachineLoad.Sample> start = MachineLoad.sample();
            java.util.Optional<MachineLoad.Share> load;
            try {
                for (int[] c : configs) {
                    results.add(measure(m, c[0], c[1], c[2]));
                }
                load = MachineLoad.between(start, MachineLoad.sample());
            } finally {
                if (hostProbe != null) {
                    hostProbe.close();
                }
            }
            if (json) {
                ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                List<ObjectNode> nodes = results.stream().map(r -> r.toJson(mapper, m, what, options.settings())).toList();
                Object out = nodes.size() == 1 ? nodes.get(0) : mapper.createArrayNode().addAll(nodes);
                Output.write(mapper.writeValueAsString(out) + "\n");
            } else {
                printTable(results, m, what, options.settings(), load);
            }
            System.err.flush();
        }
        return 0;
    }

    /**
     * One measured configuration, with the read limit measured alongside it and, on a CPU backend where prefill or a
     * batch is measured (bound by arithmetic, not by the read), the FMA rate ({@code fma}, else null).
     */
    private record Measured(int prompt, int generate, int batch, int beside, int topK, int repetitions, EndToEndBenchmark.Result r,
            MemoryReadProbe.Result probe, double bandwidth, long bytesPerToken, FmaProbe.Result fma, long prefillFlops,
            long decodeFlops, ResumeBenchmark.Result resume, MachineLoad.Share load) {
        double decodeGbs() {
            return r.decode().median() / batch * bytesPerToken / 1e9;
        }

        /** Median prefill rate in GFLOP/s of the matrix products (the head once per prompt is left out). */
        double prefillGflops() {
            return r.prefill().median() * prefillFlops / 1e9;
        }

        /** Median decode rate in GFLOP/s of the matrix products, the head included (every row needs its logits). */
        double decodeGflops() {
            return r.decode().median() * decodeFlops / 1e9;
        }

        /** "G GFLOP/s = P% of the FMA probe", or empty without a probe. */
        String ofFma(double gflops) {
            // each configuration has its own probes: the line names the one it is compared with
            return fma == null ? "" : String.format(Locale.ROOT, "%.0f GFLOP/s = %.0f%% of the FMA probe's %.0f", gflops,
                    100 * gflops / fma.bestGflops(), fma.bestGflops());
        }

        /** {@code settings}: the {@code --backend-option}s, so that a result says which variant of a backend ran. */
        ObjectNode toJson(ObjectMapper mapper, Model m, String what, java.util.Map<String, String> settings) {
            ObjectNode o = mapper.createObjectNode();
            o.put("model", what).put("backend", m.backend().name());
            o.putPOJO("backend_options", new java.util.TreeMap<>(settings));
            o.put("format", m.linearFormat()).put("head_format", m.headFormat())
                    .put("threads", m.backend().threads()).put("batch", batch).put("prompt_tokens", prompt)
                    .put("gen_tokens", generate).put("repetitions", repetitions);
            // how decode picked its tokens: 0 = greedy (argmax), else sampled from the top k
            o.put("decode_top_k", topK);
            o.put("prefill_tokens_per_s", r.prefill().median()).put("decode_tokens_per_s", r.decode().median());
            o.putPOJO("prefill_tokens_per_s_min_median_max", new double[] {r.prefill().min(), r.prefill().median(), r.prefill().max()});
            o.putPOJO("decode_tokens_per_s_min_median_max", new double[] {r.decode().min(), r.decode().median(), r.decode().max()});
            if (r.decodeApart() != null) {
                // decode (above) ran in one pass with the prefill chunk beside it; these ran the two as two passes
                o.put("beside_prefill_tokens", beside).put("decode_tokens_per_s_apart", r.decodeApart().median());
                o.putPOJO("decode_tokens_per_s_apart_min_median_max",
                        new double[] {r.decodeApart().min(), r.decodeApart().median(), r.decodeApart().max()});
                o.put("shared_over_apart", r.decode().median() / r.decodeApart().median());
            }
            o.put("weight_bytes_per_token", bytesPerToken).put("decode_weight_gb_per_s", decodeGbs());
            o.put("measured_read_gb_per_s", bandwidth).put("measured_read_gb_per_s_median", probe.medianGbPerS())
                    .put("read_probe", probe.reader());
            o.put("decode_percent_of_bandwidth", 100 * decodeGbs() / bandwidth);
            if (fma != null) {
                o.put("fma_probe_gflops", fma.bestGflops()).put("fma_probe_gflops_median", fma.medianGflops());
                if (prompt > 0) {
                    o.put("prefill_gflops", prefillGflops()).put("prefill_percent_of_fma", 100 * prefillGflops() / fma.bestGflops());
                }
                if (generate > 0 && batch > 1) {
                    o.put("decode_gflops", decodeGflops()).put("decode_percent_of_fma", 100 * decodeGflops() / fma.bestGflops());
                }
            }
            if (resume != null) {
                o.putPOJO("resume_save_ms_min_median_max", new double[] {resume.saveMs().min(), resume.saveMs().median(), resume.saveMs().max()});
                o.putPOJO("resume_restore_ms_min_median_max",
                        new double[] {resume.restoreMs().min(), resume.restoreMs().median(), resume.restoreMs().max()});
                o.put("resume_file_bytes", resume.fileBytes()).put("prefill_ms_median", prompt * 1e3 / r.prefill().median());
            }
            o.put("java", Runtime.version().toString()).put("cores", Runtime.getRuntime().availableProcessors());
            if (load != null) {
                // what else ran while this configuration was measured (Linux): figures beside other work run low
                o.put("other_processes_cpu_percent", load.othersPercent()).put("steal_percent", load.stealPercent());
            }
            return o;
        }
    }

    /** The host's read-probe buffer, allocated on first use and kept for every measurement of this run. */
    private MemoryReadProbe.Buffer hostProbe;

    private MemoryReadProbe.Buffer hostProbe(long bytes, int threads) {
        if (hostProbe == null) {
            hostProbe = MemoryReadProbe.allocate(bytes, threads);
        }
        return hostProbe;
    }

    /** One configuration: prefill of {@code prompt} tokens and/or {@code generate} decode steps of a batch. */
    private Measured measure(Model m, int prompt, int generate, int batch) {
        java.util.Optional<MachineLoad.Sample> before = MachineLoad.sample();
        int t = m.backend().threads();
        long probeBytes = (long) probeMb << 20;
        // the limit decode is compared with: the backend's own memory when it has one (a GPU's), else the host's
        java.util.OptionalDouble first = m.backend().measureReadBandwidth(probeBytes);
        boolean device = first.isPresent();
        MemoryReadProbe.Result probe = device ? deviceProbe(m, probeBytes, first.getAsDouble())
                : MemoryReadProbe.measure(hostProbe(probeBytes, t), 5);
        double[] probeSamples = new double[repetitions];
        int besideNow = generate > 0 ? beside : 0;
        EndToEndBenchmark.Result r = new EndToEndBenchmark(m, topK, warmupSeconds, Math.max(JitWarmUp.MAX_SECONDS, warmupSeconds)).run(prompt, generate, batch, besideNow, repetitions, new Runnable() {
            int i;

            @Override
            public void run() {
                // re-measure between repetitions: the limit moves with the other tenants of the machine
                probeSamples[i++] = device ? m.backend().measureReadBandwidth(probeBytes).orElse(0)
                        : MemoryReadProbe.measure(hostProbe(probeBytes, t), 2).bestGbPerS();
            }
        });
        double bandwidth = Math.max(probe.bestGbPerS(), max(probeSamples));
        // prefill and batches are bound by arithmetic on a CPU: measure its limit too (a GPU's is not probed)
        FmaProbe.Result fma = !device && (prompt > 0 || (generate > 0 && batch > 1)) ? FmaProbe.measure(t, 5, 300) : null;
        ResumeBenchmark.Result resumed = resume && prompt > 0 ? ResumeBenchmark.run(m, prompt, repetitions) : null;
        return new Measured(prompt, generate, batch, besideNow, topK, repetitions, r, probe, bandwidth, m.weightBytesPerToken(), fma,
                m.flopsPerToken(false), m.flopsPerToken(true), resumed,
                MachineLoad.between(before, MachineLoad.sample()).orElse(null));
    }

    private static void printTable(List<Measured> results, Model m, String what, java.util.Map<String, String> settings,
            java.util.Optional<MachineLoad.Share> load) {
        PrintStream out = Output.out();
        Measured first = results.get(0);
        String backendName = m.backend().name() + (settings.isEmpty() ? "" : " " + new java.util.TreeMap<>(settings));
        out.printf(Locale.ROOT, "model %s | backend %s | format %s, head %s | threads %d | weights %.3f GB/token%n", what,
                backendName, m.linearFormat(), m.headFormat(), m.backend().threads(), first.bytesPerToken() / 1e9);
        // the best of the first configuration's probes (before and between its repetitions); every line below names
        // the best of its own configuration's, which it is compared with
        out.printf(Locale.ROOT, "memory read probe (%s): best %.1f GB/s, median %.1f GB/s%n", first.probe().reader(),
                first.bandwidth(), first.probe().medianGbPerS());
        if (first.topK() > 0 && results.stream().anyMatch(x -> x.generate() > 0)) {
            out.printf(Locale.ROOT, "decode samples each token from the top %d (temperature 1, the backend's topK), not argmax%n",
                    first.topK());
        }
        results.stream().map(Measured::fma).filter(java.util.Objects::nonNull).findFirst().ifPresent(f -> out.printf(Locale.ROOT,
                "f32 FMA probe (plain Java, %d threads): best %.0f GFLOP/s, median %.0f GFLOP/s%n", f.threads(), f.bestGflops(),
                f.medianGflops()));
        boolean beside = results.stream().anyMatch(x -> x.r().decodeApart() != null);
        out.printf(Locale.ROOT, (beside ? "%-18s" : "%-10s") + " %10s %10s %10s   %s%n", "test", "min", "median", "max", "tokens/s");
        for (Measured x : results) {
            if (x.prompt() > 0) {
                EndToEndBenchmark.Stats v = x.r().prefill();
                String fma = x.ofFma(x.prefillGflops());
                out.printf(Locale.ROOT, "%-10s %10.2f %10.2f %10.2f%s%n", "pp" + x.prompt(), v.min(), v.median(), v.max(),
                        fma.isEmpty() ? "" : "   (" + fma + ")");
                if (x.resume() != null) {
                    ResumeBenchmark.Result z = x.resume();
                    double prefillMs = x.prompt() * 1e3 / v.median();
                    out.printf(Locale.ROOT, "resume pp%d: save %.2f / %.2f / %.2f ms, restore %.2f / %.2f / %.2f ms (%.2f MB file, from"
                            + " the page cache); prefill of the same tokens %.1f ms (median) = %.0fx the restore%n", x.prompt(),
                            z.saveMs().min(), z.saveMs().median(), z.saveMs().max(), z.restoreMs().min(), z.restoreMs().median(),
                            z.restoreMs().max(), z.fileBytes() / 1e6, prefillMs, prefillMs / z.restoreMs().median());
                }
            }
            if (x.generate() > 0 && x.r().decodeApart() != null) {
                // decoded tokens/s with a prompt chunk prefilled beside every step: one pass vs two
                String test = "tg" + x.generate() + (x.batch() > 1 ? "x" + x.batch() : "") + "+pp" + x.beside();
                EndToEndBenchmark.Stats v = x.r().decode();
                EndToEndBenchmark.Stats a = x.r().decodeApart();
                out.printf(Locale.ROOT, "%-18s %10.2f %10.2f %10.2f   (one pass: decode and prefill chunk shared)%n",
                        test + " shared", v.min(), v.median(), v.max());
                out.printf(Locale.ROOT, "%-18s %10.2f %10.2f %10.2f   (two passes; shared/apart median %.2fx)%n",
                        test + " apart", a.min(), a.median(), a.max(), v.median() / a.median());
            } else if (x.generate() > 0) {
                EndToEndBenchmark.Stats v = x.r().decode();
                String fma = x.batch() > 1 ? x.ofFma(x.decodeGflops()) : "";
                out.printf(Locale.ROOT, "%-10s %10.2f %10.2f %10.2f   (%.1f GB/s of weights = %.0f%% of the %.1f GB/s read probe%s)%n",
                        "tg" + x.generate() + (x.batch() > 1 ? "x" + x.batch() : ""), v.min(), v.median(), v.max(),
                        x.decodeGbs(), 100 * x.decodeGbs() / x.bandwidth(), x.bandwidth(), fma.isEmpty() ? "" : "; " + fma);
            }
        }
        load.ifPresent(l -> out.println("machine during the measurements: " + l.describe() + (l.busy() ? " (busy: absolute"
                + " figures run low; the ratios to the probes measured beside them hold up better)" : "")));
        out.flush();
    }

    /** Five device read measurements (the first already taken) as a probe result, named after the backend. */
    private static MemoryReadProbe.Result deviceProbe(Model m, long bytes, double first) {
        double[] s = new double[5];
        s[0] = first;
        for (int i = 1; i < s.length; i++) {
            s[i] = m.backend().measureReadBandwidth(bytes).orElse(0);
        }
        java.util.Arrays.sort(s);
        return new MemoryReadProbe.Result(s[s.length - 1], s[s.length / 2], bytes, 0, m.backend().name() + "-device-read");
    }

    private static double max(double[] xs) {
        double m = 0;
        for (double x : xs) {
            m = Math.max(m, x);
        }
        return m;
    }
}
