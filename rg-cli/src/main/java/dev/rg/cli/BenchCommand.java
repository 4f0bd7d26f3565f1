package dev.rg.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.runtime.MemoryReadProbe;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
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

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "NAME", description = "Backend (default auto).")
    String backend;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "Threads (0 = all cores).")
    int threads;

    @Option(names = {"-b", "--batch"}, defaultValue = "1", paramLabel = "B", description = "Sequences decoded together.")
    int batch;

    @Option(names = {"-p", "--prompt-tokens"}, defaultValue = "128", paramLabel = "P", description = "Prefill length (0 = skip).")
    int prompt;

    @Option(names = {"-n", "--gen-tokens"}, defaultValue = "64", paramLabel = "N", description = "Decode steps (0 = skip).")
    int generate;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "3", paramLabel = "R", description = "Repetitions (min/median/max over them).")
    int repetitions;

    @Option(names = "--probe-mb", defaultValue = "1024", paramLabel = "MB", description = "Size of the memory-read probe buffer.")
    int probeMb;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (batch < 1 || prompt < 0 || generate < 0 || repetitions < 1 || probeMb < 1 || (prompt == 0 && generate == 0)) {
            throw new IllegalArgumentException("need --batch >= 1, -p/-n >= 0 (not both 0), -r >= 1, --probe-mb >= 1");
        }
        LoadOptions options = new LoadOptions(backend, threads, model != null ? format : null, quantizeHead, Map.of());
        PrintStream err = System.err;
        String what;
        Model m;
        try (TerminalProgress progress = new TerminalProgress("preparing")) {
            if (model != null) {
                m = Model.load(model, options, progress);
                what = model.getFileName().toString();
            } else {
                String p = preset == null ? "2b" : preset;
                m = Model.random(ModelConfig.preset(p), format == null ? "bf16" : format, 42, options, progress);
                what = "preset " + p;
            }
        }
        try (m) {
            Warnings.print(m);
            int t = m.backend().threads();
            MemoryReadProbe.Result probe = MemoryReadProbe.measure((long) probeMb << 20, t, 5);
            double[] probeSamples = new double[repetitions];
            EndToEndBenchmark.Result r = new EndToEndBenchmark(m).run(prompt, generate, batch, repetitions, new Runnable() {
                int i;

                @Override
                public void run() {
                    // re-measure between repetitions: the limit moves with the other tenants of the machine
                    probeSamples[i++] = MemoryReadProbe.measure((long) probeMb << 20, t, 2).bestGbPerS();
                }
            });
            double bandwidth = Math.max(probe.bestGbPerS(), max(probeSamples));
            long bytes = m.weightBytesPerToken();
            double decodeGbs = r.decode().median() / batch * bytes / 1e9;
            if (json) {
                ObjectNode o = new ObjectMapper().createObjectNode();
                o.put("model", what).put("backend", m.backend().name()).put("format", m.linearFormat()).put("threads", t)
                        .put("batch", batch).put("prompt_tokens", prompt).put("gen_tokens", generate).put("repetitions", repetitions);
                o.put("prefill_tokens_per_s", r.prefill().median()).put("decode_tokens_per_s", r.decode().median());
                o.putPOJO("prefill_tokens_per_s_min_median_max", new double[] {r.prefill().min(), r.prefill().median(), r.prefill().max()});
                o.putPOJO("decode_tokens_per_s_min_median_max", new double[] {r.decode().min(), r.decode().median(), r.decode().max()});
                o.put("weight_bytes_per_token", bytes).put("decode_weight_gb_per_s", decodeGbs);
                o.put("measured_read_gb_per_s", bandwidth).put("measured_read_gb_per_s_median", probe.medianGbPerS())
                        .put("read_probe", probe.reader());
                o.put("decode_percent_of_bandwidth", 100 * decodeGbs / bandwidth);
                o.put("java", Runtime.version().toString()).put("cores", Runtime.getRuntime().availableProcessors());
                Output.write(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o) + "\n");
            } else {
                PrintStream out = Output.out();
                out.printf(Locale.ROOT, "model %s | backend %s | format %s | threads %d | batch %d | weights %.3f GB/token%n", what,
                        m.backend().name(), m.linearFormat(), t, batch, bytes / 1e9);
                out.printf(Locale.ROOT, "memory read probe (%s, %d threads): best %.1f GB/s, median %.1f GB/s%n", probe.reader(), t,
                        bandwidth, probe.medianGbPerS());
                out.printf(Locale.ROOT, "%-10s %10s %10s %10s   %s%n", "test", "min", "median", "max", "tokens/s");
                if (prompt > 0) {
                    out.printf(Locale.ROOT, "%-10s %10.2f %10.2f %10.2f%n", "pp" + prompt, r.prefill().min(), r.prefill().median(),
                            r.prefill().max());
                }
                if (generate > 0) {
                    out.printf(Locale.ROOT, "%-10s %10.2f %10.2f %10.2f   (%.1f GB/s of weights = %.0f%% of the measured read bandwidth)%n",
                            "tg" + generate + (batch > 1 ? "x" + batch : ""), r.decode().min(), r.decode().median(), r.decode().max(),
                            decodeGbs, 100 * decodeGbs / bandwidth);
                }
                out.flush();
            }
            err.flush();
        }
        return 0;
    }

    private static double max(double[] xs) {
        double m = 0;
        for (double x : xs) {
            m = Math.max(m, x);
        }
        return m;
    }
}
