/**
 * The TornadoVM backend of rg: the Griffin kernels written as TornadoVM Java (KernelContext work-groups with local
 * memory for matmul and reductions), JIT-compiled for OpenCL devices and PTX. TornadoVM itself comes from an SDK
 * ({@code TORNADOVM_HOME}), not from Maven Central: {@code requires static} lets rg start without it, and the
 * provider then reports the backend unavailable with the reason.
 */
module dev.rg.backend.tornado {
    requires dev.rg.api;
    requires static tornado.api;

    // TornadoVM's JIT reads the kernels' bytecode (compiled with -g: it needs the local variable table)
    exports dev.rg.backend.tornado.kernels to tornado.runtime, tornado.drivers.common, tornado.drivers.opencl, tornado.drivers.ptx;

    provides dev.rg.api.backend.BackendProvider with dev.rg.backend.tornado.TornadoBackendProvider;
}
