package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.backend.cuda.device.Kernel;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The PTX in the jar holds every kernel the backend launches, with the parameter lists the launcher checks. */
class PtxTest {
    private final Ptx ptx = Ptx.shipped();

    @Test
    void isaTargetAndDriver() {
        assertEquals("7.0", ptx.isa());
        assertEquals("sm_80", ptx.target());
        assertEquals(80, ptx.minComputeCapability());
        assertEquals(11000, ptx.requiredDriverVersion());
        assertEquals(12000, Ptx.requiredDriverVersion(8, 0));
        assertEquals(12080, Ptx.requiredDriverVersion(8, 8));
        assertEquals(13000, Ptx.requiredDriverVersion(9, 0));
        assertEquals("12.4", Ptx.versionString(12040));
    }

    @Test
    void everyKernelIsAnEntryWithTheSignatureTheLauncherChecks() {
        List<String> entries = ptx.entries();
        assertEquals(Kernel.values().length, entries.size(), "entries " + entries);
        for (Kernel k : EnumSet.allOf(Kernel.class)) {
            assertTrue(entries.contains(k.symbol()), k.symbol() + " missing from the PTX");
            assertEquals(k.signature(), ptxSignature(k.symbol()), k.symbol());
        }
    }

    /** The parameter kinds of an entry: .u64 -> P or L (both 8 bytes: P assumed unless the Java side says L). */
    private String ptxSignature(String entry) {
        Matcher m = Pattern.compile("\\.entry " + entry + "\\(([^)]*)\\)", Pattern.DOTALL).matcher(ptx.text());
        assertTrue(m.find(), entry);
        List<String> kinds = new ArrayList<>();
        Matcher p = Pattern.compile("\\.param \\.(\\w+) ").matcher(m.group(1));
        while (p.find()) {
            kinds.add(p.group(1));
        }
        StringBuilder sb = new StringBuilder();
        String javaSig = Kernel.valueOf(entry.substring(3).toUpperCase(java.util.Locale.ROOT)).signature();
        for (int i = 0; i < kinds.size(); i++) {
            sb.append(switch (kinds.get(i)) {
                case "u64" -> i < javaSig.length() && javaSig.charAt(i) == 'L' ? 'L' : 'P';
                case "u32" -> 'I';
                case "f32" -> 'F';
                default -> '?';
            });
        }
        return sb.toString();
    }
}
