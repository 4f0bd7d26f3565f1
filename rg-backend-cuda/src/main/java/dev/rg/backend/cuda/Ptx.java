package dev.rg.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PTX module shipped in the jar ({@code rg_kernels.ptx}, compiled from {@code src/main/cuda} by
 * {@code scripts/gen-ptx.sh}): its text, its PTX ISA version and target, and the driver version it needs.
 */
public final class Ptx {
    /** Resource name, next to this class. */
    public static final String RESOURCE = "rg_kernels.ptx";

    private static final Pattern VERSION = Pattern.compile("(?m)^\\.version (\\d+)\\.(\\d+)\\s*$");
    private static final Pattern TARGET = Pattern.compile("(?m)^\\.target (sm_(\\d)(\\d+))\\s*$");
    private static final Pattern ENTRY = Pattern.compile("(?m)^\\.visible \\.entry (\\w+)\\(");

    private final String text;
    private final int isaMajor;
    private final int isaMinor;
    private final String target;
    private final int targetMajor;
    private final int targetMinor;

    Ptx(String text) {
        this.text = text;
        Matcher v = VERSION.matcher(text);
        Matcher t = TARGET.matcher(text);
        if (!v.find() || !t.find()) {
            throw new IllegalStateException("the shipped PTX has no .version / .target line");
        }
        isaMajor = Integer.parseInt(v.group(1));
        isaMinor = Integer.parseInt(v.group(2));
        target = t.group(1);
        targetMajor = Integer.parseInt(t.group(2));
        targetMinor = Integer.parseInt(t.group(3));
    }

    /** Reads the shipped module. */
    public static Ptx shipped() {
        try (InputStream in = Ptx.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the rg-backend-cuda jar");
            }
            return new Ptx(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    public String text() {
        return text;
    }

    /** E.g. {@code "7.0"}. */
    public String isa() {
        return isaMajor + "." + isaMinor;
    }

    /** E.g. {@code "sm_80"}. */
    public String target() {
        return target;
    }

    /** Lowest compute capability the module runs on, e.g. 80. */
    public int minComputeCapability() {
        return targetMajor * 10 + targetMinor;
    }

    /**
     * The oldest driver ({@code cuDriverGetVersion} value) that JIT-compiles this ISA: PTX ISA 7.x came with CUDA
     * 11.x, 8.x with 12.x, 9.x with 13.x (ISA 6.x: CUDA 9.0 to 10.2).
     */
    public int requiredDriverVersion() {
        return requiredDriverVersion(isaMajor, isaMinor);
    }

    static int requiredDriverVersion(int major, int minor) {
        if (major >= 7) {
            return (major + 4) * 1000 + minor * 10;
        }
        return 9000;
    }

    /** Names of the kernels ({@code .entry}) in the module. */
    public List<String> entries() {
        List<String> out = new ArrayList<>();
        Matcher m = ENTRY.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** A driver version like 12040 as "12.4". */
    public static String versionString(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }
}
