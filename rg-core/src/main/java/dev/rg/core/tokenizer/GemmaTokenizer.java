package dev.rg.core.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * The Gemma (v1) tokenizer used by RecurrentGemma: SentencePiece BPE with byte fallback, in pure Java.
 *
 * <p>From {@code tokenizer.model} it reproduces the SentencePiece library exactly (the reference that Google's
 * RecurrentGemma code and gemma.cpp call): {@link #encode} is {@code sp.encode(text)} and {@link #decode} is
 * {@code sp.decode(ids)}. Encoding adds no BOS; a prompt is {@code [bosId()] + encode(text)}, see
 * {@link ChatTemplate} for chat prompts.
 *
 * <h2>Input strings</h2>
 * SentencePiece works on UTF-8; a lone surrogate in a Java string has no UTF-8 form. Each lone surrogate is
 * therefore replaced with U+FFFD before encoding, as SentencePiece's normalizer does with an invalid byte. No
 * other change is made: no Unicode normalization, no trimming, no whitespace collapsing.
 *
 * <h2>tokenizer.json</h2>
 * When a directory has no {@code tokenizer.model}, {@link #load} reads the Hugging Face {@code tokenizer.json}
 * and encodes <em>as HF {@code tokenizers} does with that file</em> (added-token splitting, then BPE by merge
 * rank). For a Gemma file converted by transformers this differs from SentencePiece in three documented ways:
 * <ol>
 *   <li>the text {@code <bos>}, {@code <eos>}, {@code <pad>}, {@code <unk>} becomes ids 2, 1, 0, 3 (HF matches
 *       special added tokens in text); SentencePiece encodes them as ordinary pieces;</li>
 *   <li>runs of 32 or more spaces: the U+2581-run added tokens are {@code normalized:false}, so they never match
 *       text, which has spaces; the run is built by merges instead (50 spaces: 153, 153, 155 instead of 168,
 *       156);</li>
 *   <li>a literal U+2581 next to spaces: HF matches the raw U+2581 run first, SentencePiece normalizes the spaces
 *       first and then matches the longest run.</li>
 * </ol>
 * Decoding always uses the SentencePiece rules above (HF's decoder keeps control-token text, writes
 * {@code <unk>} for the unknown id and replaces invalid byte runs differently). Piece types, absent from
 * tokenizer.json, are inferred (see {@code HfTokenizerJsonLoader}); {@code piece(id)} returns the file's
 * strings, so the tab byte piece reads {@code "\t"} where SentencePiece says {@code <0x09>}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class GemmaTokenizer {
    /** The SentencePiece model file name in a model directory. */
    public static final String MODEL_FILE = "tokenizer.model";
    /** The Hugging Face tokenizer file name in a model directory, used when there is no tokenizer.model. */
    public static final String JSON_FILE = "tokenizer.json";

    private final Vocabulary vocab;
    private final Encoder encoder;
    private final PieceDecoder decoder;
    private final Path source;

    GemmaTokenizer(Vocabulary vocab, Encoder encoder, Path source) {
        this.vocab = vocab;
        this.encoder = encoder;
        this.decoder = new PieceDecoder(vocab);
        this.source = source;
    }

    /**
     * Loads the tokenizer of a model directory: {@code tokenizer.model} if present, else {@code tokenizer.json}.
     *
     * @throws TokenizerException if neither file exists or the file is malformed or not a Gemma tokenizer
     */
    public static GemmaTokenizer load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new TokenizerException(modelDir + ": not a directory (expected a model directory with "
                    + MODEL_FILE + " or " + JSON_FILE + ")");
        }
        Path model = modelDir.resolve(MODEL_FILE);
        if (Files.exists(model)) {
            return fromSentencePieceModel(model);
        }
        Path json = modelDir.resolve(JSON_FILE);
        if (Files.exists(json)) {
            return fromTokenizerJson(json);
        }
        throw new TokenizerException(modelDir + ": no tokenizer found; expected " + MODEL_FILE + " (SentencePiece) or "
                + JSON_FILE + " (Hugging Face) in this directory");
    }

    /** Loads a SentencePiece {@code tokenizer.model} file. */
    public static GemmaTokenizer fromSentencePieceModel(Path file) {
        String name = file.toString();
        ModelProto proto = ModelProtoParser.parse(TokenizerFiles.read(file), name);
        Vocabulary vocab = SentencePieceModelLoader.vocabulary(proto, name);
        return new GemmaTokenizer(vocab, new SentencePieceBpe(vocab), file);
    }

    /** Loads a Hugging Face {@code tokenizer.json}; see the class comment for how it differs. */
    public static GemmaTokenizer fromTokenizerJson(Path file) {
        HfTokenizerJsonLoader.Loaded loaded = HfTokenizerJsonLoader.load(file);
        return new GemmaTokenizer(loaded.vocabulary(), loaded.encoder(), file);
    }

    /**
     * Encodes text to ids without BOS or EOS. O(n log n) in the length of the text.
     *
     * @throws NullPointerException if {@code text} is null
     */
    public int[] encode(String text) {
        return encoder.encode(InputText.replaceLoneSurrogates(text));
    }

    /**
     * Decodes ids with SentencePiece's rules: control ids vanish, the unknown id becomes {@code " \u2047 "}, byte
     * runs are read as UTF-8 with one U+FFFD per invalid byte, U+2581 becomes a space, no space is stripped.
     *
     * @throws IllegalArgumentException if an id is outside {@code 0..vocabSize()-1}
     */
    public String decode(int[] ids) {
        return decoder.decode(ids);
    }

    /** A new incremental decoder for one generation stream. */
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(vocab, decoder);
    }

    /**
     * The piece string of an id, as stored in the file (e.g. {@code "\u2581the"}, {@code "<0x41>"}).
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    public String piece(int id) {
        vocab.checkId(id);
        return vocab.piece(id);
    }

    /**
     * What one token stands for, as UTF-8 bytes, for showing tokens one by one (an API's per-token log-probabilities):
     * a BYTE piece its single byte (part of a character that only a run of them decodes), the unknown id its surface,
     * a CONTROL piece (which decodes to nothing) its name such as {@code "<end_of_turn>"}, any other piece its text
     * with U+2581 as a space.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    public byte[] tokenBytes(int id) {
        vocab.checkId(id);
        int b = vocab.byteOf(id);
        if (b >= 0) {
            return new byte[] {(byte) b};
        }
        String text = switch (vocab.type(id)) {
            case CONTROL -> vocab.piece(id);
            case UNKNOWN -> vocab.unkSurface();
            default -> vocab.piece(id).replace('\u2581', ' ');
        };
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The type of an id's piece.
     *
     * @throws IllegalArgumentException if {@code id} is out of range
     */
    public PieceType pieceType(int id) {
        vocab.checkId(id);
        return vocab.type(id);
    }

    /** The id of a piece string, reserved pieces (control, unknown, byte) first, or empty if absent. */
    public OptionalInt idOf(String piece) {
        return vocab.idOf(piece);
    }

    /** The number of ids (256,000 for Gemma). */
    public int vocabSize() {
        return vocab.size();
    }

    /**
     * Fails unless every id this tokenizer produces is an embedding row of a model with {@code modelVocabSize} rows:
     * caught when tokenizer and model are put together, not at the first out-of-range id mid-generation.
     */
    public void checkFits(int modelVocabSize) {
        if (vocabSize() > modelVocabSize) {
            throw new IllegalArgumentException(source + ": the tokenizer has " + vocabSize() + " pieces but the model only "
                    + modelVocabSize + " embeddings (vocab_size): mismatched files");
        }
    }

    /** The BOS id (2 for Gemma), or -1 if the model has none. */
    public int bosId() {
        return vocab.bosId();
    }

    /** The EOS id (1 for Gemma), or -1 if the model has none. */
    public int eosId() {
        return vocab.eosId();
    }

    /** The padding id (0 for Gemma), or -1 if the model has none. */
    public int padId() {
        return vocab.padId();
    }

    /** The unknown id (3 for Gemma); never produced by encoding, since byte fallback covers every character. */
    public int unkId() {
        return vocab.unkId();
    }

    /** The file this tokenizer was loaded from. */
    public Path source() {
        return source;
    }

    @Override
    public String toString() {
        return "GemmaTokenizer[" + source + ", " + vocab.size() + " pieces]";
    }
}
