/** The {@code rg} command line. Backends and formats are found on the module path at run time. */
module dev.rg.cli {
    requires dev.rg.core;
    requires dev.rg.conformance;
    requires dev.rg.server;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    // rg bench's warm-up waits for the JIT compiler to go quiet (CompilationMXBean)
    requires java.management;

    opens dev.rg.cli to info.picocli;

    uses dev.rg.api.backend.BackendProvider;
    uses dev.rg.api.format.WeightFormat;
    uses dev.rg.api.format.CheckpointAdapter;
}
