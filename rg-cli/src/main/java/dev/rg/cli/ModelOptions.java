package dev.rg.cli;

import dev.rg.core.model.LoadOptions;
import dev.rg.core.RecurrentGemma;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options shared by every command that loads a model. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "Hugging Face model directory (config.json, *.safetensors, tokenizer.model). Default: the embedded austen-6m model.")
    Path model;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "Backend: auto (highest-priority available), reference, vector, cuda, ... (also -Drg.backend / RG_BACKEND). Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "0",
            description = "Worker threads for CPU backends (0 = one per core).")
    int threads;

    @Option(names = "--format", paramLabel = "FORMAT",
            description = "Convert the linear layers at load: f32, bf16, f16, int8, nf4 (default: as stored).")
    String format;

    @Option(names = "--quantize-head", description = "Also convert the tied embedding / LM head to --format.")
    boolean quantizeHead;

    /** The help of every command's {@code --head-format}. */
    static final String HEAD_FORMAT_HELP = "Format of the tied embedding / LM head: f32, bf16, f16, int8, nf4, fp4, or stored (default: int8 when --format has at most 8 bits per element, else as stored).";

    @Option(names = "--head-format", paramLabel = "FORMAT", description = HEAD_FORMAT_HELP)
    String headFormat;

    @Mixin
    BackendSettingsOption backendSettings;

    /** The model directory: --model, else the embedded default. */
    Path modelDir() {
        Path dir = model != null ? model : EmbeddedModel.dir();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--model " + dir + ": not a directory");
        }
        return dir;
    }

    LoadOptions loadOptions() {
        if (threads < 0 || threads > LoadOptions.MAX_THREADS) {
            throw new IllegalArgumentException("--threads must be in [0, " + LoadOptions.MAX_THREADS + "] (0 = one per core; this machine has "
                    + Runtime.getRuntime().availableProcessors() + "), got " + threads);
        }
        return new LoadOptions(backend, threads, format, quantizeHead, backendSettings.settings(), headFormat);
    }

    /** The model with its tokenizer, through the façade (which checks that the two fit). */
    RecurrentGemma load() {
        Path dir = modelDir();
        try (TerminalProgress progress = new TerminalProgress("loading " + dir.getFileName())) {
            return RecurrentGemma.load(dir, loadOptions(), progress);
        }
    }

    /**
     * Seeded random weights of a preset's shapes ({@code 2b}, {@code 9b}, {@code tiny}) behind the tokenizer of the model
     * directory, its vocabulary cut to that tokenizer's: a real model's size and cost without a checkpoint (the text is
     * gibberish). For load tests ({@code rg serve --preset}) and throughput runs ({@code rg batch --preset}).
     */
    RecurrentGemma loadPreset(String preset, dev.rg.core.model.LoadProgress progress) {
        dev.rg.core.tokenizer.GemmaTokenizer tokenizer = dev.rg.core.tokenizer.GemmaTokenizer.load(modelDir());
        dev.rg.core.config.ModelConfig config = dev.rg.core.config.ModelConfig.preset(preset).withVocab(tokenizer.vocabSize());
        LoadOptions load = loadOptions();
        return RecurrentGemma.random(config, load.format(), 1, load, progress, tokenizer);
    }

    /** For commands that run token ids: the tokenizer is loaded (and checked) when the directory has one. */
    RecurrentGemma loadForIds() {
        Path dir = modelDir();
        try (TerminalProgress progress = new TerminalProgress("loading " + dir.getFileName())) {
            return RecurrentGemma.loadForIds(dir, loadOptions(), progress);
        }
    }
}
