package dev.rg.cli;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.core.model.HeadFormat;
import dev.rg.core.model.QuantizedCheckpointWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rg quantize}: convert a checkpoint ahead of time into a self-describing directory that loads fast. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Convert the linear layers (and optionally the head) to a weight format and write a new model directory.")
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Source model directory.")
    Path model;

    @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "int8, nf4, nf4-dq, fp4, bf16, f16, f32.")
    String format;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "New directory (must not exist or be empty).")
    Path out;

    @Option(names = "--quantize-head", description = "Also convert the tied embedding / LM head.")
    boolean quantizeHead;

    @Option(names = "--head-format", paramLabel = "FORMAT", description = ModelOptions.HEAD_FORMAT_HELP)
    String headFormat;

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        try (TerminalProgress progress = new TerminalProgress("quantize " + model.getFileName())) {
            QuantizedCheckpointWriter.write(model, out, format, quantizeHead, headFormat, progress);
        }
        WeightFormat head = HeadFormat.resolve(WeightFormats.byName(format), quantizeHead, headFormat);
        System.err.printf("wrote %s (%s, head %s) in %.1f s%n", out, format, head == null ? "as stored" : head.name(),
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
