package dev.rg.bench.jmh;

import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Encoding cost against text length: a linear-ish tokenizer (SentencePiece's priority-queue BPE is
 * O(n log n)) takes about 10x longer for 10x the text; a quadratic one 100x. Text: the embedded model's
 * held-out Austen text repeated to the size ({@code -Drg.home} or the working directory locates
 * {@code models/austen-6m}).
 *
 * <pre>java -jar rg-bench/target/rg-bench.jar jmh TokenizerBench -f 1 -wi 2 -i 3</pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class TokenizerBench {
    /** Characters of text to encode. */
    @Param({"10000", "100000", "1000000"})
    public int chars;

    private GemmaTokenizer tokenizer;
    private String text;

    @Setup
    public void setUp() throws IOException {
        Path model = Path.of(System.getProperty("rg.home", ".")).resolve("models/austen-6m");
        tokenizer = GemmaTokenizer.load(model);
        String source = Files.readString(model.resolve("heldout.txt"));
        StringBuilder sb = new StringBuilder(chars + source.length());
        while (sb.length() < chars) {
            sb.append(source);
        }
        text = sb.substring(0, chars);
    }

    /** Returns the ids so JMH keeps the work. */
    @Benchmark
    public int[] encode() {
        return tokenizer.encode(text);
    }
}
