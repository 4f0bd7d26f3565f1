package dev.rg.core.model;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.HostMemory;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.core.config.ConfigReader;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.runtime.BackendRegistry;
import dev.rg.core.safetensors.Checkpoint;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A loaded model: the {@link Griffin} on its backend plus what keeps it alive (file mappings, converted
 * weights, the backend). Thread-safe for concurrent generation with separate {@link ModelState}s when the
 * backend is (every rg backend is). Close it to release memory and threads.
 */
public final class Model implements AutoCloseable {
    private final Griffin griffin;
    private final Path dir;
    private final Checkpoint checkpoint;
    private final Arena arena;
    private final Map<String, String> formats;
    private final int hostOnly;
    /** {@link ModelIdentity}: given for a random model, computed on first use for a checkpoint (it reads samples of it). */
    private String identity;

    private Model(Griffin griffin, Path dir, Checkpoint checkpoint, Arena arena, Map<String, String> formats, int hostOnly) {
        this.griffin = griffin;
        this.dir = dir;
        this.checkpoint = checkpoint;
        this.arena = arena;
        this.formats = Map.copyOf(formats);
        this.hostOnly = hostOnly;
    }

    /** Loads a Hugging Face RecurrentGemma directory (config.json + safetensors). */
    public static Model load(Path dir, LoadOptions options, LoadProgress progress) {
        ModelConfig config = ConfigReader.read(dir);
        WeightFormat target = options.format() == null ? null : WeightFormats.byName(options.format());
        Backend backend = createBackend(options);
        Arena arena = Arena.ofShared();
        Checkpoint checkpoint = null;
        try {
            Checkpoint ck = Checkpoint.open(dir, b -> progress.update("check", b, -1));
            checkpoint = ck;
            CheckpointWeights source = new CheckpointWeights(ck, config);
            WeightConversion conversion = new WeightConversion(target,
                    HeadFormat.resolve(target, options.quantizeHead(), options.headFormat()));
            ModelAssembler asm = new ModelAssembler(config, backend, conversion, arena, progress);
            Griffin g = asm.assemble(t -> source.read(t.name(), t.shape()));
            return new Model(g, dir, ck, arena, asm.formats(), asm.hostOnlyCount());
        } catch (RuntimeException e) {
            backend.close();
            if (checkpoint != null) {
                checkpoint.close();
            }
            arena.close();
            throw e;
        }
    }

    /** Loads with default progress (none). */
    public static Model load(Path dir, LoadOptions options) {
        return load(dir, options, LoadProgress.NONE);
    }

    /** Kept free beside a preset's random weights: the JVM, its heap's first use, the OS. */
    private static final long PRESET_MARGIN_BYTES = 1L << 30;

    /**
     * Fails with one line unless {@code bytes} of random weights fit in the memory available now: they are written as
     * they are made, and past what the machine holds the kernel kills the JVM without a message.
     */
    private static void requireRoomFor(long bytes, WeightFormat format) {
        long available = HostMemory.availableBytes();
        if (available >= 0 && bytes + PRESET_MARGIN_BYTES > available) {
            throw new IllegalArgumentException(String.format("random weights of these shapes in %s need %.1f GB of memory"
                    + " (and 1 GB more for everything else), but %.1f GB is available (MemAvailable): use a smaller --format"
                    + " (int8, nf4) or preset, or a real checkpoint (-m DIR), which is mapped and paged in as it is read",
                    format.name(), bytes / 1e9, available / 1e9));
        }
    }

    /**
     * A model of the given architecture with seeded random weights (for benchmarks and tests: no download).
     * Linear layers are generated in {@code format} (or bf16 when null), the embedding / LM head in the options' head
     * format ({@link HeadFormat}; bf16 when it stays "as stored"), small weights in f32.
     */
    public static Model random(ModelConfig config, String format, long seed, LoadOptions options, LoadProgress progress) {
        WeightFormat target = WeightFormats.byName(format == null ? "bf16" : format);
        Backend backend = createBackend(options);
        Arena arena = Arena.ofShared();
        try {
            ModelAssembler asm = new ModelAssembler(config, backend, new WeightConversion(null, null), arena, progress);
            WeightFormat head = HeadFormat.resolve(target, options.quantizeHead(), options.headFormat());
            RandomWeights source = new RandomWeights(config, target, head == null ? WeightFormats.bf16() : head, seed, arena);
            // every random weight first, then the backend loads them: these are anonymous memory, not pages of a mapped
            // file that the kernel can drop, so a backend that sizes its own copies by the memory available (the vector
            // backend's bf16 panels) must see all of them taken. Made and loaded in turn, the 9B preset's first panels
            // took the memory its last weights then needed, and the kernel killed the JVM (24 GB machine).
            List<ExpectedTensor> expected = WeightNames.tensors(config);
            requireRoomFor(expected.stream().mapToLong(source::byteSize).sum(), target);
            Map<String, HostWeight> made = new HashMap<>();
            long total = expected.stream().mapToLong(t -> t.shape().elementCount()).sum();
            long done = 0;
            for (ExpectedTensor t : expected) {
                made.put(t.name(), source.create(t));
                done += t.shape().elementCount();
                progress.update("generate", done, total);
            }
            Griffin g = asm.assemble(t -> made.get(t.name()));
            Model m = new Model(g, null, null, arena, asm.formats(), asm.hostOnlyCount());
            m.identity = ModelIdentity.ofRandom(config, m.linearFormat(), m.headFormat(), seed);
            return m;
        } catch (RuntimeException e) {
            backend.close();
            arena.close();
            throw e;
        }
    }

    private static Backend createBackend(LoadOptions options) {
        BackendProvider provider = BackendRegistry.select(options.backend());
        return provider.create(new BackendOptions(options.effectiveThreads(), options.settings()));
    }

    public Griffin griffin() {
        return griffin;
    }

    public ModelConfig config() {
        return griffin.config();
    }

    public Backend backend() {
        return griffin.backend();
    }

    /** The directory it was loaded from, or null for a generated model. */
    public Path dir() {
        return dir;
    }

    /** Weight format of every tensor. */
    public Map<String, String> formats() {
        return formats;
    }

    /** Number of tensors per format, e.g. {@code {bf16=112}}. */
    public Map<String, Integer> formatCounts() {
        Map<String, Integer> m = new TreeMap<>();
        formats.values().forEach(f -> m.merge(f, 1, Integer::sum));
        return m;
    }

    /**
     * The format of the linear layers (what people call the model's format), e.g. {@code nf4}: the formats of
     * every {@link TensorRole#LINEAR} tensor, joined with {@code +} in name order if they differ ({@code ?} if none).
     */
    public String linearFormat() {
        TreeSet<String> linear = new TreeSet<>();
        formats.forEach((name, format) -> {
            if (WeightNames.isLinear(name)) {
                linear.add(format);
            }
        });
        return linear.isEmpty() ? "?" : String.join("+", linear);
    }

    /** The format of the tied embedding / LM head, e.g. {@code int8}. */
    public String headFormat() {
        return formats.getOrDefault(WeightNames.EMBEDDING, "?");
    }

    /** Weights that run on the reference fallback because the backend has no kernel for their format. */
    public int hostOnlyWeights() {
        return hostOnly;
    }

    /** Weight bytes read per decoded token. */
    public long weightBytesPerToken() {
        return griffin.weights().bytesPerToken();
    }

    /** Floating-point operations (2 per multiply-add) of the matrix products for one token; {@code withHead}: and its logits. */
    public long flopsPerToken(boolean withHead) {
        ModelWeights w = griffin.weights();
        return 2 * (w.layerMultiplyAddsPerToken() + (withHead ? w.headMultiplyAddsPerToken() : 0));
    }

    /**
     * A digest of the weights (the checkpoint's config, headers and a sample of every tensor; a random model's config,
     * formats and seed) that a saved state records, so that it is resumed only by the weights that computed it.
     */
    public synchronized String identity() {
        if (identity == null) {
            identity = ModelIdentity.ofCheckpoint(config(), checkpoint);
        }
        return identity;
    }

    /** A fresh state for {@code batch} sequences. */
    public ModelState newState(int batch) {
        return griffin.newState(batch);
    }

    @Override
    public void close() {
        griffin.backend().close();
        if (checkpoint != null) {
            checkpoint.close();
        }
        arena.close();
    }
}
