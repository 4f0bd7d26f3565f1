package dev.rg.core.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads a tokenizer file whole, with a size cap so a wrong path cannot exhaust memory. */
final class TokenizerFiles {
    /** Gemma's tokenizer.model is 4.2 MB and its tokenizer.json 17 MB; anything past this is not a tokenizer. */
    static final long MAX_BYTES = 256L << 20;

    private TokenizerFiles() {}

    static byte[] read(Path file) {
        dev.rg.core.io.ModelFiles.requireRegularFile(file, TokenizerException::new);
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new TokenizerException(file + ": " + size + " bytes, larger than the " + MAX_BYTES
                        + " bytes any tokenizer file has; wrong file?");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(file + ": no such file", e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e, e);
        }
    }
}
