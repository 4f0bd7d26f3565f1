package dev.rg.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One results file with its sidecar.
 *
 * @param label        short name shown in the report (the file name)
 * @param measurements its results
 * @param sidecar      the {@code *.machine.json} next to it, or null when there was none
 */
public record RunData(String label, List<Measurement> measurements, JsonNode sidecar) {
    public RunData {
        measurements = List.copyOf(measurements);
    }

    /** The machine limits measured with it. */
    public Peaks peaks() {
        return Peaks.of(sidecar);
    }
}
