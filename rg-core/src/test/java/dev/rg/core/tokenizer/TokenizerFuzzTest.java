package dev.rg.core.tokenizer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.rg.core.FuzzChecks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz targets for tokenizer.model (the SentencePiece protobuf, then the vocabulary checks) and tokenizer.json; a
 * file that loads must also encode and decode a short text. Corpus: {@code TokenizerFuzzTestInputs}.
 */
class TokenizerFuzzTest {
    private static final String TEXT = "Hello world, it is a truth\n  universally acknowledged 123 \u00e9\u4e16";
    private static final Path JSON_FILE = jsonFile();

    private static Path jsonFile() {
        try {
            Path d = Files.createTempDirectory("rg-fuzz-tokenizer");
            d.toFile().deleteOnExit();
            return d.resolve("tokenizer.json"); // never written: the bytes come from the fuzzer
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void exercise(GemmaTokenizer tok) {
        int[] ids = tok.encode(TEXT);
        tok.decode(ids);
    }

    @FuzzTest(maxDuration = "10m")
    void sentencePieceModel(byte[] data) {
        FuzzChecks.check(data.length, () -> {
            ModelProto proto = ModelProtoParser.parse(data, "fuzz/tokenizer.model");
            Vocabulary vocab = SentencePieceModelLoader.vocabulary(proto, "fuzz/tokenizer.model");
            exercise(new GemmaTokenizer(vocab, new SentencePieceBpe(vocab), Path.of("fuzz/tokenizer.model")));
        }, TokenizerException.class);
    }

    @FuzzTest(maxDuration = "10m")
    void tokenizerJson(byte[] data) {
        FuzzChecks.check(data.length, () -> {
            HfTokenizerJsonLoader.Loaded l = HfTokenizerJsonLoader.load(data, JSON_FILE);
            exercise(new GemmaTokenizer(l.vocabulary(), l.encoder(), JSON_FILE));
        }, TokenizerException.class);
    }
}
