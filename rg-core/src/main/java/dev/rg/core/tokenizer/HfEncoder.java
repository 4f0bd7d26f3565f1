package dev.rg.core.tokenizer;

import java.util.function.UnaryOperator;

/**
 * Encodes like Hugging Face {@code tokenizers} does with a Gemma {@code tokenizer.json} (without the
 * post-processor, so no BOS is added):
 *
 * <ol>
 *   <li>split the raw text on added tokens with {@code normalized:false}, leftmost-longest;</li>
 *   <li>normalize each remaining stretch, then split it on added tokens with {@code normalized:true} (whose
 *       patterns are normalized too);</li>
 *   <li>pre-tokenize each remaining stretch into words and run {@link HfBpe} on each.</li>
 * </ol>
 *
 * This is why HF differs from SentencePiece on Gemma files: {@code <bos>} typed in text is an added token (id
 * 2); U+2581-run added tokens marked {@code normalized:false} never match text that had spaces; and a literal
 * U+2581 in the input is matched before spaces are normalized next to it.
 */
final class HfEncoder implements Encoder {
    private final LongestMatchTrie rawAdded;
    private final LongestMatchTrie normalizedAdded;
    private final UnaryOperator<String> normalizer;
    private final HfTextSteps.PreTokenizer preTokenizer;
    private final HfBpe model;

    HfEncoder(LongestMatchTrie rawAdded, LongestMatchTrie normalizedAdded, UnaryOperator<String> normalizer,
            HfTextSteps.PreTokenizer preTokenizer, HfBpe model) {
        this.rawAdded = rawAdded;
        this.normalizedAdded = normalizedAdded;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
    }

    @Override
    public int[] encode(String text) {
        IntBuffer out = new IntBuffer(Math.max(16, text.length() / 3));
        splitOnAddedTokens(text, rawAdded, out, true);
        return out.toArray();
    }

    /**
     * Emits added tokens found in {@code text} and passes the stretches between them on: raw stretches get
     * normalized and split again on the normalized added tokens; normalized stretches go to the model.
     */
    private void splitOnAddedTokens(String text, LongestMatchTrie trie, IntBuffer out, boolean raw) {
        int stretchStart = 0;
        int i = 0;
        while (i < text.length()) {
            long match = trie.isEmpty() ? -1 : trie.longestMatch(text, i);
            if (match < 0) {
                i += Character.charCount(text.codePointAt(i));
                continue;
            }
            stretch(text.substring(stretchStart, i), out, raw);
            out.add(LongestMatchTrie.id(match));
            i += LongestMatchTrie.length(match);
            stretchStart = i;
        }
        stretch(text.substring(stretchStart), out, raw);
    }

    private void stretch(String s, IntBuffer out, boolean raw) {
        if (s.isEmpty()) {
            return;
        }
        if (raw) {
            splitOnAddedTokens(normalizer.apply(s), normalizedAdded, out, false);
        } else {
            for (String word : preTokenizer.split(s)) {
                model.encodeWord(word, out);
            }
        }
    }
}
