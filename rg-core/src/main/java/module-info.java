/**
 * rg's engine: config.json and safetensors loading, the Griffin model, the Gemma tokenizer, generation,
 * runtime backend selection and the always-available reference backend. It never imports a backend: they
 * are discovered with {@link java.util.ServiceLoader}.
 */
module dev.rg.core {
    requires transitive dev.rg.api;
    requires com.fasterxml.jackson.databind;

    exports dev.rg.core;
    exports dev.rg.core.config;
    exports dev.rg.core.io;
    exports dev.rg.core.safetensors;
    exports dev.rg.core.model;
    exports dev.rg.core.tokenizer;
    exports dev.rg.core.generate;
    exports dev.rg.core.runtime;
    exports dev.rg.core.reference;

    opens dev.rg.core.config to com.fasterxml.jackson.databind;

    uses dev.rg.api.backend.BackendProvider;
    uses dev.rg.api.backend.MemoryReader;
    uses dev.rg.api.format.WeightFormat;
    uses dev.rg.api.format.CheckpointAdapter;

    provides dev.rg.api.backend.BackendProvider with dev.rg.core.reference.ReferenceBackendProvider;
    provides dev.rg.api.format.CheckpointAdapter with dev.rg.core.model.RgCheckpointAdapter;
}
