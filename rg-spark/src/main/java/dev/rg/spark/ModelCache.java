package dev.rg.spark;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.PromptPrefix;
import dev.rg.core.model.LoadOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;

/**
 * One loaded model per executor JVM and (directory, backend, threads, format): loaded lazily by the first task
 * that needs it, then shared by every task and stage of that JVM. Safe to share: {@link RecurrentGemma} keeps
 * the weights (memory-mapped) read-only and gives each generate call its own state. Models stay loaded until
 * the executor exits (the mapping then goes with the process).
 */
final class ModelCache {
    private record Key(Path dir, String backend, int threads, String format) {}

    private static final ConcurrentMap<Key, RecurrentGemma> MODELS = new ConcurrentHashMap<>();
    /** Prompt prefixes processed on this executor: at most {@link #MAX_PREFIXES}, each one fixed-size state. */
    private static final int MAX_PREFIXES = 16;
    private static final PromptPrefixCache PREFIXES = new PromptPrefixCache(MAX_PREFIXES, ModelCache::build);
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ModelCache() {}

    /** The model for {@code spec}, loading it on first use (concurrent first users wait for one load). */
    static RecurrentGemma get(GenerateSpec spec) {
        Path dir = resolve(spec.modelDir());
        LoadOptions options = spec.loadOptions();
        Key key = new Key(dir, options.backend(), options.threads(), options.format());
        return MODELS.computeIfAbsent(key, k -> {
            LOADS.incrementAndGet();
            return RecurrentGemma.load(k.dir(), options);
        });
    }

    /**
     * The processed prompt prefix {@code text} on {@code rg}, built by the first task that needs it (concurrent first users
     * wait for one build) and shared by every later task of this executor; null when this executor already keeps
     * {@link #MAX_PREFIXES} others (the caller then builds its own for the batch and closes it). See {@link PromptPrefixCache}.
     */
    static PromptPrefix prefix(RecurrentGemma rg, String text) {
        return PREFIXES.get(rg, text);
    }

    /** BOS and {@code text}'s tokens, processed. */
    static PromptPrefix build(RecurrentGemma rg, String text) {
        return PromptPrefix.of(rg.model(), rg.withBos(rg.tokenize(text)));
    }

    /** How many prompt prefixes this JVM has processed for the cache (tests check that tasks share one). */
    static int prefixBuilds() {
        return PREFIXES.builds();
    }

    /** How many models this JVM has loaded so far (tests check that tasks reuse one). */
    static int loads() {
        return LOADS.get();
    }

    /**
     * The directory as this executor sees it: the path as given (absolute, or relative to the executor's working
     * directory, where {@code --archives m.tgz#m} unpacks), else a file shipped with {@code --files} /
     * {@code SparkContext.addFile}.
     */
    static Path resolve(String modelDir) {
        Path given = Path.of(modelDir).toAbsolutePath().normalize();
        if (Files.isDirectory(given)) {
            return given;
        }
        if (SparkEnv.get() != null) {
            Path shipped = Path.of(SparkFiles.get(modelDir)).toAbsolutePath().normalize();
            if (Files.isDirectory(shipped)) {
                return shipped;
            }
        }
        throw new IllegalArgumentException("rg-spark: model directory " + modelDir + " is not readable on this executor ("
                + hostName() + "; looked at " + given + " and in SparkFiles): put it on every node or a shared filesystem, "
                + "or ship it with --archives model.tgz#" + Path.of(modelDir).getFileName());
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown host";
        }
    }
}
