package dev.rg.cli;

import dev.rg.core.model.Model;

/** Warnings shown before work starts: slow fallbacks a user would otherwise only notice as slowness. */
final class Warnings {
    private Warnings() {}

    static void print(Model m) {
        if (m.hostOnlyWeights() > 0) {
            System.err.println("rg: warning: backend '" + m.backend().name() + "' has no kernel for format "
                    + m.linearFormat() + "; " + m.hostOnlyWeights() + " weights run on the slow reference fallback");
        }
        for (String w : m.backend().warnings()) {
            System.err.println("rg: warning: " + w);
        }
    }
}
