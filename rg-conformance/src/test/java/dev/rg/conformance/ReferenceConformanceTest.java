package dev.rg.conformance;

/** The reference backend passes its own kit: ops trivially, the fixtures for real (it is the oracle). */
class ReferenceConformanceTest extends BackendConformanceTest {
    @Override
    protected String backend() {
        return "reference";
    }
}
