package dev.rg.backend.cuda.device;

import java.util.Locale;

/**
 * Every kernel of {@code rg_kernels.cu} with its parameter list, so that a launch is checked against the kernel's
 * signature before it reaches a driver (a wrong argument count or kind is a Java exception, not a device fault).
 * Kinds: {@code P} a device pointer, {@code I} a 32-bit int, {@code L} a 64-bit int, {@code F} a float32. The tests
 * compare these with the {@code .entry} parameter lists of the shipped PTX.
 */
public enum Kernel {
    MATVEC_F32("PIIIIPPIIP"),
    MATVEC_BF16("PIIIIPPIIP"),
    MATVEC_F16("PIIIIPPIIP"),
    MATVEC_I8("PIIIIPPIIPIIP"),
    MATVEC_Q4("PIIIIPPPIPIIP"),
    MATVEC_GROUP_F32("PIIIIPPIIPIPPIIPIPPIIP"),
    MATVEC_GROUP_BF16("PIIIIPPIIPIPPIIPIPPIIP"),
    MATVEC_GROUP_F16("PIIIIPPIIPIPPIIPIPPIIP"),
    MATVEC_GROUP_I8("PIIIIIIPPPIIPIPPPIIPIPPPIIP"),
    MATVEC_GROUP_Q4("PIIIPIIPPPIIPIPPPIIPIPPPIIP"),
    MATVEC_GELU_F32("PPIIIIPPIIP"),
    MATVEC_GELU_BF16("PPIIIIPPIIP"),
    MATVEC_GELU_F16("PPIIIIPPIIP"),
    MATVEC_GELU_I8("PPIIIIPPIIPIIP"),
    MATVEC_GELU_Q4("PPIIIIPPPIPIIP"),
    MATVEC_GROUP_NORM_F32("PIIIPIFIPPIIPIPPIIPIPPIIP"),
    MATVEC_GROUP_NORM_BF16("PIIIPIFIPPIIPIPPIIPIPPIIP"),
    MATVEC_GROUP_NORM_F16("PIIIPIFIPPIIPIPPIIPIPPIIP"),
    MATVEC_GROUP_NORM_I8("PIIIPIFIIIPPPIIPIPPPIIPIPPPIIP"),
    MATVEC_GROUP_NORM_Q4("PIIIPIFPIIPPPIIPIPPPIIPIPPPIIP"),
    MATMUL_TILED("PIIIIPPIPIPIIP"),
    MATMUL_MMA_BF16("PIIIPPIIP"),
    MATMUL_MMA_F16("PIIIPPIIP"),
    MATMUL_MMA_F32("PIIIPPIIP"),
    MATMUL_MMA_I8("PIIIPPIPIIP"),
    MATMUL_MMA_Q4("PIIIPPPIPIIP"),
    EMBED("PIIIPPIPIFP"),
    RMSNORM("PIPIFP"),
    ADD_RMSNORM("PPIPIFP"),
    GELU_KERNEL("PLP"),
    GELU_MUL("PPLP"),
    MUL("PPLP"),
    ADD("PPLP"),
    SOFTCAP("PLF"),
    FILL("PLF"),
    CONV1D("PIIIIPIPIPP"),
    LRU_GATES("PIIIIIPIPIP"),
    LRU_SCAN("PPIIIIPPIPIPIPP"),
    ROPE("PPIIIIIP"),
    ROPE_QK("PPPIIIIIIP"),
    ATTENTION("PPPPIIIIIFPPP"),
    ATTENTION_SPLIT("PPPPIIIIIFIPPP"),
    ATTENTION_COMBINE("PIIIPPPPIIPP"),
    KV_UPDATE("PPPIIIIPP"),
    ARGMAX("PIP"),
    TOPK("PIIPP"),
    READ_PROBE("PLP");

    private final String signature;

    Kernel(String signature) {
        this.signature = signature;
    }

    /** The kernel's name in the PTX / OpenCL program, e.g. {@code rg_matvec_bf16}. */
    public String symbol() {
        return "rg_" + name().toLowerCase(Locale.ROOT);
    }

    /** Parameter kinds, one letter per parameter (see the class comment). */
    public String signature() {
        return signature;
    }
}
