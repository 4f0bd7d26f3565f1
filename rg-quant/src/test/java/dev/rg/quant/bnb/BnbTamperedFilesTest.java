package dev.rg.quant.bnb;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import dev.rg.quant.bnb.Safetensors.Entry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tampered copies of the fixtures (written to a temp dir): every error names the weight, tensor and mismatch. */
class BnbTamperedFilesTest {
    private static final String P = "model.layers.0.mlp_block.gate_proj.weight";
    private static final Shape SHAPE = Shape.matrix(96, 64); // n = 6144, 96 blocks, 3072 packed bytes
    private static final String QS = P + ".quant_state.bitsandbytes__nf4";

    @TempDir
    Path dir;
    private int copies;

    /** Loads a fixture, applies the edit, writes the copy, and returns the adapter's error for {@code name}. */
    private String failure(String fixture, String name, Shape shape, Consumer<Map<String, Entry>> edit) {
        Map<String, Entry> entries;
        try (Safetensors f = Safetensors.open(Fixtures.bnb(fixture).resolve("model.safetensors"))) {
            entries = f.entries();
        }
        edit.accept(entries);
        Path copy = dir.resolve("tampered-" + (copies++) + ".safetensors");
        Safetensors.write(copy, entries);
        try (Safetensors f = Safetensors.open(copy)) {
            InvalidWeightException e = assertThrows(InvalidWeightException.class,
                    () -> new BitsAndBytesAdapter().assemble(name, shape, f.tensors()));
            assertTrue(e.getMessage().startsWith("bitsandbytes weight '" + name + "': "), e.getMessage());
            return e.getMessage();
        }
    }

    private String failure(String fixture, Consumer<Map<String, Entry>> edit) {
        return failure(fixture, P, SHAPE, edit);
    }

    private static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected <" + p + "> in: " + message);
        }
    }

    private static String json(Map<String, Entry> m, String key) {
        return new String(m.get(key).data(), StandardCharsets.UTF_8);
    }

    private static void setJson(Map<String, Entry> m, String key, String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        m.put(key, new Entry(DType.U8, new long[] {b.length}, b));
    }

    private static void editJson(Map<String, Entry> m, String key, String from, String to) {
        String j = json(m, key);
        assertTrue(j.contains(from), j);
        setJson(m, key, j.replace(from, to));
    }

    private static Entry f32(long n) {
        return new Entry(DType.F32, new long[] {n}, new byte[Math.toIntExact(n * 4)]);
    }

    private static Entry truncated(Entry e, long... shape) {
        long n = Shape.of(shape).elementCount() * e.dtype().byteSize();
        return new Entry(e.dtype(), shape, Arrays.copyOf(e.data(), Math.toIntExact(n)));
    }

    @Test
    void absmaxCountNotMatchingTheWeight() {
        String m = failure("nf4", t -> t.put(P + ".absmax", truncated(t.get(P + ".absmax"), 95)));
        assertContains(m, "'" + P + ".absmax' is F32 [95] (in " + dir.resolve("tampered-0.safetensors") + ")", "expected F32 [96]",
                "ceil(6144/64)");
    }

    @Test
    void packedSizeWrongForTheShape() {
        String m = failure("nf4", t -> t.put(P, truncated(t.get(P), 3071, 1)));
        assertContains(m, "'" + P + "' is U8 [3071, 1]", "expected U8 [3072, 1]: ceil(6144/2) bytes", "[96, 64]");
    }

    @Test
    void quantStateMissing() {
        String m = failure("nf4", t -> t.remove(QS));
        assertContains(m, "no quant_state tensor '" + QS + "'", "some but not all", P + ".absmax", P + ".quant_map");
    }

    @Test
    void quantStateMalformed() {
        String m = failure("nf4", t -> setJson(t, QS, json(t, QS).substring(0, 40)));
        assertContains(m, "malformed quant_state", "tampered-0.safetensors: tensor '" + QS + "'",
                "not valid JSON: unexpected end of input");
        m = failure("nf4", t -> t.put(QS, new Entry(DType.U8, new long[] {2}, new byte[] {'{', (byte) 0xFF})));
        assertContains(m, "malformed quant_state", "tensor '" + QS + "'", "not UTF-8 (invalid byte sequence near byte 1)");
        m = failure("nf4", t -> setJson(t, QS, "{\"quant_type\": \"nf4\", \"quant_type\": \"nf4\"}"));
        assertContains(m, "malformed quant_state", "duplicate key");
        m = failure("nf4", t -> setJson(t, QS, "[1, 2]"));
        assertContains(m, "holds a list [1, 2], expected a JSON object");
        m = failure("nf4", t -> t.put(QS, new Entry(DType.F32, new long[] {1}, new byte[4])));
        assertContains(m, "is F32 [1], expected U8 [length] holding UTF-8 JSON");
    }

    @Test
    void quantStateDisagreesWithTheTensors() {
        assertContains(failure("nf4", t -> editJson(t, QS, "[96, 64]", "[64, 96]")),
                "gives shape [64, 96], but the model expects [96, 64]");
        assertContains(failure("nf4", t -> editJson(t, QS, "\"blocksize\": 64", "\"blocksize\": 128")),
                "has blocksize 128; rg reads blocksize 64");
        assertContains(failure("nf4", t -> editJson(t, QS, "\"dtype\": \"float16\"", "\"dtype\": \"float8\"")),
                "has dtype \"float8\", expected one of [bfloat16, float16, float32]");
        assertContains(failure("nf4", t -> editJson(t, QS, "\"shape\"", "\"foo\": 1, \"shape\"")),
                "has unknown keys [foo]");
        assertContains(failure("nf4", t -> editJson(t, QS, ", \"blocksize\": 64", "")), "has no \"blocksize\"");
        assertContains(failure("nf4", t -> editJson(t, QS, "\"blocksize\": 64", "\"blocksize\": 64.0")),
                "has blocksize 64.0, expected an integer");
    }

    @Test
    void unknownQuantType() {
        assertContains(failure("nf4", t -> editJson(t, QS, "\"nf4\"", "\"int4\"")),
                "has quant_type \"int4\"; rg reads the bitsandbytes 4-bit types \"nf4\" and \"fp4\"");
        assertContains(failure("nf4", t -> editJson(t, QS, "\"nf4\"", "\"fp4\"")),
                "'" + QS + "' is named for nf4 but its quant_type is \"fp4\"");
    }

    @Test
    void quantMapIsNotTheCodeBook() {
        String m = failure("nf4", t -> {
            byte[] d = t.get(P + ".quant_map").data().clone();
            ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putFloat(12, -0.4f);
            t.put(P + ".quant_map", t.get(P + ".quant_map").withData(d));
        });
        assertContains(m, "'" + P + ".quant_map' (in " + dir.resolve("tampered-0.safetensors") + ") entry 3 is -0.4",
                "nf4 code book has -0.3949175");
    }

    @Test
    void mixedFormats() {
        // the weight stored unquantised next to its quant tensors
        assertContains(failure("nf4", t -> t.put(P, new Entry(DType.F16, new long[] {96, 64}, new byte[96 * 64 * 2]))),
                "'" + P + "' is F16 [96, 64]", "stored unquantised, yet it has bitsandbytes quant tensors");
        // double-quantisation tensors in a single-quantised weight
        assertContains(failure("nf4", t -> t.put(P + ".nested_absmax", f32(1))), "'" + P + ".nested_absmax' holds "
                + "double-quantisation statistics, but the quant_state has no nested_* keys");
        // u8 absmax codes without nested keys
        assertContains(failure("nf4", t -> t.put(P + ".absmax", new Entry(DType.U8, new long[] {96}, new byte[96]))),
                "u8 absmax codes need double quantisation", "expected F32 [96]");
        // only the statistics, no packed weight
        assertContains(failure("nf4", t -> t.remove(P)), "exist but the packed weight '" + P + "' does not");
        // a packed weight without any statistics
        assertContains(failure("nf4", t -> t.keySet().removeIf(k -> k.startsWith(P + "."))),
                "'" + P + "' is U8 [3072, 1]", "looks like packed 4-bit codes for shape [96, 64]");
        // both quant_state names
        assertContains(failure("nf4", t -> t.put(P + ".quant_state.bitsandbytes__fp4", t.get(QS))), "has both");
    }

    @Test
    void doubleQuantisationInconsistencies() {
        String dqQs = QS;
        assertContains(failure("nf4-dq", t -> t.remove(P + ".nested_quant_map")),
                "'" + P + ".nested_quant_map' is missing (expected F32 [256]");
        assertContains(failure("nf4-dq", t -> t.put(P + ".absmax", f32(96))),
                "'" + P + ".absmax' is F32 [96]", "expected U8 [96] (one u8 code per 64-element block");
        assertContains(failure("nf4-dq", t -> editJson(t, dqQs, ", \"nested_dtype\": \"float32\"", "")),
                "has only [nested_blocksize, nested_offset] of the double-quantisation keys");
        assertContains(failure("nf4-dq", t -> editJson(t, dqQs, "\"nested_blocksize\": 256",
                "\"nested_blocksize\": 128")),
                "has nested_blocksize 128, expected 256");
        assertContains(failure("nf4-dq", t -> setJson(t, dqQs,
                json(t, dqQs).replaceAll("\"nested_offset\": [-+.0-9eE]+", "\"nested_offset\": null"))),
                "has nested_offset null, expected a finite number");
        String map = P + ".nested_quant_map";
        assertContains(failure("nf4-dq", t -> t.put(map, truncated(t.get(map), 255))),
                "expected F32 [256] (the 8-bit dynamic map)");
    }

    @Test
    void nestedBlockCountOfTheMultiblockFile() {
        String m = failure("unit-dq-multiblock", "unit.dq.weight", Shape.matrix(320, 64),
                t -> t.put("unit.dq.weight.nested_absmax", truncated(t.get("unit.dq.weight.nested_absmax"), 1)));
        assertContains(m, "'unit.dq.weight.nested_absmax' is F32 [1]",
                "expected F32 [2] (one per 256 blocks: ceil(320/256))");
        m = failure("unit-dq-multiblock", "unit.dq.weight", Shape.matrix(320, 64),
                t -> t.put("unit.dq.weight.absmax", truncated(t.get("unit.dq.weight.absmax"), 256)));
        assertContains(m, "'unit.dq.weight.absmax' is U8 [256]", "expected U8 [320]");
    }

    @Test
    void nonFiniteScalesAreRefused() {
        String m = failure("nf4", t -> {
            byte[] d = t.get(P + ".absmax").data().clone();
            ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putFloat(5 * 4, Float.NaN);
            t.put(P + ".absmax", t.get(P + ".absmax").withData(d));
        });
        assertContains(m, "stored data is invalid", "part 'absmax' entry 5 is NaN");
    }
}
