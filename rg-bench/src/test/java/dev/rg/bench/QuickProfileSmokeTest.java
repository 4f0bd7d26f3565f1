package dev.rg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CI smoke test: the quick profile (tiny shapes, no fork) through the runner, in this JVM, f32 on every available
 * backend, then a report of its output. It asserts that every planned benchmark produced a result, never a timing.
 */
class QuickProfileSmokeTest {
    @TempDir
    Path dir;

    @Test
    void quickProfileProducesResultsAndAReport() throws Exception {
        Path out = dir.resolve("quick.json");
        int rc = Main.execute("run", "--profile", "quick", "--formats", "f32", "--quiet", "--out", out.toString());
        if (rc != 0) {
            // the temporary directory goes away with the test: put JMH's account of the failures in the message
            Path jmhLog = dir.resolve("quick.json.log");
            String errors = Files.exists(jmhLog) ? Files.readAllLines(jmhLog).stream()
                    .filter(l -> l.contains("Exception") || l.contains("Error") || l.startsWith("\tat ") || l.startsWith("Caused by"))
                    .limit(60).reduce("", (a, b) -> a + "\n" + b) : "(no JMH log)";
            assertEquals(0, rc, "a benchmark failed:" + errors);
        }

        ObjectMapper json = new ObjectMapper();
        JsonNode results = json.readTree(out.toFile());
        JsonNode side = json.readTree(dir.resolve("quick.machine.json").toFile());
        assertTrue(side.path("failures").isEmpty(), side.path("failures").toString());
        Set<String> benchmarks = new HashSet<>();
        for (JsonNode r : results) {
            benchmarks.add(r.path("benchmark").asText().replace("dev.rg.bench.jmh.", ""));
            assertTrue(r.path("primaryMetric").path("score").asDouble() > 0, "a result with a score");
        }
        for (String b : new String[] {"MatmulBench.matvec", "MatmulBench.prefill", "KernelBench.rmsNorm", "KernelBench.conv1dStep",
                "KernelBench.rgLruStep", "KernelBench.rgLruScan", "KernelBench.attentionDecode", "LayerBench.recurrentBlock",
                "LayerBench.attentionBlock", "LayerBench.mlp", "DecodeBench.decodeStep"}) {
            assertTrue(benchmarks.contains(b), b + " produced no result: " + benchmarks);
        }
        // reference: 6 matvec + 5 prefill shapes, 5 kernels, 3 blocks x 2 token counts, 1 decode step
        assertTrue(results.size() >= 23, "results: " + results.size());
        assertTrue(side.path("probes").path("memory_read").size() >= 1);
        assertTrue(side.path("probes").path("fma_f32").size() >= 1);
        assertEquals(results.size(), side.path("costs").size(), "a cost for every result");
        assertTrue(side.path("machine").path("cores").asInt() >= 1);
        if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/stat"))) {
            // Linux: other processes' share of the CPU while the benchmarks ran (the forks' own CPU excluded)
            double others = side.path("load").path("other_processes_cpu_percent").asDouble(-1);
            assertTrue(others >= 0 && others <= 100, side.path("load").toString());
        }

        int report = Main.execute("report", out.toString(), "--html", dir.resolve("r.html").toString(), "--md",
                dir.resolve("r.md").toString());
        assertEquals(0, report);
        String md = Files.readString(dir.resolve("r.md"));
        assertTrue(md.contains("| decode step [tiny] | reference | f32 | 1 |"), md);
        assertTrue(md.contains("quick-profile smoke run"), "quick numbers are flagged as not for quoting");
    }
}
