package dev.rg.bench.report;

import java.util.List;

/**
 * Colours of the chart series: one hue per backend (the reference grey, so the eye goes to the others), a
 * different lightness per format, so "vector · bf16" has the same colour on every chart.
 */
final class Colors {
    /** Formats in a fixed order of shades (others hash into the same range). */
    private static final List<String> FORMATS = List.of("-", "f32", "bf16", "f16", "int8", "nf4", "nf4-dq", "fp4", "fp4-dq");

    private Colors() {}

    /** The colour of a series named "[file: ]backend · format · threads". */
    static String of(String variant, int index) {
        String v = variant.contains(": ") ? variant.substring(variant.indexOf(": ") + 2) : variant;
        String[] parts = v.split(" · ");
        String backend = parts[0];
        String format = parts.length > 2 ? parts[1] : "-";
        int known = FORMATS.indexOf(format);
        int shade = known >= 0 ? known : Math.floorMod(format.hashCode(), FORMATS.size());
        // neighbouring formats differ in both hue and lightness, so f32 and bf16 of one backend are told apart
        int lightness = 30 + (shade % 4) * 13;
        return switch (backend) {
            case "reference" -> "hsl(0, 0%, " + (25 + shade * 7) + "%)";
            case "vector" -> "hsl(" + (190 + shade * 9) + ", 75%, " + lightness + "%)";
            case "cuda" -> "hsl(" + (85 + shade * 9) + ", 60%, " + lightness + "%)";
            case "tornado" -> "hsl(" + (15 + shade * 6) + ", 85%, " + lightness + "%)";
            default -> "hsl(" + Math.floorMod(backend.hashCode() + index * 47, 360) + ", 60%, " + lightness + "%)";
        };
    }
}
