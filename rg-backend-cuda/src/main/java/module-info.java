/**
 * rg's CUDA backend: the CUDA driver API through the FFM API (no JNI, no native build step), kernels written in
 * CUDA C and shipped as PTX. Registered as the {@code cuda} backend (priority 300); it needs
 * {@code --enable-native-access=dev.rg.backend.cuda} (or ALL-UNNAMED on the class path).
 */
module dev.rg.backend.cuda {
    requires dev.rg.api;

    exports dev.rg.backend.cuda;
    exports dev.rg.backend.cuda.device;
    exports dev.rg.backend.cuda.driver;

    provides dev.rg.api.backend.BackendProvider with dev.rg.backend.cuda.CudaBackendProvider;
}
