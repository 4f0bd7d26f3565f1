package dev.rg.bench.jmh;

import dev.rg.core.generate.JsonConstraint;
import dev.rg.core.generate.JsonTokens;
import dev.rg.core.tokenizer.GemmaTokenizer;
import dev.rg.core.tokenizer.PieceType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What JSON mode adds to every generated token: one {@link JsonConstraint#mask} of a logit row, after a text that leaves
 * the automaton outside strings ({@code {} and {@code {"a":}) or inside one ({@code {"ab}). Vocabularies: the embedded
 * model's 4,096 pieces, and a synthetic one of Gemma's size (256,000: those pieces and concatenations of two or three
 * of them, as BPE merges make; the real one is not in the repository) ({@code -Drg.home} or the working directory
 * locates {@code models/austen-6m}).
 *
 * <pre>java -jar rg-bench/target/rg-bench.jar jmh JsonMaskBench -f 1 -wi 3 -i 5</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class JsonMaskBench {
    /** Tokens in the vocabulary. */
    @Param({"4096", "256000"})
    public int vocab;

    /** The text generated so far. */
    @Param({"{", "{\"ab", "{\"a\":"})
    public String text;

    private JsonConstraint constraint;
    private float[] row;
    private float[] logits;

    @Setup
    public void setUp() {
        GemmaTokenizer tokenizer = GemmaTokenizer.load(Path.of(System.getProperty("rg.home", ".")).resolve("models/austen-6m"));
        int base = tokenizer.vocabSize();
        byte[][] pieces = new byte[Math.max(vocab, base)][];
        for (int id = 0; id < base; id++) {
            PieceType type = tokenizer.pieceType(id);
            if (type == PieceType.NORMAL || type == PieceType.BYTE) {
                pieces[id] = tokenizer.tokenBytes(id);
            }
        }
        SplittableRandom r = new SplittableRandom(1);
        for (int id = base; id < pieces.length; id++) {
            StringBuilder sb = new StringBuilder();
            for (int k = 2 + r.nextInt(2); k > 0; k--) {
                byte[] p = pieces[r.nextInt(base)];
                if (p != null) {
                    sb.append(new String(p, StandardCharsets.UTF_8));
                }
            }
            pieces[id] = sb.toString().getBytes(StandardCharsets.UTF_8);
        }
        constraint = new JsonConstraint(new JsonTokens(pieces));
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            constraint.accept(tokenizer.idOf(String.format("<0x%02X>", b & 0xFF)).orElseThrow());
        }
        row = new float[pieces.length];
        for (int i = 0; i < row.length; i++) {
            row[i] = (float) r.nextDouble(-10, 10);
        }
        logits = row.clone();
    }

    /** Masks a fresh copy of the row (the copy, a few microseconds at 256,000 floats, is part of the figure). */
    @Benchmark
    public float[] mask() {
        System.arraycopy(row, 0, logits, 0, row.length);
        constraint.mask(logits, 0, logits.length);
        return logits;
    }
}
