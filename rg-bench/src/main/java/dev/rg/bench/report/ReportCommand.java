package dev.rg.bench.report;

import dev.rg.bench.run.Sidecar;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rg-bench.jar report}: renders JMH results (with their sidecars) and {@code rg bench --json} output as
 * a self-contained HTML page and a Markdown summary, optionally against a baseline run.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Render results as HTML (charts, tables) and Markdown; compare with a baseline.")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RESULTS.json", arity = "0..*",
            description = "JMH JSON results of 'run' (their *.machine.json sidecars are read too); 'rg bench --json' files are recognised as well.")
    List<Path> results = new ArrayList<>();

    @Option(names = "--rg-bench", paramLabel = "FILE", description = "Output of 'rg bench --json' (one or many objects; repeatable).")
    List<Path> rgBench = new ArrayList<>();

    @Option(names = "--baseline", paramLabel = "OLD.json", description = "Earlier JMH results to compare with.")
    Path baseline;

    @Option(names = "--threshold", defaultValue = "10", paramLabel = "PERCENT",
            description = "Slower by more than this is a regression. Default: ${DEFAULT-VALUE}.")
    double thresholdPercent;

    @Option(names = "--html", paramLabel = "FILE", description = "Write the HTML report here.")
    Path html;

    @Option(names = "--md", paramLabel = "FILE", description = "Write the Markdown summary here.")
    Path md;

    @Option(names = "--title", defaultValue = "rg performance report", paramLabel = "TEXT", description = "Page title.")
    String title;

    @Override
    public Integer call() throws IOException {
        if (html == null && md == null) {
            throw new IllegalArgumentException("nothing to write: give --html FILE and/or --md FILE");
        }
        if (results.isEmpty() && rgBench.isEmpty()) {
            throw new IllegalArgumentException("no input: give results files and/or --rg-bench files");
        }
        ResultLoader loader = new ResultLoader();
        List<RunData> runs = new ArrayList<>();
        List<EndToEnd> e2e = new ArrayList<>();
        for (Path p : results) {
            if (Sidecar.isSidecar(p)) {
                continue; // a shell glob picked up a sidecar; it is read with its results file
            }
            ResultLoader.Loaded l = loader.load(p);
            runs.addAll(l.runs());
            e2e.addAll(l.endToEnd());
        }
        for (Path p : rgBench) {
            e2e.addAll(loader.loadRgBench(p));
        }
        RunData base = null;
        List<Comparison.Delta> deltas = List.of();
        double threshold = thresholdPercent / 100;
        if (baseline != null) {
            List<RunData> b = loader.load(baseline).runs();
            if (b.isEmpty()) {
                throw new IllegalArgumentException(baseline + " holds no JMH results");
            }
            base = b.get(0);
            List<Measurement> current = new ArrayList<>();
            runs.forEach(r -> current.addAll(r.measurements()));
            deltas = Comparison.compare(current, base.measurements(), threshold);
        }
        ReportModel model = new ReportModel(title, runs, e2e, base, deltas, threshold);
        if (html != null) {
            write(html, HtmlReport.render(model));
            System.out.println("HTML report -> " + html);
        }
        if (md != null) {
            write(md, MarkdownReport.render(model));
            System.out.println("Markdown summary -> " + md);
        }
        if (base != null) {
            System.out.println(Comparison.count(deltas, Comparison.Status.REGRESSION) + " regression(s) against " + baseline
                    + " (informational: the exit status never depends on timings)");
        }
        return 0;
    }

    private static void write(Path file, String text) throws IOException {
        dev.rg.core.io.AtomicFiles.writeString(file, text); // whole or not at all
    }
}
