package dev.rg.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rg.core.io.StrictJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code tokenizer.json} of the kind transformers' {@code GemmaConverter} writes into a
 * {@link Vocabulary} and an {@link HfEncoder}.
 *
 * <p>HF files carry no piece types, so they are inferred: the {@code unk_token} is UNKNOWN; the BOS, EOS and
 * PAD tokens (named in a sibling {@code tokenizer_config.json}, else {@code <bos>}, {@code <eos>},
 * {@code <pad>}) are CONTROL; other added tokens are USER_DEFINED; {@code <0xHH>} entries are BYTE; and
 * {@code "\t"} is the byte 0x09 when {@code <0x09>} is absent, because the converter renamed that piece. Scores
 * are not stored in the file; encoding uses merge ranks instead.
 */
final class HfTokenizerJsonLoader {
    /** Merge ranks are carried as floats in {@link MergeQueue}; below 2^24 they are exact. */
    private static final int MAX_MERGES = 1 << 24;

    private HfTokenizerJsonLoader() {}

    /** The loaded parts; the encoder reproduces HF's encoding of the file. */
    record Loaded(Vocabulary vocabulary, Encoder encoder) {}

    static Loaded load(Path file) {
        return load(TokenizerFiles.read(file), file);
    }

    /** Loads the bytes of {@code file} (tokenizer_config.json is looked for beside it). */
    static Loaded load(byte[] bytes, Path file) {
        String source = file.toString();
        JsonNode root = parse(bytes, source);
        JsonNode model = root.path("model");
        if (!model.isObject()) {
            throw new TokenizerException(source + ": no 'model' object; not a tokenizer.json");
        }
        String type = model.path("type").asText("");
        if (!type.equals("BPE")) {
            throw new TokenizerException(source + ": model type '" + type + "', expected BPE as in Gemma");
        }
        if (!model.path("dropout").isNull() && !model.path("dropout").isMissingNode()
                && model.path("dropout").asDouble() != 0.0) {
            throw new TokenizerException(source + ": BPE dropout is set; encoding would be random");
        }
        for (String field : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!model.path(field).asText("").isEmpty()) {
                throw new TokenizerException(source + ": model." + field + " is set; not supported for Gemma");
            }
        }

        Map<String, Integer> modelVocab = readVocab(model.path("vocab"), source);
        Map<Integer, String> pieceOfId = new HashMap<>();
        modelVocab.forEach((piece, id) -> {
            String other = pieceOfId.putIfAbsent(id, piece);
            if (other != null) {
                throw new TokenizerException(source + ": vocab id " + id + " is given to both '"
                        + Vocabulary.printable(other) + "' and '" + Vocabulary.printable(piece) + "'");
            }
        });

        // Added tokens: ids may extend the vocab; content already in the vocab must keep its id.
        Map<Integer, String> added = new HashMap<>();
        LongestMatchTrie rawAdded = new LongestMatchTrie();
        List<String[]> normalizedAddedContent = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt(-1);
            String content = t.path("content").asText("");
            if (id < 0 || content.isEmpty()) {
                throw new TokenizerException(source + ": added token " + t + " needs an id >= 0 and a content");
            }
            for (String flag : List.of("single_word", "lstrip", "rstrip")) {
                if (t.path(flag).asBoolean(false)) {
                    throw new TokenizerException(source + ": added token '" + Vocabulary.printable(content)
                            + "' sets " + flag + ", which Gemma files never do; not supported");
                }
            }
            Integer inVocab = modelVocab.get(content);
            if (inVocab != null && inVocab != id) {
                throw new TokenizerException(source + ": added token '" + Vocabulary.printable(content) + "' has id "
                        + id + " but the vocab gives it " + inVocab);
            }
            String other = pieceOfId.get(id);
            if (other != null && !other.equals(content)) {
                throw new TokenizerException(source + ": added token id " + id + " '" + Vocabulary.printable(content)
                        + "' collides with '" + Vocabulary.printable(other) + "'");
            }
            pieceOfId.put(id, content);
            added.put(id, content);
            boolean special = t.path("special").asBoolean(false);
            boolean normalized = t.has("normalized") ? t.path("normalized").asBoolean() : !special;
            if (normalized) {
                normalizedAddedContent.add(new String[] {content, Integer.toString(id)});
            } else {
                rawAdded.add(content, id);
            }
        }

        // Ids are distinct, so they are exactly 0..size-1 when none is >= size.
        int size = pieceOfId.size();
        for (int id : pieceOfId.keySet()) {
            if (id >= size) {
                int missing = 0;
                while (pieceOfId.containsKey(missing)) {
                    missing++;
                }
                throw new TokenizerException(source + ": no token has id " + missing + " although id " + id
                        + " exists (ids must be 0..n-1 without gaps)");
            }
        }

        var normalizer = HfTextSteps.normalizer(root.path("normalizer"), source);
        var preTokenizer = HfTextSteps.preTokenizer(root.path("pre_tokenizer"), source);
        LongestMatchTrie normalizedAdded = new LongestMatchTrie();
        for (String[] c : normalizedAddedContent) {
            // tokenizers normalizes the patterns of normalized added tokens before matching them.
            String pattern = normalizer.apply(c[0]);
            if (!pattern.isEmpty()) {
                normalizedAdded.add(pattern, Integer.parseInt(c[1]));
            }
        }

        SpecialNames names = SpecialNames.read(file.resolveSibling("tokenizer_config.json"),
                model.path("unk_token").asText("<unk>"));
        String[] pieces = new String[size];
        PieceType[] types = new PieceType[size];
        int[] byteOf = new int[size];
        int unkId = idOrMinus1(pieceOfId, names.unk());
        int bosId = idOrMinus1(pieceOfId, names.bos());
        int eosId = idOrMinus1(pieceOfId, names.eos());
        int padId = idOrMinus1(pieceOfId, names.pad());
        boolean tabRenamed = !modelVocab.containsKey("<0x09>") && modelVocab.containsKey("\t")
                && !added.containsValue("\t");
        int[] byteIds = new int[256];
        java.util.Arrays.fill(byteIds, -1);
        for (int id = 0; id < size; id++) {
            String piece = pieceOfId.get(id);
            pieces[id] = piece;
            byteOf[id] = -1;
            if (id == unkId) {
                types[id] = PieceType.UNKNOWN;
            } else if (id == bosId || id == eosId || id == padId) {
                types[id] = PieceType.CONTROL;
            } else if (added.containsKey(id)) {
                types[id] = PieceType.USER_DEFINED;
            } else if (Vocabulary.byteOfPieceName(piece) >= 0) {
                types[id] = PieceType.BYTE;
                byteOf[id] = Vocabulary.byteOfPieceName(piece);
            } else if (tabRenamed && piece.equals("\t")) {
                types[id] = PieceType.BYTE;
                byteOf[id] = 0x09;
            } else {
                types[id] = PieceType.NORMAL;
            }
        }
        for (Map.Entry<String, Integer> e : modelVocab.entrySet()) {
            int b = Vocabulary.byteOfPieceName(e.getKey());
            if (b >= 0) {
                byteIds[b] = e.getValue();
            }
        }
        Vocabulary vocab = new Vocabulary(source, pieces, types, new float[size], byteOf, unkId, bosId, eosId, padId,
                " \u2047 ");

        Map<Long, Long> merges = readMerges(model.path("merges"), modelVocab, source);
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        HfBpe bpe = new HfBpe(modelVocab, merges, byteFallback ? byteIds : null,
                modelVocab.getOrDefault(model.path("unk_token").asText(""), -1),
                model.path("fuse_unk").asBoolean(false), model.path("ignore_merges").asBoolean(false));
        return new Loaded(vocab, new HfEncoder(rawAdded, normalizedAdded, normalizer, preTokenizer, bpe));
    }

    private static JsonNode parse(byte[] bytes, String source) {
        JsonNode root = StrictJson.read(bytes, source, TokenizerException::new);
        if (!root.isObject()) {
            throw new TokenizerException(source + ": expected a JSON object (a Hugging Face tokenizer.json)");
        }
        return root;
    }

    private static Map<String, Integer> readVocab(JsonNode vocab, String source) {
        if (!vocab.isObject() || vocab.isEmpty()) {
            throw new TokenizerException(source + ": model.vocab must be a non-empty object of token -> id");
        }
        Map<String, Integer> map = HashMap.newHashMap(vocab.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw new TokenizerException(source + ": vocab entry '" + Vocabulary.printable(e.getKey())
                        + "' has id " + e.getValue() + ", expected an integer >= 0");
            }
            if (e.getKey().isEmpty()) {
                throw new TokenizerException(source + ": vocab has an empty token");
            }
            map.put(e.getKey(), e.getValue().asInt());
        }
        return map;
    }

    /** Merges as {@code "left right"} strings (the legacy form) or {@code [left, right]} pairs; later wins. */
    private static Map<Long, Long> readMerges(JsonNode merges, Map<String, Integer> vocab, String source) {
        if (!merges.isArray()) {
            throw new TokenizerException(source + ": model.merges must be an array");
        }
        if (merges.size() >= MAX_MERGES) {
            throw new TokenizerException(source + ": " + merges.size() + " merges; at most " + MAX_MERGES
                    + " are supported");
        }
        Map<Long, Long> map = HashMap.newHashMap(merges.size());
        int rank = 0;
        for (JsonNode m : merges) {
            String left;
            String right;
            if (m.isTextual()) {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) {
                    throw new TokenizerException(source + ": merge " + rank + " '" + Vocabulary.printable(m.asText())
                            + "' is not two tokens separated by one space");
                }
                left = parts[0];
                right = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw new TokenizerException(source + ": merge " + rank + " is " + m + ", expected \"a b\" or [a, b]");
            }
            Integer l = vocab.get(left);
            Integer r = vocab.get(right);
            Integer merged = vocab.get(left + right);
            if (l == null || r == null || merged == null) {
                throw new TokenizerException(source + ": merge " + rank + " ('" + Vocabulary.printable(left) + "', '"
                        + Vocabulary.printable(right) + "') uses a token that is not in the vocab");
            }
            map.put(HfBpe.pairKey(l, r), (long) rank << 32 | merged);
            rank++;
        }
        return map;
    }

    private static int idOrMinus1(Map<Integer, String> pieceOfId, String piece) {
        for (Map.Entry<Integer, String> e : pieceOfId.entrySet()) {
            if (e.getValue().equals(piece)) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** The special token strings, from {@code tokenizer_config.json} when present, else Gemma's names. */
    private record SpecialNames(String bos, String eos, String pad, String unk) {
        static SpecialNames read(Path config, String modelUnk) {
            SpecialNames defaults = new SpecialNames("<bos>", "<eos>", "<pad>", modelUnk);
            if (!Files.isRegularFile(config)) {
                return defaults;
            }
            JsonNode root = parse(TokenizerFiles.read(config), config.toString());
            return new SpecialNames(name(root, "bos_token", defaults.bos()), name(root, "eos_token", defaults.eos()),
                    name(root, "pad_token", defaults.pad()), name(root, "unk_token", defaults.unk()));
        }

        /** A token given as a string or as an AddedToken object {@code {"content": ...}}. */
        private static String name(JsonNode root, String field, String fallback) {
            JsonNode n = root.path(field);
            if (n.isTextual()) {
                return n.asText();
            }
            if (n.path("content").isTextual()) {
                return n.path("content").asText();
            }
            return fallback;
        }
    }
}
