/**
 * The stable service-provider interface of rg. It depends on nothing but the JDK, so a third party can
 * write a backend or a weight format against this module alone.
 *
 * <ul>
 *   <li>{@link dev.rg.api.tensor}: shapes, dtypes, backend-owned tensors and weights, host weights;</li>
 *   <li>{@link dev.rg.api.format}: weight formats (dense and quantised) and checkpoint adapters;</li>
 *   <li>{@link dev.rg.api.backend}: backend providers, kernels and the batch/sequence descriptors.</li>
 * </ul>
 */
module dev.rg.api {
    exports dev.rg.api.tensor;
    exports dev.rg.api.format;
    exports dev.rg.api.backend;

    uses dev.rg.api.format.WeightFormat;
    uses dev.rg.api.format.CheckpointAdapter;
    uses dev.rg.api.backend.BackendProvider;
    uses dev.rg.api.backend.MemoryReader;

    provides dev.rg.api.format.WeightFormat with
            dev.rg.api.format.DenseFormat.F32Format,
            dev.rg.api.format.DenseFormat.BF16Format,
            dev.rg.api.format.DenseFormat.F16Format;
}
