/**
 * The conformance kit: checks every kernel of a backend against the reference backend on random inputs, and
 * the whole model against the golden fixtures. Backends (ours or third parties') run it from their tests by
 * extending {@link dev.rg.conformance.BackendConformanceTest}, and people run it with {@code rg check}.
 */
module dev.rg.conformance {
    requires transitive dev.rg.core;
    requires com.fasterxml.jackson.databind;
    requires static org.junit.jupiter.api;

    exports dev.rg.conformance;
}
