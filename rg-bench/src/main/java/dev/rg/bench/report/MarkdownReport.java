package dev.rg.bench.report;

import java.util.List;

/**
 * The Markdown summary: the same tables as the HTML report, without charts, for a pull request or an issue.
 * Regressions against a baseline are marked in words (Markdown has no colours).
 */
public final class MarkdownReport {
    private MarkdownReport() {}

    /** Renders the document. */
    public static String render(ReportModel model) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(model.title()).append("\n\n");
        for (String w : Tables.warnings(model)) {
            sb.append("> **Note:** ").append(w).append("\n\n");
        }
        sb.append("## Machine\n\n");
        table(sb, Tables.machines(model));
        Table summary = Tables.summary(model);
        if (!summary.isEmpty()) {
            sb.append("## Summary\n\n");
            table(sb, summary);
        }
        for (String g : Groups.ORDER) {
            if (!model.group(g).isEmpty()) {
                sb.append("## ").append(Groups.title(g)).append("\n\n");
                table(sb, Tables.group(model, g));
            }
        }
        if (!model.endToEnd().isEmpty()) {
            sb.append("## End to end (rg bench)\n\n");
            table(sb, Tables.endToEnd(model));
        }
        if (model.baseline() != null) {
            sb.append("## Compared with the baseline ").append(model.baseline().label()).append("\n\n");
            sb.append(Comparison.count(model.comparison(), Comparison.Status.REGRESSION)).append(" regression(s) (more than ")
                    .append(Fmt.pct(model.threshold() * 100)).append(" slower), ")
                    .append(Comparison.count(model.comparison(), Comparison.Status.IMPROVEMENT)).append(" improvement(s).\n\n");
            table(sb, Tables.comparison(model));
        }
        List<String> notes = Tables.notes(model);
        if (!notes.isEmpty()) {
            sb.append("## Skipped, capped and failed\n\n");
            notes.forEach(n -> sb.append("- ").append(cell(n)).append('\n'));
            sb.append('\n');
        }
        sb.append("GB/s and GFLOP/s are the compulsory bytes and FLOPs of each operation over its time; percentages compare "
                + "them with the memory-read and f32 FMA probes of the same run at the same thread count. Shapes are OUTxIN.\n");
        return sb.toString();
    }

    static void table(StringBuilder sb, Table t) {
        sb.append('|');
        t.headers().forEach(h -> sb.append(' ').append(cell(h)).append(" |"));
        sb.append("\n|");
        t.numeric().forEach(n -> sb.append(n ? " ---: |" : " --- |"));
        sb.append('\n');
        for (int r = 0; r < t.rows().size(); r++) {
            boolean regression = t.classes().get(r).equals("regression");
            sb.append('|');
            for (String c : t.rows().get(r)) {
                String v = cell(c);
                sb.append(' ').append(regression && !v.isEmpty() ? "**" + v + "**" : v).append(" |");
            }
            sb.append('\n');
        }
        sb.append('\n');
    }

    /** A table cell: pipes escaped, no line breaks. */
    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }
}
