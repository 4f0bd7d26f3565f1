package dev.rg.cli;

import dev.rg.api.format.RawTensor;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ConfigReader;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.safetensors.Checkpoint;
import dev.rg.core.model.Finite;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rg info}: what a checkpoint holds. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show a model's config, parameter count, tensors and formats.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Model directory (default: the embedded model).")
    Path model;

    @Option(names = "--tensors", description = "List every tensor.")
    boolean tensors;

    @Option(names = "--verify", description = "Scan every weight for NaN and infinities (reads the whole checkpoint).")
    boolean verify;

    @Override
    public Integer call() {
        Path dir = model != null ? model : EmbeddedModel.dir();
        ModelConfig c = ConfigReader.read(dir);
        PrintStream out = Output.out();
        out.printf(Locale.ROOT, "model          %s%n", dir.toAbsolutePath());
        out.printf(Locale.ROOT, "parameters     %,d (%.2f M; embedding %,d, tied with the LM head)%n", c.parameterCount(),
                c.parameterCount() / 1e6, (long) c.vocabSize() * c.hiddenSize());
        out.printf(Locale.ROOT, "vocab          %d%nhidden         %d%nlru width      %d%nmlp width      %d (intermediate_size %d / 2)%n",
                c.vocabSize(), c.hiddenSize(), c.lruWidth(), c.mlpWidth(), c.intermediateSize());
        out.printf(Locale.ROOT, "layers         %d (%d recurrent, %d attention): %s%n", c.layers(), c.count(BlockType.RECURRENT),
                c.count(BlockType.ATTENTION), pattern(c));
        out.printf(Locale.ROOT, "attention      %d heads x %d, %d kv head(s), window %d, rope theta %.0f%n", c.heads(), c.headDim(),
                c.kvHeads(), c.window(), c.ropeTheta());
        out.printf(Locale.ROOT, "conv1d width   %d%nsoft cap       %.1f%nembed scale    %s (bf16 of sqrt(%d))%n", c.convWidth(),
                c.logitsSoftCap(), c.embeddingScale(), c.hiddenSize());
        out.printf(Locale.ROOT, "torch_dtype    %s%n", c.torchDtype());
        if (!c.quantization().isEmpty()) {
            out.printf(Locale.ROOT, "quantization   %s%n", c.quantization());
        }
        try (Checkpoint ck = Checkpoint.open(dir)) {
            Map<String, long[]> byType = new TreeMap<>();
            for (RawTensor t : ck.tensors().values()) {
                long[] agg = byType.computeIfAbsent(t.dtype().safetensorsName(), k -> new long[2]);
                agg[0]++;
                agg[1] += t.data().byteSize();
            }
            out.printf(Locale.ROOT, "files          %d, %,d bytes%n", ck.files().size(), ck.totalBytes());
            byType.forEach((k, v) -> out.printf(Locale.ROOT, "  %-5s        %d tensors, %,d bytes%n", k, v[0], v[1]));
            if (tensors) {
                for (RawTensor t : ck.tensors().values()) {
                    out.printf(Locale.ROOT, "  %-60s %-5s %s%n", t.name(), t.dtype().safetensorsName(), t.shape());
                }
            }
            if (verify) {
                verify(ck, out);
            }
        }
        return 0;
    }

    /** Fails on the first tensors holding NaN or an infinity (bit patterns, so every stored float type is covered). */
    private static void verify(Checkpoint ck, PrintStream out) {
        List<String> bad = new ArrayList<>();
        long scanned = 0;
        for (RawTensor t : ck.tensors().values()) {
            long i = Finite.firstNonFinite(t.data(), t.dtype());
            scanned += t.data().byteSize();
            if (i >= 0) {
                bad.add("'" + t.name() + "' (" + t.file() + ") element " + i);
            }
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(bad.size() + " tensor(s) hold NaN or infinite values: " + bad.getFirst()
                    + (bad.size() > 1 ? " and " + String.join(", ", bad.subList(1, Math.min(bad.size(), 4))) + (bad.size() > 4 ? ", ..." : "") : ""));
        }
        out.printf(Locale.ROOT, "verify         every weight is finite (%d tensors, %,d bytes scanned)%n", ck.tensors().size(), scanned);
    }

    private static String pattern(ModelConfig c) {
        StringBuilder sb = new StringBuilder();
        for (BlockType t : c.layerTypes()) {
            sb.append(t == BlockType.RECURRENT ? 'R' : 'A');
        }
        return sb.toString();
    }
}
