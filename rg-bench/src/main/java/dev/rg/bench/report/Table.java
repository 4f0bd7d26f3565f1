package dev.rg.bench.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A table as text cells, built once and rendered as HTML or Markdown. Each row may carry a CSS class
 * ({@code regression}, {@code improvement}, ...) that the HTML colours and the Markdown spells out.
 *
 * @param headers column titles
 * @param rows    cells, row by row
 * @param classes one class per row ("" for none)
 * @param numeric which columns are numbers (right-aligned)
 */
public record Table(List<String> headers, List<List<String>> rows, List<String> classes, List<Boolean> numeric) {

    /** Builds a table row by row. */
    static final class Builder {
        private final List<String> headers = new ArrayList<>();
        private final List<Boolean> numeric = new ArrayList<>();
        private final List<List<String>> rows = new ArrayList<>();
        private final List<String> classes = new ArrayList<>();

        /** A text column. */
        Builder text(String header) {
            headers.add(header);
            numeric.add(false);
            return this;
        }

        /** A numeric column. */
        Builder number(String header) {
            headers.add(header);
            numeric.add(true);
            return this;
        }

        /** A row without a class. */
        Builder row(List<String> cells) {
            return row(cells, "");
        }

        /** A row with a class. */
        Builder row(List<String> cells, String cssClass) {
            if (cells.size() != headers.size()) {
                throw new IllegalArgumentException(cells.size() + " cells for " + headers.size() + " columns");
            }
            rows.add(List.copyOf(cells));
            classes.add(cssClass);
            return this;
        }

        Table build() {
            return new Table(List.copyOf(headers), List.copyOf(rows), List.copyOf(classes), List.copyOf(numeric));
        }
    }

    /** Whether it has no rows. */
    public boolean isEmpty() {
        return rows.isEmpty();
    }
}
