package dev.rg.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The self-contained HTML report: styles, data and Chart.js all inline, nothing fetched. When the charts are
 * drawn the page appends "[charts drawn: N/M]" to its title and sets {@code data-charts-drawn} on the body,
 * after checking that each canvas has painted pixels: a hook for headless-browser checks.
 */
public final class HtmlReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HtmlReport() {}

    /** Renders the page. */
    public static String render(ReportModel model) {
        List<ChartSpecs.Chart> charts = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        body.append("<header><h1>").append(esc(model.title())).append("</h1><p class=\"meta\">Generated ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME).substring(0, 19))
                .append(" UTC from ").append(esc(sources(model))).append(". Chart.js ").append(esc(ChartJs.version()))
                .append(" inlined.</p></header>\n");
        body.append(nav(model));
        for (String w : Tables.warnings(model)) {
            body.append("<p class=\"warning\">").append(esc(w)).append("</p>\n");
        }

        section(body, "machine", "Machine and limits measured in the same run", null);
        table(body, Tables.machines(model));
        body.append("</section>\n");

        Table summary = Tables.summary(model);
        if (!summary.isEmpty()) {
            section(body, "summary", "Summary", "Per backend and weight format: a whole decode step, how close the "
                    + "single-token matmuls come to the memory-read probe, the prefill matmuls to the FMA probe, and the median "
                    + "speed-up over the reference backend on the operations both ran.");
            table(body, summary);
            body.append("</section>\n");
        }

        for (String g : Groups.ORDER) {
            if (model.group(g).isEmpty()) {
                continue;
            }
            section(body, "group-" + g, Groups.title(g), null);
            List<ChartSpecs.Chart> cs = ChartSpecs.forGroup(model, g);
            canvases(body, cs);
            charts.addAll(cs);
            table(body, Tables.group(model, g));
            body.append("</section>\n");
        }

        if (!model.endToEnd().isEmpty()) {
            section(body, "e2e", "End to end (rg bench)", "Whole-model prefill and decode from rg bench --json, "
                    + "with the memory-read probe of the same run.");
            List<ChartSpecs.Chart> cs = ChartSpecs.endToEnd(model);
            canvases(body, cs);
            charts.addAll(cs);
            table(body, Tables.endToEnd(model));
            body.append("</section>\n");
        }

        if (model.baseline() != null) {
            long reg = Comparison.count(model.comparison(), Comparison.Status.REGRESSION);
            long imp = Comparison.count(model.comparison(), Comparison.Status.IMPROVEMENT);
            section(body, "baseline", "Compared with the baseline " + model.baseline().label(),
                    reg + " regression(s) (more than " + Fmt.pct(model.threshold() * 100) + " slower, in red), " + imp
                            + " improvement(s) (in green). Shared machines move by 20-50% between runs: confirm a regression "
                            + "by repeating both runs.");
            List<ChartSpecs.Chart> cs = ChartSpecs.comparison(model);
            canvases(body, cs);
            charts.addAll(cs);
            table(body, Tables.comparison(model));
            body.append("</section>\n");
        }

        section(body, "notes", "How to read this", null);
        body.append(NOTES);
        List<String> notes = Tables.notes(model);
        if (!notes.isEmpty()) {
            body.append("<h3>Skipped, capped and failed</h3><ul class=\"notes\">");
            notes.forEach(n -> body.append("<li>").append(esc(n)).append("</li>"));
            body.append("</ul>");
        }
        body.append("</section>\n");

        ArrayNode specs = JSON.createArrayNode();
        charts.forEach(c -> specs.addObject().put("id", c.id()).set("config", c.config()));
        StringBuilder page = new StringBuilder(300_000);
        page.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
                .append(esc(model.title())).append("</title>\n<style>").append(CSS).append("</style>\n</head>\n<body data-charts-total=\"")
                .append(charts.size()).append("\" data-charts-drawn=\"0\">\n").append(body)
                .append("<script>/* Chart.js ").append(esc(ChartJs.version())).append(", MIT License, https://www.chartjs.org */\n")
                .append(ChartJs.source()).append("\n</script>\n")
                .append("<script type=\"application/json\" id=\"chart-data\">").append(scriptSafe(specs.toString()))
                .append("</script>\n<script>").append(BOOT).append("</script>\n</body>\n</html>\n");
        return page.toString();
    }

    private static String sources(ReportModel model) {
        List<String> names = new ArrayList<>();
        model.runs().forEach(r -> names.add(r.label()));
        model.endToEnd().stream().map(EndToEnd::source).distinct().forEach(names::add);
        if (model.baseline() != null) {
            names.add("baseline " + model.baseline().label());
        }
        return String.join(", ", names);
    }

    private static String nav(ReportModel model) {
        StringBuilder sb = new StringBuilder("<nav><a href=\"#machine\">Machine</a>");
        if (!Tables.summary(model).isEmpty()) {
            sb.append("<a href=\"#summary\">Summary</a>");
        }
        for (String g : Groups.ORDER) {
            if (!model.group(g).isEmpty()) {
                sb.append("<a href=\"#group-").append(g).append("\">").append(esc(g)).append("</a>");
            }
        }
        if (!model.endToEnd().isEmpty()) {
            sb.append("<a href=\"#e2e\">end to end</a>");
        }
        if (model.baseline() != null) {
            sb.append("<a href=\"#baseline\">vs baseline</a>");
        }
        return sb.append("<a href=\"#notes\">notes</a></nav>\n").toString();
    }

    private static void section(StringBuilder sb, String id, String title, String intro) {
        sb.append("<section id=\"").append(id).append("\"><h2>").append(esc(title)).append("</h2>\n");
        if (intro != null) {
            sb.append("<p>").append(esc(intro)).append("</p>\n");
        }
    }

    private static void canvases(StringBuilder sb, List<ChartSpecs.Chart> charts) {
        sb.append("<div class=\"charts\">");
        for (ChartSpecs.Chart c : charts) {
            sb.append("<div class=\"chart\"><canvas id=\"").append(c.id()).append("\"></canvas></div>");
        }
        sb.append("</div>\n");
    }

    static void table(StringBuilder sb, Table t) {
        sb.append("<div class=\"scroll\"><table>\n<thead><tr>");
        for (int i = 0; i < t.headers().size(); i++) {
            sb.append(t.numeric().get(i) ? "<th class=\"num\">" : "<th>").append(esc(t.headers().get(i))).append("</th>");
        }
        sb.append("</tr></thead>\n<tbody>\n");
        for (int r = 0; r < t.rows().size(); r++) {
            String cls = t.classes().get(r);
            sb.append(cls.isEmpty() ? "<tr>" : "<tr class=\"" + cls + "\">");
            List<String> row = t.rows().get(r);
            for (int i = 0; i < row.size(); i++) {
                sb.append(t.numeric().get(i) ? "<td class=\"num\">" : "<td>").append(esc(row.get(i))).append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</tbody></table></div>\n");
    }

    /** HTML text escaping. */
    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** JSON inside a script element: "</" would close it ("<\/" is the same JSON string). */
    private static String scriptSafe(String json) {
        return json.replace("</", "<\\/");
    }

    private static final String CSS = """
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1360px;padding:0 20px 40px;color:#1d2228}
            h1{font-size:26px;margin:20px 0 4px}h2{font-size:20px;margin:28px 0 8px;border-bottom:2px solid #e3e7ec;padding-bottom:4px}
            h3{font-size:15px}.meta{color:#5b6572;margin:0 0 10px}
            nav{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #e3e7ec;z-index:2}
            nav a{margin-right:14px;color:#1b5fae;text-decoration:none}
            .charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px;margin:10px 0}
            .chart{position:relative;height:330px;border:1px solid #e3e7ec;border-radius:6px;padding:6px;background:#fcfdfe}
            .scroll{overflow-x:auto}
            table{border-collapse:collapse;margin:8px 0 16px;font-size:12.5px;min-width:60%}
            th,td{border:1px solid #dde2e8;padding:3px 7px;vertical-align:top}th{background:#f1f4f7;text-align:left}
            .num{text-align:right;white-space:nowrap}tr.reference td{color:#5b6572}
            tr.regression td{background:#fde2e2;color:#8a1111;font-weight:600}tr.improvement td{background:#e1f5e4;color:#15561f}
            tr.missing td,tr.new td{color:#7a6200}
            .warning{background:#fff4d6;border:1px solid #e8c766;border-radius:6px;padding:8px 12px;margin:12px 0}ul.notes{font-size:12.5px;color:#444}
            @media print{nav{position:static}.chart{break-inside:avoid}}
            """;

    private static final String NOTES = """
            <ul>
            <li><b>Time / op</b> is JMH's mean (AverageTime mode), <b>±</b> the half-width of its 99.9% confidence interval.
            Each operation ends by bringing one float back to the host, so asynchronous (GPU) backends are timed to completion.</li>
            <li><b>GB/s</b> and <b>GFLOP/s</b> divide the operation's compulsory cost by its time: every weight (at its format's
            size) and input read once, every output and state written once; a multiply-add counts 2 FLOPs. Real traffic is
            higher when a kernel re-reads from memory, so these are lower bounds and comparable across backends.</li>
            <li><b>% of read</b> compares GB/s with the memory-read probe (dev.rg.core.runtime.MemoryReadProbe), <b>% of FMA</b>
            GFLOP/s with an auto-vectorised f32 FMA loop, both measured in the same run at the result's thread count. Decode-sized
            work (one token) is limited by reading the weights, prefill by arithmetic. For a device backend the host probes are
            not its limits. Small shapes (the quick profile's tiny model) stay in the CPU caches and can exceed 100% of
            the memory-read figure.</li>
            <li><b>x reference</b>: reference time / this time for the same operation and format. The reference backend is scalar
            and single-threaded; in the full profile it runs only operations of at most 0.25 GFLOP.</li>
            <li>Shapes are written OUTxIN, the weight as PyTorch stores it ([out, in]); N is the number of tokens (rows).</li>
            </ul>
            """;

    private static final String BOOT = """
            (function () {
              var specs = JSON.parse(document.getElementById('chart-data').textContent);
              var drawn = 0, errors = [];
              function painted(c) {
                var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (var i = 3; i < d.length; i += 4) { if (d[i] !== 0) { return true; } }
                return false;
              }
              specs.forEach(function (s) {
                try {
                  var canvas = document.getElementById(s.id);
                  new Chart(canvas, s.config);
                  if (painted(canvas)) { drawn++; } else { errors.push(s.id + ': nothing painted'); }
                } catch (e) { errors.push(s.id + ': ' + e); }
              });
              document.body.setAttribute('data-charts-drawn', String(drawn));
              if (errors.length) { document.body.setAttribute('data-chart-errors', errors.join('; ')); }
              document.title = document.title + ' [charts drawn: ' + drawn + '/' + specs.length + ']';
            })();
            """;
}
