package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.Op;
import java.lang.management.ManagementFactory;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class VectorSupportTest {

    @Test
    void thisTestJvmIntrinsifiesTheVectorApi() {
        assertEquals(Optional.empty(), VectorSupport.check(), "surefire runs with C2");
    }

    @Test
    void interpretedOrC1OnlyJvmsAreReported() {
        var jit = ManagementFactory.getCompilationMXBean();
        for (List<String> args : List.of(List.of("-Xint"), List.of("-Xmx1g", "-XX:TieredStopAtLevel=1"),
                List.of("-XX:-UseCompiler"), List.of("-XX:MaxVectorSize=8"))) {
            Optional<String> w = VectorSupport.check(args, "mixed mode", jit, 512);
            assertTrue(w.isPresent(), args.toString());
            assertTrue(w.get().contains("10-100x slower"), w.get());
        }
        assertTrue(VectorSupport.check(List.of(), "interpreted mode, sharing", jit, 512).isPresent());
        assertTrue(VectorSupport.check(List.of(), "mixed mode", null, 512).isPresent());
        assertTrue(VectorSupport.check(List.of(), "mixed mode", jit, 64).isPresent());
        assertFalse(VectorSupport.check(List.of("-XX:TieredStopAtLevel=4", "-Xmx4g"), "mixed mode, sharing", jit, 256).isPresent());
    }

    @Test
    void theProviderIsDiscoveredAndDescribesItself() {
        BackendProvider p = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(x -> x.name().equals("vector")).findFirst().orElseThrow();
        assertEquals(100, p.priority());
        Availability a = p.probe();
        assertTrue(a.available(), a.reason());
        assertTrue(a.reason().contains("bit"), a.reason());
        assertTrue(p.capabilities().ops().containsAll(EnumSet.allOf(Op.class)));
        // rg-quant is a dependency: its formats are discovered, and the backend claims them for MATMUL and EMBED
        assertEquals(java.util.Set.of("f32", "bf16", "f16", "int8", "nf4", "nf4-dq", "fp4", "fp4-dq"),
                p.capabilities().weightFormats());
        for (String f : List.of("int8", "nf4", "nf4-dq", "fp4", "fp4-dq")) {
            assertTrue(p.capabilities().supports(Op.MATMUL, f) && p.capabilities().supports(Op.EMBED, f), f);
        }
        try (var b = p.create(new BackendOptions(3, Map.of()))) {
            assertEquals(3, b.threads());
            assertEquals("vector", b.name());
            assertEquals(p.capabilities(), b.capabilities());
            assertEquals(EnumSet.allOf(Op.class), Op.implementedBy(b.kernels()), "every op is implemented, none falls back");
            assertEquals(VectorSupport.check().map(List::of).orElse(List.of()), b.warnings());
            assertEquals(List.of(), b.warnings(), "surefire runs with C2: no warning");
        }
    }
}
