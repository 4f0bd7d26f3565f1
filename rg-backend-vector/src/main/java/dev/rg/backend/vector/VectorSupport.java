package dev.rg.backend.vector;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import jdk.incubator.vector.FloatVector;

/**
 * Start-up self-check: is the Vector API going to be compiled to SIMD instructions in this JVM?
 *
 * <p>Why it matters: only C2 (the optimising JIT of HotSpot) turns {@code FloatVector} operations into SIMD
 * instructions. Interpreted ({@code -Xint}), with C1 only ({@code -XX:TieredStopAtLevel=1..3}), with the JIT
 * off, or on a CPU/flags without usable vector registers, every vector operation becomes a heap-allocated
 * object and a Java loop over its lanes: the backend still computes correct results, but 10-100x slower than
 * the scalar reference would, and allocating garbage per operation.
 *
 * <p>The check reads the JVM's own description (input arguments, {@code java.vm.info}, the compilation
 * MXBean, the preferred species); it runs no timing loop, so it is instant and not fooled by a busy machine.
 * The CLI sees its result in the provider's {@code probe()} reason ({@code rg backends}); {@link VectorBackendProvider#create}
 * also logs it once per backend.
 */
public final class VectorSupport {
    private VectorSupport() {}

    /** A warning saying why the Vector API will not be intrinsified here, or empty when it will be. */
    public static Optional<String> check() {
        return check(ManagementFactory.getRuntimeMXBean().getInputArguments(), System.getProperty("java.vm.info", ""),
                ManagementFactory.getCompilationMXBean(), FloatVector.SPECIES_PREFERRED.vectorBitSize());
    }

    /** The check on given inputs (testable without starting JVMs). */
    static Optional<String> check(List<String> jvmArgs, String vmInfo, CompilationMXBean jit, int preferredBits) {
        List<String> why = new ArrayList<>();
        for (String a : jvmArgs) {
            String arg = a.trim();
            if (arg.equals("-Xint")) {
                why.add("the JVM runs interpreted (-Xint)");
            } else if (arg.startsWith("-XX:TieredStopAtLevel=")) {
                String level = arg.substring("-XX:TieredStopAtLevel=".length());
                if (!level.equals("4")) {
                    why.add("C2 is disabled (" + arg + "): only C2 compiles the Vector API to SIMD");
                }
            } else if (arg.equals("-XX:-UseCompiler")) {
                why.add("the JIT is disabled (-XX:-UseCompiler)");
            } else if (arg.equals("-XX:-UseVectorStubs")) {
                why.add("vector math stubs are disabled (-XX:-UseVectorStubs): exp/tanh run lane by lane");
            } else if (arg.startsWith("-XX:MaxVectorSize=")) {
                try {
                    if (Integer.parseInt(arg.substring("-XX:MaxVectorSize=".length())) < 16) {
                        why.add("vectors are limited to under 128 bits (" + arg + ")");
                    }
                } catch (NumberFormatException e) {
                    // not ours to judge
                }
            } else if (arg.equals("-XX:UseAVX=0")) {
                why.add("AVX is disabled (" + arg + ")");
            }
        }
        if (vmInfo.toLowerCase(Locale.ROOT).contains("interpreted mode") && why.stream().noneMatch(s -> s.contains("-Xint"))) {
            why.add("the JVM runs in interpreted mode (java.vm.info: " + vmInfo + ")");
        }
        if (jit == null) {
            why.add("this JVM has no JIT compiler");
        } else if (jit.getName().toLowerCase(Locale.ROOT).contains("jvmci")) {
            why.add("the JIT is a JVMCI compiler (" + jit.getName() + "), which may not intrinsify the Vector API");
        }
        if (preferredBits < 128) {
            why.add("the CPU or flags give no SIMD width for floats (" + preferredBits + "-bit preferred species)");
        }
        if (why.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("the Vector API will not be compiled to SIMD instructions: " + String.join("; ", why)
                + ". The vector backend stays correct but runs 10-100x slower and allocates per operation; run with the"
                + " default JIT (no -Xint, no -XX:TieredStopAtLevel below 4) or use --backend reference.");
    }

    /** The vector shape the kernels use, e.g. {@code "512-bit, 16 float lanes"}. */
    public static String speciesDescription() {
        return Simd.describe();
    }
}
