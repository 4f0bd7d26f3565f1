package dev.rg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.bench.run.BackendCatalog;
import dev.rg.bench.run.Plan;
import dev.rg.bench.run.Planner;
import dev.rg.bench.run.Profile;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What runs where: available backends only, native formats only, the reference capped in the full profile. */
class PlannerTest {
    private static final BackendCatalog.Backend REFERENCE = new BackendCatalog.Backend("reference", true, "always", 0,
            List.of("bf16", "f32", "int8"));
    private static final BackendCatalog.Backend FAST = new BackendCatalog.Backend("fast", true, "yes", 100, List.of("bf16", "f32"));
    private static final BackendCatalog.Backend GPU = new BackendCatalog.Backend("gpu", false, "libcuda.so.1 not found", 300,
            List.of("bf16"));

    @Test
    void unavailableBackendsAreSkippedWithTheirReason() {
        Planner.Result r = new Planner(Profile.QUICK, 2).plan(List.of(GPU, FAST, REFERENCE), Set.of(), Set.of(), Set.of());
        assertTrue(r.skipped().contains("gpu: libcuda.so.1 not found"));
        assertTrue(r.plans().stream().noneMatch(p -> p.backend().equals("gpu")));
        Planner.Result named = new Planner(Profile.QUICK, 2).plan(List.of(REFERENCE), Set.of("nope"), Set.of(), Set.of());
        assertTrue(named.skipped().get(0).startsWith("nope: not discovered"));
    }

    @Test
    void eachBackendGetsItsNativeFormatsAndTheReferenceOneThread() {
        Planner.Result r = new Planner(Profile.QUICK, 2).plan(List.of(FAST, REFERENCE), Set.of(), Set.of(), Set.of("matvec"));
        assertEquals(2, r.plans().size());
        Plan fast = r.plans().get(0);
        assertEquals(List.of("bf16", "f32"), fast.params().get("format"));
        assertEquals(List.of("2"), fast.params().get("threads"));
        assertEquals(List.of("1"), r.plans().get(1).params().get("threads"));
        assertEquals(List.of("256x256", "768x256", "256x768", "64x256", "256x64", "4096x256"), fast.params().get("shape"));
        assertEquals(12, fast.combinations().size());
    }

    @Test
    void formatFilterAndGroupsApply() {
        Planner.Result r = new Planner(Profile.QUICK, 2).plan(List.of(FAST, REFERENCE), Set.of("reference"), Set.of("int8"),
                Set.of("prefill", "kernels"));
        assertTrue(r.plans().stream().allMatch(p -> p.backend().equals("reference")));
        Plan prefill = r.plans().get(0);
        assertEquals("MatmulBench.prefill", prefill.benchmark());
        assertEquals(List.of("int8"), prefill.params().get("format"));
        assertFalse(prefill.params().get("shape").contains("4096x256"), "no prefill of the LM head");
        assertEquals(6, r.plans().size(), "prefill + 5 kernels");
    }

    @Test
    void batchedDecodeRunsOnlyWhenNamed() {
        Planner.Result all = new Planner(Profile.QUICK, 2).plan(List.of(FAST), Set.of(), Set.of(), Set.of());
        assertTrue(all.plans().stream().noneMatch(p -> p.benchmark().equals("MatmulBench.batch")), "not in a default run");
        Planner.Result named = new Planner(Profile.QUICK, 2).plan(List.of(FAST), Set.of(), Set.of(), Set.of("batch"));
        assertEquals(1, named.plans().size());
        Plan batch = named.plans().get(0);
        assertEquals("MatmulBench.batch", batch.benchmark());
        assertEquals(List.of("8", "16"), batch.params().get("rows"));
        assertTrue(batch.params().get("shape").contains("4096x256"), "the LM head is decoded batched too");
    }

    @Test
    void fullProfileCapsTheReference() {
        Planner.Result r = new Planner(Profile.FULL, 2).plan(List.of(FAST, REFERENCE), Set.of(), Set.of(), Set.of());
        Plan refMatvec = r.plans().stream().filter(p -> p.backend().equals("reference") && p.benchmark().equals("MatmulBench.matvec"))
                .findFirst().orElseThrow();
        assertFalse(refMatvec.params().get("shape").contains("256000x2560"), "no 2B LM head on the reference");
        assertTrue(refMatvec.params().get("shape").contains("2560x2560"));
        assertTrue(r.plans().stream().noneMatch(p -> p.backend().equals("reference") && p.benchmark().equals("DecodeBench.decodeStep")));
        assertTrue(r.capped().stream().anyMatch(s -> s.contains("DecodeBench.decodeStep")));
        Plan fastMatvec = r.plans().get(0);
        assertTrue(fastMatvec.params().get("shape").contains("256000x2560"), "other backends are not capped");
    }
}
