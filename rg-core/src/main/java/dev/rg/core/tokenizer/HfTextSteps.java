package dev.rg.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The {@code normalizer} and {@code pre_tokenizer} steps of a {@code tokenizer.json}, limited to what Gemma
 * files use. Anything else is rejected at load time rather than approximated.
 *
 * <ul>
 *   <li>normalizer: {@code null}, {@code Replace} with a literal {@code String} pattern, {@code Prepend}
 *       (applied to non-empty text only), or a {@code Sequence} of these;</li>
 *   <li>pre_tokenizer: {@code null}, or {@code Split} on a literal string with behavior
 *       {@code MergedWithPrevious} and no inversion (newer Gemma converters emit {@code Split(" ")}, a no-op
 *       after the space-to-U+2581 normalizer), or a {@code Sequence} of these.</li>
 * </ul>
 */
final class HfTextSteps {
    /** Splits normalized text into the words BPE runs on. */
    interface PreTokenizer {
        List<String> split(String text);
    }

    private HfTextSteps() {}

    static UnaryOperator<String> normalizer(JsonNode node, String source) {
        if (node == null || node.isNull()) {
            return UnaryOperator.identity();
        }
        String type = node.path("type").asText("");
        switch (type) {
            case "Replace" -> {
                String pattern = literalPattern(node, source, "normalizer Replace");
                String content = requireText(node, "content", source, "normalizer Replace");
                return s -> s.replace(pattern, content);
            }
            case "Prepend" -> {
                String prefix = requireText(node, "prepend", source, "normalizer Prepend");
                return s -> s.isEmpty() ? s : prefix + s;
            }
            case "Sequence" -> {
                List<UnaryOperator<String>> steps = new ArrayList<>();
                for (JsonNode child : node.path("normalizers")) {
                    steps.add(normalizer(child, source));
                }
                return s -> {
                    for (UnaryOperator<String> step : steps) {
                        s = step.apply(s);
                    }
                    return s;
                };
            }
            default -> throw new TokenizerException(source + ": unsupported normalizer type '" + type
                    + "'; a Gemma tokenizer.json uses Replace(' ' -> '\u2581')");
        }
    }

    static PreTokenizer preTokenizer(JsonNode node, String source) {
        if (node == null || node.isNull()) {
            return List::of;
        }
        String type = node.path("type").asText("");
        switch (type) {
            case "Split" -> {
                String pattern = literalPattern(node, source, "pre_tokenizer Split");
                String behavior = node.path("behavior").asText("");
                if (!behavior.equals("MergedWithPrevious") || node.path("invert").asBoolean(false)) {
                    throw new TokenizerException(source + ": unsupported pre_tokenizer Split behavior '" + behavior
                            + "' (invert=" + node.path("invert").asBoolean(false)
                            + "); only MergedWithPrevious without invert is implemented");
                }
                return text -> splitMergedWithPrevious(text, pattern);
            }
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode child : node.path("pretokenizers")) {
                    steps.add(preTokenizer(child, source));
                }
                return text -> {
                    List<String> words = List.of(text);
                    for (PreTokenizer step : steps) {
                        List<String> nextWords = new ArrayList<>();
                        for (String w : words) {
                            nextWords.addAll(step.split(w));
                        }
                        words = nextWords;
                    }
                    return words;
                };
            }
            default -> throw new TokenizerException(source + ": unsupported pre_tokenizer type '" + type
                    + "'; a Gemma tokenizer.json has none (null)");
        }
    }

    /**
     * tokenizers' {@code SplitDelimiterBehavior::MergedWithPrevious}: a delimiter is glued to the end of the
     * stretch of text before it; a delimiter at the start or right after another delimiter stands alone.
     */
    static List<String> splitMergedWithPrevious(String text, String delimiter) {
        List<String> words = new ArrayList<>();
        boolean previousWasDelimiter = false;
        int from = 0;
        int at;
        while ((at = text.indexOf(delimiter, from)) >= 0) {
            int delimEnd = at + delimiter.length();
            if (at > from) {
                words.add(text.substring(from, at));
                previousWasDelimiter = false;
            }
            if (!previousWasDelimiter && !words.isEmpty()) {
                words.set(words.size() - 1, words.getLast() + delimiter);
            } else {
                words.add(delimiter);
            }
            previousWasDelimiter = true;
            from = delimEnd;
        }
        if (from < text.length()) {
            words.add(text.substring(from));
        }
        return words;
    }

    private static String literalPattern(JsonNode node, String source, String what) {
        JsonNode pattern = node.path("pattern");
        if (!pattern.path("String").isTextual()) {
            throw new TokenizerException(source + ": " + what + " with a non-literal pattern " + pattern
                    + " is not supported");
        }
        String s = pattern.path("String").asText();
        if (s.isEmpty()) {
            throw new TokenizerException(source + ": " + what + " has an empty pattern");
        }
        return s;
    }

    private static String requireText(JsonNode node, String field, String source, String what) {
        if (!node.path(field).isTextual()) {
            throw new TokenizerException(source + ": " + what + " needs a string '" + field + "'");
        }
        return node.path(field).asText();
    }
}
