/**
 * The Gemma (v1) tokenizer used by RecurrentGemma, in pure Java: SentencePiece BPE with byte fallback, exact
 * against the SentencePiece library.
 *
 * <p>Public API: {@link dev.rg.core.tokenizer.GemmaTokenizer} (load, encode, decode, vocabulary queries),
 * {@link dev.rg.core.tokenizer.StreamingDecoder} (incremental decoding during generation),
 * {@link dev.rg.core.tokenizer.ChatTemplate} (Gemma chat prompts as ids),
 * {@link dev.rg.core.tokenizer.PieceType} and {@link dev.rg.core.tokenizer.TokenizerException}.
 *
 * <p>Inside, one job per class: {@code ProtoReader} (protobuf wire format) and {@code ModelProtoParser} read
 * {@code tokenizer.model}; {@code SentencePieceModelLoader} checks it; {@code Vocabulary} holds pieces and
 * lookups; {@code SentencePieceBpe} encodes (with {@code LongestMatchTrie} for user-defined pieces and
 * {@code MergeQueue} for merges); {@code PieceDecoder} and {@code Utf8} decode. The Hugging Face
 * {@code tokenizer.json} path is {@code HfTokenizerJsonLoader}, {@code HfEncoder}, {@code HfTextSteps} and
 * {@code HfBpe}; it is the only part that uses Jackson. The algorithm is specified in the project's
 * {@code spec/gemma-tokenizer.md}.
 */
package dev.rg.core.tokenizer;
