package dev.rg.cli;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.core.model.HeadFormat;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Loss;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rg quality}: what a weight format costs in accuracy. Per format: the logit error against the f32
 * model over a prompt (max abs, RMS relative, top-1 agreement) and, with a text, the perplexity.
 */
@Command(name = "quality", mixinStandardHelpOptions = true,
        description = "Compare weight formats against f32: logit error over a prompt and perplexity over a text.")
final class QualityCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Model directory (default: the embedded model).")
    Path model;

    @Option(names = "--formats", split = ",", defaultValue = "bf16,int8,nf4", paramLabel = "F,...", description = "Formats to compare (default ${DEFAULT-VALUE}).")
    List<String> formats;

    @Option(names = "--quantize-head", description = "Also convert the embedding / LM head.")
    boolean quantizeHead;

    @picocli.CommandLine.Mixin
    BackendSettingsOption backendSettings;

    @Option(names = "--head-format", paramLabel = "FORMAT", description = ModelOptions.HEAD_FORMAT_HELP)
    String headFormat;

    @Option(names = "--text", paramLabel = "FILE", description = "Text for perplexity (default: heldout.txt in the model directory, if any).")
    Path text;

    @Option(names = "--tokens", defaultValue = "4080", paramLabel = "N", description = "Text tokens evaluated (chunks of 255 after BOS; default ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--ids", split = ",", paramLabel = "ID", description = "Prompt ids for the logit comparison (default: the first 128 text tokens, or random ids).")
    int[] ids;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "NAME", description = "Backend (default auto).")
    String backend;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "Threads (0 = all cores).")
    int threads;

    @Override
    public Integer call() throws IOException {
        Path dir = model != null ? model : EmbeddedModel.dir();
        Path textFile = text != null ? text : Files.exists(dir.resolve("heldout.txt")) ? dir.resolve("heldout.txt") : null;
        int[] corpus = null;
        if (textFile != null) {
            corpus = GemmaTokenizer.load(dir).encode(Files.readString(textFile));
        }
        int[] prompt = ids != null ? ids : promptFrom(corpus);
        float[] reference = logits(dir, "f32", prompt);
        PrintStream out = Output.out();
        out.printf(Locale.ROOT, "%s, prompt %d tokens%s%n", dir.getFileName(), prompt.length,
                corpus == null ? "" : ", perplexity over " + Math.min(tokens, corpus.length / 255 * 255) + " tokens of " + textFile.getFileName());
        out.printf(Locale.ROOT, "| format | head | max abs dlogit | RMS rel. error | top-1 agreement | perplexity | vs f32 |%n|---|---|---|---|---|---|---|%n");
        double basePpl = Double.NaN;
        List<String> all = new ArrayList<>(List.of("f32"));
        for (String f : formats) {
            if (!f.equals("f32")) {
                all.add(f);
            }
        }
        for (String f : all) {
            float[] l = f.equals("f32") ? reference : logits(dir, f, prompt);
            int vocab = l.length / prompt.length;
            double maxAbs = 0;
            double num = 0;
            double den = 0;
            int agree = 0;
            for (int t = 0; t < prompt.length; t++) {
                int a = 0;
                int b = 0;
                for (int v = 0; v < vocab; v++) {
                    int i = t * vocab + v;
                    maxAbs = Math.max(maxAbs, Math.abs(l[i] - reference[i]));
                    num += (double) (l[i] - reference[i]) * (l[i] - reference[i]);
                    den += (double) reference[i] * reference[i];
                    a = l[i] > l[t * vocab + a] ? v : a;
                    b = reference[i] > reference[t * vocab + b] ? v : b;
                }
                agree += a == b ? 1 : 0;
            }
            double ppl = corpus == null ? Double.NaN : perplexity(dir, f, corpus);
            if (f.equals("f32")) {
                basePpl = ppl;
            }
            WeightFormat head = HeadFormat.resolve(WeightFormats.byName(f), quantizeHead, headFormat);
            out.printf(Locale.ROOT, "| %s | %s | %.4f | %.5f | %.1f%% | %s | %s |%n", f, head == null ? "stored" : head.name(),
                    maxAbs, Math.sqrt(num / den), 100.0 * agree / prompt.length, Double.isNaN(ppl) ? "-" : String.format(Locale.ROOT, "%.3f", ppl),
                    Double.isNaN(ppl) ? "-" : String.format(Locale.ROOT, "%+.2f%%", 100 * (ppl / basePpl - 1)));
        }
        out.flush();
        return 0;
    }

    private static int[] promptFrom(int[] corpus) {
        int n = corpus == null ? 0 : Math.min(127, corpus.length);
        int[] p = new int[Math.max(n, 64) + 1];
        p[0] = 2;
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int i = 1; i < p.length; i++) {
            p[i] = i - 1 < n ? corpus[i - 1] : 3 + r.nextInt(200);
        }
        return p;
    }

    private RecurrentGemma load(Path dir, String format) {
        return RecurrentGemma.loadForIds(dir, new LoadOptions(backend, threads, format, quantizeHead, backendSettings.settings(), headFormat),
                LoadProgress.NONE);
    }

    private float[] logits(Path dir, String format, int[] prompt) {
        try (RecurrentGemma rg = load(dir, format); ModelState s = rg.newState(1)) {
            Model m = rg.model();
            float[] out = new float[prompt.length * m.config().vocabSize()];
            m.backend().download(m.griffin().forward(s, prompt, prompt.length, Outputs.ALL), out);
            return out;
        }
    }

    /** Chunks of [BOS] + 255 tokens, each a fresh sequence (as the embedded model's goldens define it). */
    private double perplexity(Path dir, String format, int[] corpus) {
        try (RecurrentGemma rg = load(dir, format)) {
            Model m = rg.model();
            Loss.Result total = new Loss.Result(0, 0);
            int chunks = Math.min(tokens, corpus.length) / 255;
            for (int c = 0; c < chunks; c++) {
                int[] chunk = new int[256];
                chunk[0] = m.config().bosId();
                System.arraycopy(corpus, 255 * c, chunk, 1, 255);
                total = total.plus(Loss.of(m, chunk));
            }
            return total.perplexity();
        }
    }
}
