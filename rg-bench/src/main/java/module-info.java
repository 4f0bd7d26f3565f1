/**
 * rg's benchmarks and performance report.
 *
 * <ul>
 *   <li>{@code dev.rg.bench.jmh}: JMH benchmarks of every backend x weight format x layer shape, on identical
 *       seeded tensors;</li>
 *   <li>{@code dev.rg.bench.run}: the runner ({@code rg-bench.jar run}), its profiles and the machine probes;</li>
 *   <li>{@code dev.rg.bench.cost}: bytes moved and FLOPs of each benchmarked operation;</li>
 *   <li>{@code dev.rg.bench.report}: the HTML and Markdown report ({@code rg-bench.jar report}).</li>
 * </ul>
 *
 * Backends and weight formats are discovered with {@link java.util.ServiceLoader}, never imported. What runs is
 * the shaded class-path jar {@code target/rg-bench.jar} (see the pom for why).
 */
module dev.rg.bench {
    requires transitive dev.rg.core;
    requires jmh.core;
    requires transitive com.fasterxml.jackson.databind;
    requires info.picocli;
    requires java.management;

    exports dev.rg.bench;
    exports dev.rg.bench.cost;
    exports dev.rg.bench.report;
    exports dev.rg.bench.run;
    // JMH's generated classes subclass the states and call the benchmarks
    exports dev.rg.bench.jmh;

    opens dev.rg.bench to info.picocli;
    opens dev.rg.bench.run to info.picocli;
    opens dev.rg.bench.report to info.picocli;

    uses dev.rg.api.backend.BackendProvider;
    uses dev.rg.api.format.WeightFormat;
}
