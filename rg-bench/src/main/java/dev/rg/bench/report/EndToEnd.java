package dev.rg.bench.report;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One {@code rg bench --json} object: end-to-end prefill and decode of a model.
 *
 * @param source            label of the file it came from
 * @param model             what was benchmarked ("preset 2b" or a checkpoint directory)
 * @param backend           backend
 * @param format            weight format of the linear layers
 * @param threads           threads
 * @param batch             sequences decoded together
 * @param prefill           prefill tokens/s [min, median, max] (median repeated when only it is known)
 * @param decode            decode tokens/s [min, median, max]
 * @param weightBytes       weight bytes read per decoded token
 * @param decodeGbPerS      weight GB/s while decoding
 * @param measuredReadGbPerS the memory-read probe of that run
 * @param otherLoadPercent  other processes' and the hypervisor's share of the CPU while it was measured (NaN when the
 *                          file does not say: before the field existed, or not on Linux)
 * @param decodeTopK        0: decode picked tokens by argmax (also files from before the field); else it sampled each
 *                          from the top k ({@code rg bench --top-k})
 */
public record EndToEnd(String source, String model, String backend, String format, int threads, int batch, double[] prefill,
        double[] decode, long weightBytes, double decodeGbPerS, double measuredReadGbPerS, double otherLoadPercent,
        int decodeTopK) {

    /** Whether a JSON object is an {@code rg bench --json} result. */
    static boolean accepts(JsonNode n) {
        return n.isObject() && n.has("decode_tokens_per_s") && n.has("prefill_tokens_per_s");
    }

    /** Reads one object (missing fields become NaN / "?"). */
    static EndToEnd of(String source, JsonNode n) {
        long bytes = n.path("weight_bytes_per_token").asLong(0);
        double decodeMedian = n.path("decode_tokens_per_s").asDouble(Double.NaN);
        double gbs = n.has("decode_weight_gb_per_s") ? n.get("decode_weight_gb_per_s").asDouble()
                : decodeMedian / Math.max(1, n.path("batch").asInt(1)) * bytes / 1e9;
        return new EndToEnd(source, n.path("model").asText("?"), n.path("backend").asText("?"), n.path("format").asText("?"),
                n.path("threads").asInt(0), n.path("batch").asInt(1),
                triple(n, "prefill_tokens_per_s"), triple(n, "decode_tokens_per_s"), bytes, gbs,
                n.path("measured_read_gb_per_s").asDouble(Double.NaN),
                n.has("other_processes_cpu_percent")
                        ? n.get("other_processes_cpu_percent").asDouble() + n.path("steal_percent").asDouble(0) : Double.NaN,
                n.path("decode_top_k").asInt(0));
    }

    private static double[] triple(JsonNode n, String key) {
        JsonNode mmm = n.path(key + "_min_median_max");
        if (mmm.isArray() && mmm.size() == 3) {
            return new double[] {mmm.get(0).asDouble(), mmm.get(1).asDouble(), mmm.get(2).asDouble()};
        }
        double m = n.path(key).asDouble(Double.NaN);
        return new double[] {m, m, m};
    }

    /** Decode GB/s as a percentage of the run's own memory-read probe. */
    public double percentOfRead() {
        return 100 * decodeGbPerS / measuredReadGbPerS;
    }

    /** How decode picked its tokens: "argmax", or "top k" when it sampled. */
    public String tokenChoice() {
        return decodeTopK > 0 ? "top " + decodeTopK : "argmax";
    }

    /** What distinguishes it on a chart. */
    public String label() {
        return backend + " " + format + " " + threads + "t" + (batch > 1 ? " x" + batch : "")
                + (decodeTopK > 0 ? " top " + decodeTopK : "") + " (" + model + ")";
    }
}
