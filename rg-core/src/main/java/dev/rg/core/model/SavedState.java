package dev.rg.core.model;

import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.safetensors.SafetensorsException;
import dev.rg.core.safetensors.SafetensorsFile;
import dev.rg.core.safetensors.SafetensorsWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One sequence's state written to a file, and read back: a conversation paused on disk and resumed later without
 * re-reading its history. A RecurrentGemma state has a fixed size, so the file does too (plus 4 bytes per token of
 * the token ids it represents), however long the conversation was: 2B, at most 37 MB; the embedded model, 0.3 MB.
 *
 * <p>The file is a standard safetensors file (float32, little-endian): {@code tokens} (I32, every token the state
 * has processed), per recurrent layer {@code layers.L.conv} and {@code layers.L.lru}, per attention layer
 * {@code layers.L.keys} and {@code layers.L.values} (only the ring slots written so far: {@code min(position, W)} rows
 * of {@code kvHeads x headDim}, so a short conversation stays small), optionally {@code logits} (the row the next
 * token is drawn from, so the same prompt resumes without a forward pass), and metadata: {@code format = rg-state},
 * {@code version}, the {@linkplain Model#identity model identity}, the weight formats, {@code position} and
 * {@code pending} (a generated token not yet fed, or -1). Reading checks all of it against the model: a state
 * resumed on other weights, or in another weight format, would continue without an error into different text.
 *
 * <p>Restoring is exact: the restored sequence continues bit for bit as the saved one would have (unwritten ring
 * slots are zero in a fresh state and never read before they are written).
 */
public final class SavedState {
    static final String FORMAT = "rg-state";
    static final String VERSION = "1";
    private static final Set<String> RESERVED = Set.of("format", "version", "model", "linear_format", "head_format",
            "position", "pending");
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int[] tokens;
    private final int pending;
    private final float[] logits;
    private final Map<String, String> extra;
    /** Per layer: conv and lru (recurrent) or keys and values (attention, only the written slots). */
    private final float[][] first;
    private final float[][] second;

    private SavedState(int[] tokens, int pending, float[] logits, Map<String, String> extra, float[][] first, float[][] second) {
        this.tokens = tokens;
        this.pending = pending;
        this.logits = logits;
        this.extra = Map.copyOf(extra);
        this.first = first;
        this.second = second;
    }

    /** Every token the state has processed (its position is their number). */
    public int[] tokens() {
        return tokens.clone();
    }

    /** The state's position: tokens processed. */
    public int position() {
        return tokens.length;
    }

    /** A generated token that was not fed through the model yet (the next feed starts with it), or -1. */
    public int pending() {
        return pending;
    }

    /** The logits of the last processed token, or null when the file has none. */
    public float[] logits() {
        return logits == null ? null : logits.clone();
    }

    /** The caller's own metadata, as written. */
    public Map<String, String> extra() {
        return extra;
    }

    /**
     * Writes row {@code row} of {@code state} to {@code file} (whole or not at all: a temporary name, then a rename).
     *
     * @param tokens  every token the row has processed ({@code state.position(row)} of them)
     * @param pending a generated token not fed yet, or -1
     * @param logits  the logits of the last processed token (vocabulary size), or null
     * @param extra   the caller's metadata (keys other than the reserved ones)
     */
    public static void write(Path file, Model model, ModelState state, int row, int[] tokens, int pending, float[] logits,
            Map<String, String> extra) {
        ModelConfig c = model.config();
        int position = state.position(row);
        if (position == 0) {
            throw new IllegalArgumentException("nothing to save: the sequence has not processed a token yet");
        }
        if (tokens.length != position) {
            throw new IllegalArgumentException(tokens.length + " token ids for a state at position " + position);
        }
        if (logits != null && (logits.length != c.vocabSize() || pending >= 0)) {
            throw new IllegalArgumentException("logits must have " + c.vocabSize() + " entries and no token may be pending");
        }
        for (String key : extra.keySet()) {
            if (RESERVED.contains(key)) {
                throw new IllegalArgumentException("metadata key '" + key + "' is reserved");
            }
        }
        ModelState temp = null;
        ModelState src = state;
        if (state.capacity() != 1 || row != 0) {
            temp = model.newState(1);
            temp.copySequence(state, row, 0);
            src = temp;
        }
        try (Arena arena = Arena.ofConfined()) {
            List<RawTensor> out = new ArrayList<>();
            MemorySegment ids = arena.allocate(4L * tokens.length, 4);
            MemorySegment.copy(tokens, 0, ids, I32, 0, tokens.length);
            out.add(new RawTensor("tokens", DType.I32, Shape.of(tokens.length), ids, null));
            int slots = Math.min(position, c.window());
            int kvCols = c.kvHeads() * c.headDim();
            for (int l = 0; l < c.layers(); l++) {
                if (src.conv(l) != null) {
                    out.add(f32(arena, "layers." + l + ".conv", Shape.matrix(1, src.conv(l).cols()), download(model, src.conv(l))));
                    out.add(f32(arena, "layers." + l + ".lru", Shape.matrix(1, src.lru(l).cols()), download(model, src.lru(l))));
                } else {
                    out.add(f32(arena, "layers." + l + ".keys", Shape.matrix(slots, kvCols), download(model, src.keys(l))));
                    out.add(f32(arena, "layers." + l + ".values", Shape.matrix(slots, kvCols), download(model, src.values(l))));
                }
            }
            if (logits != null) {
                out.add(f32(arena, "logits", Shape.of(logits.length), logits));
            }
            Map<String, String> meta = new HashMap<>(extra);
            meta.put("format", FORMAT);
            meta.put("version", VERSION);
            meta.put("model", model.identity());
            meta.put("linear_format", model.linearFormat());
            meta.put("head_format", model.headFormat());
            meta.put("position", Integer.toString(position));
            meta.put("pending", Integer.toString(pending));
            SafetensorsWriter.write(file, out, meta, done -> {});
        } catch (SafetensorsException e) {
            throw new StateFileException(e.getMessage(), e);
        } finally {
            if (temp != null) {
                temp.close();
            }
        }
    }

    private static float[] download(Model model, Tensor t) {
        float[] a = new float[Math.toIntExact(t.size())];
        model.backend().download(t, a);
        return a;
    }

    /** The first {@code shape.elementCount()} floats of {@code values} as a little-endian tensor. */
    private static RawTensor f32(Arena arena, String name, Shape shape, float[] values) {
        int n = Math.toIntExact(shape.elementCount());
        MemorySegment seg = arena.allocate(4L * n, 4);
        MemorySegment.copy(values, 0, seg, F32, 0, n);
        return new RawTensor(name, DType.F32, shape, seg, null);
    }

    /**
     * Reads and checks {@code file} against {@code model}: its kind and version, the model identity and weight formats,
     * every tensor's dtype and shape, token ids inside the vocabulary, finite values.
     *
     * @throws StateFileException naming the file and what was expected
     */
    public static SavedState read(Path file, Model model) {
        ModelConfig c = model.config();
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f;
            try {
                f = SafetensorsFile.open(file, arena);
            } catch (SafetensorsException e) {
                throw new StateFileException(e.getMessage(), e);
            }
            Map<String, String> meta = f.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new StateFileException(file + ": not an rg state file (its metadata has no \"format\": \"" + FORMAT + "\")");
            }
            if (!VERSION.equals(meta.get("version"))) {
                throw new StateFileException(file + ": rg state version " + meta.get("version") + "; this rg reads version " + VERSION);
            }
            if (!model.identity().equals(meta.get("model"))) {
                throw new StateFileException(file + ": saved by another model (weights " + meta.get("model") + "; these are "
                        + model.identity() + "): a state resumes only on the weights that computed it");
            }
            String linear = meta.get("linear_format");
            String head = meta.get("head_format");
            if (!model.linearFormat().equals(linear) || !model.headFormat().equals(head)) {
                throw new StateFileException(file + ": saved with " + linear + " weights (head " + head + "); this model runs "
                        + model.linearFormat() + " (head " + model.headFormat() + "): load it with --format " + linear
                        + " to resume, or start over");
            }
            int position = intMeta(file, meta, "position", 1, Integer.MAX_VALUE);
            int pending = intMeta(file, meta, "pending", -1, c.vocabSize() - 1);
            int[] tokens = ints(file, f, "tokens", position);
            for (int i = 0; i < tokens.length; i++) {
                if (tokens[i] < 0 || tokens[i] >= c.vocabSize()) {
                    throw new StateFileException(file + ": token id " + tokens[i] + " at index " + i
                            + " is outside the vocabulary (0.." + (c.vocabSize() - 1) + ")");
                }
            }
            int slots = Math.min(position, c.window());
            int kvCols = c.kvHeads() * c.headDim();
            int convCols = (c.convWidth() - 1) * c.lruWidth();
            float[][] first = new float[c.layers()][];
            float[][] second = new float[c.layers()][];
            for (int l = 0; l < c.layers(); l++) {
                if (c.blockType(l) == BlockType.RECURRENT) {
                    first[l] = floats(file, f, "layers." + l + ".conv", Shape.matrix(1, convCols));
                    second[l] = floats(file, f, "layers." + l + ".lru", Shape.matrix(1, c.lruWidth()));
                } else {
                    first[l] = floats(file, f, "layers." + l + ".keys", Shape.matrix(slots, kvCols));
                    second[l] = floats(file, f, "layers." + l + ".values", Shape.matrix(slots, kvCols));
                }
            }
            float[] logits = null;
            if (f.tensors().containsKey("logits")) {
                if (pending >= 0) {
                    throw new StateFileException(file + ": has logits and a pending token " + pending + "; a state has one or the other");
                }
                logits = floats(file, f, "logits", Shape.of(c.vocabSize()));
            }
            Map<String, String> extra = new HashMap<>(meta);
            extra.keySet().removeAll(RESERVED);
            return new SavedState(tokens, pending, logits, extra, first, second);
        }
    }

    /** Whether {@code file} is a safetensors file marked as an rg state file (of any model or version). */
    public static boolean isStateFile(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            return FORMAT.equals(SafetensorsFile.open(file, arena).metadata().get("format"));
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static int intMeta(Path file, Map<String, String> meta, String key, int min, int max) {
        String v = meta.get(key);
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new StateFileException(file + ": metadata \"" + key + "\" must be an integer in " + min + ".." + max + ", found "
                + (v == null ? "none" : "\"" + v + "\""));
    }

    private static RawTensor tensor(Path file, SafetensorsFile f, String name, DType dtype, Shape shape) {
        RawTensor t = f.tensors().get(name);
        if (t == null) {
            throw new StateFileException(file + ": tensor '" + name + "' is missing (expected " + dtype + " " + shape + ")");
        }
        if (t.dtype() != dtype || !t.shape().equals(shape)) {
            throw new StateFileException(file + ": tensor '" + name + "' is " + t.dtype() + " " + t.shape() + ", expected "
                    + dtype + " " + shape + " for this model");
        }
        return t;
    }

    private static int[] ints(Path file, SafetensorsFile f, String name, int n) {
        RawTensor t = tensor(file, f, name, DType.I32, Shape.of(n));
        return t.data().toArray(I32);
    }

    private static float[] floats(Path file, SafetensorsFile f, String name, Shape shape) {
        RawTensor t = tensor(file, f, name, DType.F32, shape);
        float[] a = t.data().toArray(F32);
        int bad = Finite.firstNonFinite(a, 0, a.length);
        if (bad >= 0) {
            throw new StateFileException(file + ": tensor '" + name + "' holds " + Finite.describe(a[bad]) + " at element " + bad);
        }
        return a;
    }

    /**
     * Puts this state into row {@code row} of {@code state} (same model) at its position; the other rows are untouched.
     */
    public void restoreInto(Model model, ModelState state, int row) {
        ModelConfig c = model.config();
        if (first.length != c.layers()) {
            throw new IllegalArgumentException("a state of " + first.length + " layers for a model of " + c.layers());
        }
        if (state.capacity() != 1 || row != 0) {
            try (ModelState temp = model.newState(1)) {
                restoreInto(model, temp, 0);
                state.copySequence(temp, 0, row);
            }
            return;
        }
        for (int l = 0; l < c.layers(); l++) {
            if (state.conv(l) != null) {
                upload(model, first[l], state.conv(l));
                upload(model, second[l], state.lru(l));
            } else {
                upload(model, first[l], state.keys(l));
                upload(model, second[l], state.values(l));
            }
        }
        state.setPosition(0, tokens.length);
    }

    /** Uploads {@code values} into the start of {@code t} (a one-row state tensor), the rest zero. */
    private static void upload(Model model, float[] values, Tensor t) {
        float[] row = new float[Math.toIntExact(t.size())];
        System.arraycopy(values, 0, row, 0, values.length);
        model.backend().upload(row, t);
    }
}
