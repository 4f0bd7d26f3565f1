package dev.rg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report from a small fixture: tables, chart canvases and configurations, the inlined library, Markdown rows. */
class ReportGenerationTest {
    @TempDir
    static Path dir;
    static String html;
    static String md;

    @BeforeAll
    static void render() throws IOException {
        for (String f : new String[] {"results.json", "results.machine.json", "baseline.json", "rg-bench.json"}) {
            try (InputStream in = ReportGenerationTest.class.getResourceAsStream("/fixture/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
        int rc = Main.execute("report", dir.resolve("results.json").toString(), "--rg-bench", dir.resolve("rg-bench.json").toString(),
                "--baseline", dir.resolve("baseline.json").toString(), "--html", dir.resolve("report.html").toString(), "--md",
                dir.resolve("report.md").toString(), "--title", "fixture report");
        assertEquals(0, rc);
        html = Files.readString(dir.resolve("report.html"));
        md = Files.readString(dir.resolve("report.md"));
    }

    @Test
    void htmlInlinesChartJsAndFetchesNothing() {
        assertTrue(html.contains("Chart.js v4."), "the library's own header must be in the page");
        assertTrue(html.length() > 200_000, "Chart.js (~200 KB) is inlined");
        assertFalse(html.contains("<script src"), "no external script");
        assertFalse(html.contains("<link"), "no external stylesheet");
        assertFalse(html.contains("sourceMappingURL"), "no source map to fetch");
    }

    @Test
    void htmlHasACanvasAndAConfigurationPerChart() {
        int canvases = count(html, "<canvas id=\"");
        // matvec, prefill, kernels, layers, decode: time, GB/s, GFLOP/s, % of peak (+ speed-up where a reference ran)
        assertTrue(canvases >= 20, "canvases: " + canvases);
        Matcher total = Pattern.compile("data-charts-total=\"(\\d+)\"").matcher(html);
        assertTrue(total.find());
        assertEquals(canvases, Integer.parseInt(total.group(1)));
        for (String id : new String[] {"matvec-time", "matvec-gbs", "matvec-gflops", "matvec-peak", "matvec-speedup",
                "prefill-peak", "kernels-speedup", "layers-time", "decode-time", "e2e-tokens", "baseline-change"}) {
            assertTrue(html.contains("<canvas id=\"" + id + "\">"), id);
            assertTrue(html.contains("\"id\":\"" + id + "\",\"config\":{\"type\":\"bar\""), "config of " + id);
        }
        assertTrue(html.contains("\"type\":\"logarithmic\""));
        assertTrue(html.contains("\"animation\":false"));
        assertTrue(html.contains("new Chart(canvas, s.config)"));
    }

    @Test
    void htmlTablesCarryTheDerivedFigures() {
        assertTrue(count(html, "<table>") >= 8, "machine, summary, 5 sections, end to end, baseline");
        // vector bf16 2560x2560 matvec: 13.1 MB of weight + 20 KB of activations in 700 us = 18.8 GB/s = 44% of 42.4
        assertTrue(html.contains("<td>2560x2560 (linear_x/y, linear_out, q_proj, o_proj)</td><td>vector</td><td>bf16</td>"
                + "<td class=\"num\">2</td><td class=\"num\">700 µs</td>"), "matvec row");
        assertTrue(html.contains("<td class=\"num\">18.8</td><td class=\"num\">44%</td>"), "GB/s and % of read");
        assertTrue(html.contains("<td class=\"num\">12.9x</td>"), "speed-up over reference bf16: 9000 / 700");
        assertTrue(html.contains("AMD EPYC 9R14 (fixture)"), "machine from the sidecar");
        assertTrue(html.contains("42.4 GB/s (2t)"), "memory probe");
        assertTrue(html.contains("other processes 32% of the CPU, steal 0% (busy: timings run low)"), "the run's other load");
        assertTrue(md.contains("| other load during the run | other processes 32% of the CPU, steal 0% (busy: timings run low) |"
                + " not measured |"), "the baseline has no load in its sidecar");
        assertTrue(html.contains("libcuda.so.1 not found"), "skipped backend and reason");
        // attention decode takes its cost from the sidecar: 4.1 MB in 410 us = 10.0 GB/s
        assertTrue(html.contains("<td class=\"num\">410 µs</td><td class=\"num\">20.5 µs</td><td class=\"num\">10.0</td>"),
                "sidecar cost preferred");
    }

    @Test
    void baselineComparisonHighlightsRegressions() {
        // 500 -> 700 us is +40%: red; 2000 -> 1300 us is -35%: green; 8100 -> 8000 is within 10%
        assertTrue(html.contains("<tr class=\"regression\"><td>2560x2560 (linear_x/y, linear_out, q_proj, o_proj)</td><td>vector</td><td>bf16</td>"));
        assertTrue(html.contains("<td class=\"num\">+40.0%</td><td>REGRESSION (slower)</td>"));
        assertTrue(html.contains("<tr class=\"improvement\">"));
        assertTrue(html.contains("<td class=\"num\">-35.0%</td>"));
        assertTrue(html.contains("tr.regression td{background:#fde2e2"), "regressions are red");
        assertTrue(html.contains("missing now"), "a baseline result absent now is listed");
    }

    @Test
    void endToEndResultsAppear() {
        assertTrue(html.contains("<td>preset 2b</td><td>vector</td><td>bf16</td>"));
        assertTrue(html.contains("20.1 / 21.5 / 22.0"));
        // other processes' and steal's share of the CPU while it ran (3.7% + 0.5%), empty where the file does not say
        assertTrue(md.contains("| 19.3 | 40.2 | 48% | 4.2% |"), md);
        assertTrue(md.contains("| rg-bench.json | preset 2b | reference | bf16 | 1 | 1 | argmax | 0.210 / 0.210 / 0.210 | 0.200 / 0.200 / 0.200 |"),
                md);
        // decode that sampled from the top 40 (rg bench --top-k) is told apart from argmax decoding
        assertTrue(md.contains("| rg-bench.json | preset 2b | vector | bf16 | 2 | 1 | top 40 | 20.1 / 21.5 / 22.0 |"), md);
    }

    @Test
    void markdownHasTheTableRows() {
        assertTrue(md.startsWith("# fixture report\n"));
        assertTrue(md.contains("## Matrix x vector (decode, one token)"));
        assertTrue(md.contains("| operation | backend | format | threads | time / op | ± | GB/s | % of read | GFLOP/s | % of FMA | x reference |"));
        assertTrue(md.contains("| 2560x2560 (linear_x/y, linear_out, q_proj, o_proj) | vector | bf16 | 2 | 700 µs | 35.0 µs | 18.8 | 44% | 18.7 | 8.2% | 12.9x |"),
                md);
        assertTrue(md.contains("| decode step [2b] | vector | bf16 | 2 | 280 ms |"));
        assertTrue(md.contains("| **2560x2560 (linear_x/y, linear_out, q_proj, o_proj)** | **vector** | **bf16** | **2** | **500 µs** | **700 µs** | **+40.0%** | **REGRESSION (slower)** |"));
        assertTrue(md.contains("1 regression(s) (more than 10% slower), 1 improvement(s)."));
        assertTrue(md.contains("- results.json: skipped cuda: libcuda.so.1 not found (no NVIDIA driver)"));
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
