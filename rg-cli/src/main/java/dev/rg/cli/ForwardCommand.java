package dev.rg.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.io.AtomicFiles;
import dev.rg.core.model.Finite;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.NonFiniteException;
import dev.rg.core.model.Outputs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rg forward}: raw logits for given ids plus a greedy continuation, as JSON, so anyone can compare rg
 * with another implementation float for float.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run token ids through the model; write {\"prefill_logits\": [[...]], \"decode_logits\": [[...]], \"generated_ids\": [...]} (float32, greedy).")
final class ForwardCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--ids", required = true, split = ",", paramLabel = "ID", description = "Token ids, comma-separated (include BOS=2 yourself).")
    int[] ids;

    @Option(names = "--generate", paramLabel = "N", defaultValue = "0", description = "Greedy decode steps after the prompt.")
    int generate;

    @Option(names = "--out", required = true, paramLabel = "FILE.json", description = "Output file.")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (ids.length == 0) {
            throw new IllegalArgumentException("--ids is empty");
        }
        if (generate < 0 || generate > 1_000_000) {
            throw new IllegalArgumentException("--generate must be in [0, 1000000], got " + generate);
        }
        if (java.nio.file.Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a directory");
        }
        try (RecurrentGemma rg = model.loadForIds(); ModelState state = rg.newState(1)) {
            Model m = rg.model();
            int vocab = m.config().vocabSize();
            Tensor logits = m.griffin().forward(state, ids, ids.length, Outputs.ALL);
            float[] all = new float[ids.length * vocab];
            m.backend().download(logits, all);
            requireFinite(m, all, "prefill");
            // written to a temporary file and renamed at the end: an error never leaves a truncated or half-written file
            AtomicFiles.write(out, tmp -> {
                try (JsonGenerator g = new JsonFactory().createGenerator(tmp.toFile(), JsonEncoding.UTF8)) {
                    g.writeStartObject();
                    g.writeFieldName("prefill_logits");
                    writeRows(g, all, ids.length, vocab);
                    int[] generated = new int[generate];
                    float[] row = new float[vocab];
                    System.arraycopy(all, (ids.length - 1) * vocab, row, 0, vocab);
                    g.writeFieldName("decode_logits");
                    g.writeStartArray();
                    for (int s = 0; s < generate; s++) {
                        generated[s] = argmax(row);
                        Tensor l = m.griffin().forward(state, new int[] {generated[s]}, 1, Outputs.LAST);
                        m.backend().download(l, row);
                        requireFinite(m, row, "decode step " + s);
                        writeRows(g, row, 1, vocab);
                    }
                    g.writeEndArray();
                    g.writeArrayFieldStart("generated_ids");
                    for (int id : generated) {
                        g.writeNumber(id);
                    }
                    g.writeEndArray();
                    g.writeStringField("backend", m.backend().name());
                    g.writeStringField("weight_format", m.linearFormat());
                    g.writeEndObject();
                }
            });
        }
        System.err.println("wrote " + out);
        return 0;
    }

    /** NaN or infinite logits are an error naming the first layer and op that produced one, never numbers in the file. */
    private void requireFinite(Model m, float[] logits, String where) {
        int bad = Finite.firstNonFinite(logits, 0, logits.length);
        if (bad >= 0) {
            String located = m.griffin().locateNonFinite(ids);
            throw new NonFiniteException("the model computed " + Finite.describe(logits[bad]) + " logits (" + where + ", token "
                    + bad % m.config().vocabSize() + ")" + (located != null ? ", first in " + located : "")
                    + "; the weights or config.json are broken (`rg info --verify` scans the weights) or the computation overflowed");
        }
    }

    private static void writeRows(JsonGenerator g, float[] data, int rows, int cols) throws IOException {
        if (rows == 1 && data.length == cols) {
            g.writeArray(toDouble(data, 0, cols), 0, cols);
            return;
        }
        g.writeStartArray();
        for (int r = 0; r < rows; r++) {
            g.writeStartArray();
            for (int c = 0; c < cols; c++) {
                g.writeNumber(data[r * cols + c]);
            }
            g.writeEndArray();
        }
        g.writeEndArray();
    }

    private static double[] toDouble(float[] f, int from, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = f[from + i];
        }
        return d;
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
