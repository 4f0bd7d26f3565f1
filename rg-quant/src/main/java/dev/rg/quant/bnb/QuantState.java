package dev.rg.quant.bnb;

import dev.rg.api.format.CheckpointTensors;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.quant.FourBitCodeBook;
import dev.rg.quant.FourBitFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The JSON blob {@code P.weight.quant_state.bitsandbytes__nf4} (or {@code __fp4}) that bitsandbytes'
 * {@code QuantState.as_dict(packed=True)} writes as a U8 tensor, e.g.
 * {@code {"quant_type": "nf4", "blocksize": 64, "dtype": "float16", "shape": [64, 64], "nested_blocksize": 256,
 * "nested_dtype": "float32", "nested_offset": 0.3258705139160156}}.
 *
 * @param codeBook     from {@code quant_type}
 * @param dtype        the dtype bitsandbytes casts its dequantised output to ({@code float16}, {@code bfloat16},
 *                     {@code float32}); rg dequantises to float32, before that cast
 * @param shape        the original weight shape [out, in]
 * @param nestedOffset the double-quantisation offset rounded to float32 (as bitsandbytes' {@code from_dict}
 *                     does), or null without double quantisation
 */
record QuantState(FourBitCodeBook codeBook, String dtype, long[] shape, Float nestedOffset) {

    /** The keys bitsandbytes writes; like its {@code from_dict}, rg refuses any other. */
    private static final Set<String> KEYS = Set.of("quant_type", "blocksize", "dtype", "shape", "nested_blocksize",
            "nested_dtype", "nested_offset");
    private static final Set<String> NESTED_KEYS = Set.of("nested_blocksize", "nested_dtype", "nested_offset");
    private static final Set<String> DTYPES = Set.of("float16", "bfloat16", "float32");

    boolean doubleQuantized() {
        return nestedOffset != null;
    }

    /**
     * Parses (with the runtime's JSON reader, {@link CheckpointTensors#json}) and checks the blob; every error names
     * the weight, the tensor and its file.
     */
    static QuantState parse(String weight, RawTensor t, CheckpointTensors tensors) {
        String where = "quant_state tensor '" + t.name() + "'" + BnbChecks.in(t);
        if (t.dtype() != DType.U8 || t.shape().rank() != 1) {
            throw BnbChecks.fail(weight, where + " is " + t.dtype() + " " + t.shape()
                    + ", expected U8 [length] holding UTF-8 JSON");
        }
        Object parsed;
        try {
            parsed = tensors.json(t);
        } catch (IllegalArgumentException e) {
            throw new InvalidWeightException(BnbChecks.prefix(weight) + "malformed quant_state, expected the UTF-8 JSON "
                    + "object bitsandbytes writes: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> m)) {
            throw BnbChecks.fail(weight, where + " holds " + describe(parsed) + ", expected a JSON object");
        }
        Set<String> unknown = new TreeSet<>();
        for (Object k : m.keySet()) {
            if (!KEYS.contains((String) k)) {
                unknown.add((String) k);
            }
        }
        if (!unknown.isEmpty()) {
            throw BnbChecks.fail(weight, where + " has unknown keys " + unknown + "; bitsandbytes writes "
                    + new TreeSet<>(KEYS));
        }
        String quantType = string(weight, where, m, "quant_type");
        FourBitCodeBook cb = FourBitCodeBook.ofQuantType(quantType);
        if (cb == null) {
            throw BnbChecks.fail(weight, where + " has quant_type \"" + quantType
                    + "\"; rg reads the bitsandbytes 4-bit types \"nf4\" and \"fp4\"");
        }
        long blocksize = integer(weight, where, m, "blocksize");
        if (blocksize != FourBitFormat.BLOCK_SIZE) {
            throw BnbChecks.fail(weight, where + " has blocksize " + blocksize + "; rg reads blocksize "
                    + FourBitFormat.BLOCK_SIZE + " (the transformers default)");
        }
        String dtype = string(weight, where, m, "dtype");
        if (!DTYPES.contains(dtype)) {
            throw BnbChecks.fail(weight, where + " has dtype \"" + dtype + "\", expected one of "
                    + new TreeSet<>(DTYPES));
        }
        long[] shape = shape(weight, where, m.get("shape"));
        return new QuantState(cb, dtype, shape, nested(weight, where, m));
    }

    private static Float nested(String weight, String where, Map<?, ?> m) {
        List<String> present = new ArrayList<>();
        for (String k : new TreeSet<>(NESTED_KEYS)) {
            if (m.containsKey(k)) {
                present.add(k);
            }
        }
        if (present.isEmpty()) {
            return null;
        }
        if (present.size() != NESTED_KEYS.size()) {
            throw BnbChecks.fail(weight, where + " has only " + present + " of the double-quantisation keys "
                    + new TreeSet<>(NESTED_KEYS));
        }
        long nb = integer(weight, where, m, "nested_blocksize");
        if (nb != FourBitFormat.NESTED_BLOCK_SIZE) {
            throw BnbChecks.fail(weight, where + " has nested_blocksize " + nb + ", expected "
                    + FourBitFormat.NESTED_BLOCK_SIZE);
        }
        String nd = string(weight, where, m, "nested_dtype");
        if (!nd.equals("float32")) {
            throw BnbChecks.fail(weight, where + " has nested_dtype \"" + nd + "\", expected \"float32\"");
        }
        if (!(m.get("nested_offset") instanceof Number off) || !Double.isFinite(off.doubleValue())) {
            throw BnbChecks.fail(weight, where + " has nested_offset " + describe(m.get("nested_offset"))
                    + ", expected a finite number");
        }
        return off.floatValue();
    }

    private static long[] shape(String weight, String where, Object v) {
        if (!(v instanceof List<?> l) || l.isEmpty()) {
            throw BnbChecks.fail(weight, where + " has shape " + describe(v) + ", expected a list of dimensions");
        }
        long[] dims = new long[l.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!(l.get(i) instanceof Long d) || d < 0) {
                throw BnbChecks.fail(weight, where + " has shape " + l + ", expected non-negative integers");
            }
            dims[i] = d;
        }
        return dims;
    }

    private static String string(String weight, String where, Map<?, ?> m, String key) {
        if (m.get(key) instanceof String s) {
            return s;
        }
        throw BnbChecks.fail(weight, where + (m.containsKey(key) ? " has " + key + " " + describe(m.get(key))
                + ", expected a string" : " has no \"" + key + "\""));
    }

    private static long integer(String weight, String where, Map<?, ?> m, String key) {
        if (m.get(key) instanceof Long l) {
            return l;
        }
        throw BnbChecks.fail(weight, where + (m.containsKey(key) ? " has " + key + " " + describe(m.get(key))
                + ", expected an integer" : " has no \"" + key + "\""));
    }

    private static String describe(Object v) {
        return switch (v) {
            case null -> "null";
            case String s -> "\"" + s + "\"";
            case Map<?, ?> x -> "an object";
            case List<?> x -> "a list " + x;
            default -> v.toString();
        };
    }
}
