package dev.rg.quant.bnb;

import dev.rg.api.format.CheckpointAdapter;
import dev.rg.api.format.CheckpointTensors;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RawTensor;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.quant.FourBitCodeBook;
import dev.rg.quant.FourBitFormat;
import dev.rg.quant.Fp4DqFormat;
import dev.rg.quant.Fp4Format;
import dev.rg.quant.Nf4DqFormat;
import dev.rg.quant.Nf4Format;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads checkpoints saved by Hugging Face transformers with bitsandbytes 4-bit quantisation
 * ({@code quantization_config.quant_method = "bitsandbytes"}, {@code load_in_4bit}), NF4 or FP4, with or without
 * double quantisation. 8-bit bitsandbytes (LLM.int8) is refused.
 *
 * <p>A quantised {@code nn.Linear} with weight name {@code P.weight} of shape [out, in] (n elements, nb =
 * ceil(n/64) blocks) is stored as
 * <ul>
 *   <li>{@code P.weight}: U8 [ceil(n/2), 1], packed codes (another {@code bnb_4bit_quant_storage} dtype holding
 *       the same bytes is accepted);</li>
 *   <li>{@code P.weight.absmax}: F32 [nb], or U8 [nb] with double quantisation;</li>
 *   <li>{@code P.weight.quant_map}: F32 [16], the code book (checked against {@link FourBitCodeBook});</li>
 *   <li>double quantisation only: {@code P.weight.nested_absmax} F32 [ceil(nb/256)] and
 *       {@code P.weight.nested_quant_map} F32 [256];</li>
 *   <li>{@code P.weight.quant_state.bitsandbytes__nf4} (or {@code __fp4}): U8 JSON, see {@link QuantState}.</li>
 * </ul>
 * {@link #assemble} turns these into a {@link HostWeight} in format {@code nf4}, {@code nf4-dq}, {@code fp4} or
 * {@code fp4-dq} whose parts are the checkpoint's bytes (no copy). Everything else (norms, embeddings, conv,
 * RG-LRU parameters, biases) is stored as plain tensors: {@code assemble} returns empty for those.
 *
 * <p>The per-tensor quant_state, not config.json, decides how a weight is read, as in bitsandbytes; the two
 * agree in files that transformers wrote.
 */
public final class BitsAndBytesAdapter implements CheckpointAdapter {
    private static final Set<String> STORAGE = Set.of("uint8", "int8", "float16", "bfloat16", "float32");
    private static final Set<DType> PACKED_DTYPES = Set.of(DType.U8, DType.I8, DType.F16, DType.BF16, DType.F32);
    private static final String QS_NF4 = ".quant_state.bitsandbytes__nf4";
    private static final String QS_FP4 = ".quant_state.bitsandbytes__fp4";

    /** The adapter; it keeps no state between calls. */
    public BitsAndBytesAdapter() {}

    @Override
    public String name() {
        return "bitsandbytes";
    }

    /**
     * True for a bitsandbytes 4-bit config; false for any other (or no) quantisation method.
     *
     * @throws InvalidWeightException for bitsandbytes 8-bit, a config that enables neither, an unknown
     *                                {@code bnb_4bit_quant_type} or {@code bnb_4bit_quant_storage}
     */
    @Override
    public boolean accepts(Map<String, Object> qc) {
        if (qc == null || !"bitsandbytes".equals(qc.get("quant_method"))) {
            return false;
        }
        boolean eight = flag(qc, "load_in_8bit") || flag(qc, "_load_in_8bit");
        boolean four = flag(qc, "load_in_4bit") || flag(qc, "_load_in_4bit");
        if (eight) {
            throw new InvalidWeightException("quantization_config: bitsandbytes 8-bit (LLM.int8, load_in_8bit) "
                    + "checkpoints are not supported; rg reads bitsandbytes 4-bit (load_in_4bit: nf4 or fp4). "
                    + "Use the unquantised checkpoint (rg can quantise it to int8 at load time)");
        }
        if (!four) {
            throw new InvalidWeightException("quantization_config: quant_method is \"bitsandbytes\" but neither "
                    + "load_in_4bit nor load_in_8bit is true");
        }
        Object type = qc.get("bnb_4bit_quant_type");
        if (type != null && !(type instanceof String s && FourBitCodeBook.ofQuantType(s) != null)) {
            throw new InvalidWeightException("quantization_config: bnb_4bit_quant_type " + quoted(type)
                    + " is not supported; rg reads \"nf4\" and \"fp4\"");
        }
        Object storage = qc.get("bnb_4bit_quant_storage");
        if (storage != null && !STORAGE.contains(storage)) {
            throw new InvalidWeightException("quantization_config: bnb_4bit_quant_storage " + quoted(storage)
                    + " is not supported; expected one of " + new TreeSet<>(STORAGE));
        }
        return true;
    }

    private static boolean flag(Map<String, Object> qc, String key) {
        return Boolean.TRUE.equals(qc.get(key));
    }

    private static String quoted(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }

    @Override
    public Optional<HostWeight> assemble(String name, Shape expected, CheckpointTensors tensors) {
        Map<String, RawTensor> stats = new LinkedHashMap<>();
        for (String suffix : List.of(".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map", QS_NF4, QS_FP4)) {
            RawTensor t = tensors.find(name + suffix);
            if (t != null) {
                stats.put(suffix, t);
            }
        }
        RawTensor weight = tensors.find(name);
        if (stats.isEmpty()) {
            if (weight != null && weight.dtype() == DType.U8 && !weight.shape().equals(expected)) {
                throw BnbChecks.fail(name, "tensor " + BnbChecks.describe(weight) + " looks like packed 4-bit "
                        + "codes for shape " + expected + ", but none of its quant tensors (" + name + ".absmax, "
                        + name + QS_NF4 + ", ...) exist");
            }
            return Optional.empty();
        }
        List<String> present = new ArrayList<>();
        stats.values().forEach(t -> present.add(t.name()));
        if (weight == null) {
            throw BnbChecks.fail(name, "quant tensors " + present + " exist but the packed weight '" + name
                    + "' does not");
        }
        RawTensor qsNf4 = stats.get(QS_NF4);
        RawTensor qsFp4 = stats.get(QS_FP4);
        if (qsNf4 != null && qsFp4 != null) {
            throw BnbChecks.fail(name, "has both '" + qsNf4.name() + "' and '" + qsFp4.name() + "'");
        }
        RawTensor qsTensor = qsNf4 != null ? qsNf4 : qsFp4;
        if (qsTensor == null) {
            throw BnbChecks.fail(name, "has quant tensors " + present + " but no quant_state tensor '" + name + QS_NF4
                    + "' (or __fp4): some but not all of its bitsandbytes tensors are present");
        }
        QuantState qs = QuantState.parse(name, qsTensor, tensors);
        String suffixType = qsTensor == qsNf4 ? "nf4" : "fp4";
        if (!qs.codeBook().quantType().equals(suffixType)) {
            throw BnbChecks.fail(name, "quant_state tensor '" + qsTensor.name() + "' is named for " + suffixType
                    + " but its quant_type is \"" + qs.codeBook().quantType() + "\"");
        }
        Shape jsonShape = Shape.of(qs.shape());
        if (!jsonShape.equals(expected)) {
            throw BnbChecks.fail(name, "quant_state tensor '" + qsTensor.name() + "' gives shape " + jsonShape
                    + ", but the model expects " + expected);
        }
        return Optional.of(build(name, expected, weight, stats, qs));
    }

    private static HostWeight build(String name, Shape expected, RawTensor weight, Map<String, RawTensor> stats,
            QuantState qs) {
        long n = expected.elementCount();
        long nb = FourBitFormat.blockCount(n);
        MemorySegment data = packed(name, weight, expected, n);
        RawTensor quantMap = require(name, stats, ".quant_map", "F32 [16], the " + qs.codeBook().quantType()
                + " code book");
        BnbChecks.expectVector(name, quantMap, DType.F32, 16, "the " + qs.codeBook().quantType() + " code book");
        checkCodeBook(name, quantMap, qs.codeBook());
        RawTensor absmax = stats.get(".absmax");
        RawTensor nestedAbsmax = stats.get(".nested_absmax");
        RawTensor nestedMap = stats.get(".nested_quant_map");
        Map<String, MemorySegment> parts = new LinkedHashMap<>();
        parts.put(WeightFormat.DATA, data);
        Map<String, Double> params = Map.of();
        FourBitFormat format;
        if (qs.doubleQuantized()) {
            absmax = require(name, stats, ".absmax", "U8 [" + nb + "], the double-quantised block absmax codes");
            nestedAbsmax = require(name, stats, ".nested_absmax", "F32, required by the quant_state's nested_* keys");
            nestedMap = require(name, stats, ".nested_quant_map",
                    "F32 [256], required by the quant_state's nested_* keys");
            BnbChecks.expectVector(name, absmax, DType.U8, nb, "one u8 code per 64-element block: ceil(" + n + "/64)");
            long nnb = FourBitFormat.nestedBlockCount(nb);
            BnbChecks.expectVector(name, nestedAbsmax, DType.F32, nnb, "one per 256 blocks: ceil(" + nb + "/256)");
            BnbChecks.expectVector(name, nestedMap, DType.F32, 256, "the 8-bit dynamic map");
            parts.put(FourBitFormat.ABSMAX, absmax.data());
            parts.put(FourBitFormat.NESTED_ABSMAX, nestedAbsmax.data());
            parts.put(FourBitFormat.NESTED_QUANT_MAP, nestedMap.data());
            params = Map.of(FourBitFormat.OFFSET, (double) qs.nestedOffset());
            format = qs.codeBook() == FourBitCodeBook.NF4 ? new Nf4DqFormat() : new Fp4DqFormat();
        } else {
            if (nestedAbsmax != null || nestedMap != null) {
                throw BnbChecks.fail(name, "tensor '" + (nestedAbsmax != null ? nestedAbsmax : nestedMap).name()
                        + "' holds double-quantisation statistics, but the quant_state has no nested_* keys");
            }
            absmax = require(name, stats, ".absmax", "F32 [" + nb + "], the block absmax");
            if (absmax.dtype() == DType.U8) {
                throw BnbChecks.fail(name, "tensor " + BnbChecks.describe(absmax) + ": u8 absmax codes need double "
                        + "quantisation, but the quant_state has no nested_* keys; expected F32 [" + nb + "]");
            }
            BnbChecks.expectVector(name, absmax, DType.F32, nb, "one per 64-element block: ceil(" + n + "/64)");
            parts.put(FourBitFormat.ABSMAX, absmax.data());
            format = qs.codeBook() == FourBitCodeBook.NF4 ? new Nf4Format() : new Fp4Format();
        }
        HostWeight w = new HostWeight(name, expected, format, parts, params);
        try {
            format.validate(w);
        } catch (InvalidWeightException e) {
            throw new InvalidWeightException(BnbChecks.prefix(name) + "stored data is invalid: " + e.getMessage(), e);
        }
        return w;
    }

    private static RawTensor require(String name, Map<String, RawTensor> stats, String suffix, String what) {
        RawTensor t = stats.get(suffix);
        if (t == null) {
            throw BnbChecks.fail(name, "tensor '" + name + suffix + "' is missing (expected " + what + ")");
        }
        return t;
    }

    /** The packed codes as bytes; bitsandbytes' quant_storage only changes the dtype label of the same bytes. */
    private static MemorySegment packed(String name, RawTensor w, Shape expected, long n) {
        long bytes = FourBitFormat.packedBytes(n);
        if (w.shape().equals(expected) && w.dtype() != DType.U8) {
            throw BnbChecks.fail(name, "tensor " + BnbChecks.describe(w) + ": stored unquantised, yet it has "
                    + "bitsandbytes quant tensors; expected U8 [" + bytes + ", 1] packed 4-bit codes");
        }
        int size = w.dtype().byteSize();
        long elems = bytes / size;
        boolean ok = PACKED_DTYPES.contains(w.dtype()) && bytes % size == 0
                && (w.shape().equals(Shape.of(elems, 1)) || w.shape().equals(Shape.of(elems)));
        if (!ok) {
            throw BnbChecks.fail(name, "tensor " + BnbChecks.describe(w) + ", expected U8 [" + bytes + ", 1]: ceil("
                    + n + "/2) bytes of packed 4-bit codes for shape " + expected);
        }
        BnbChecks.expectBytes(name, w);
        return w.data();
    }

    /** bitsandbytes decodes with its built-in table, so a stored map that differs means a mislabelled file. */
    private static void checkCodeBook(String name, RawTensor quantMap, FourBitCodeBook cb) {
        for (int i = 0; i < 16; i++) {
            float stored = quantMap.data().get(BnbChecks.F32_LE, i * 4L);
            if (stored != cb.value(i)) { // numeric: the sign of FP4's zero does not matter
                throw BnbChecks.fail(name, "tensor '" + quantMap.name() + "'" + BnbChecks.in(quantMap) + " entry " + i
                        + " is " + stored + ", but the " + cb.quantType() + " code book has " + cb.value(i)
                        + " (bitsandbytes decodes with its built-in table; the file is not what it claims)");
            }
        }
    }
}
