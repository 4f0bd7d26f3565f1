package dev.rg.server;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Ids of what the API keeps (files, batches, responses): a prefix and 96 random bits, as OpenAI's ids look. */
final class RandomIds {
    private RandomIds() {}

    static String of(String prefix) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return prefix + HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextInt());
    }
}
