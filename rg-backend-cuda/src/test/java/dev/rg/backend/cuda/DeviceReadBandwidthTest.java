package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.backend.cuda.opencl.OpenClSimBackendProvider;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The device backends measure their own memory ({@code rg bench} compares decode with it): the read-probe kernel
 * and its timing, run on the OpenCL double of the CUDA backend. Asserts that a figure comes back and is a finite,
 * positive rate, and that the probe's buffers are freed; never a speed (that belongs to {@code rg bench}).
 */
class DeviceReadBandwidthTest {
    @Test
    void measuresAndFreesItsBuffers() {
        var provider = new OpenClSimBackendProvider();
        Assumptions.assumeTrue(provider.probe().available(), () -> "skipped: no OpenCL device (" + provider.probe().reason() + ")");
        try (Backend b = provider.create(new BackendOptions(1, Map.of()))) {
            long before = ((dev.rg.backend.cuda.device.DeviceBackend) b).launcher().allocatedBytes();
            OptionalDouble gbs = b.measureReadBandwidth(8L << 20);
            assertTrue(gbs.isPresent(), "a device backend measures its own memory");
            assertTrue(Double.isFinite(gbs.getAsDouble()) && gbs.getAsDouble() > 0, "rate " + gbs);
            long after = ((dev.rg.backend.cuda.device.DeviceBackend) b).launcher().allocatedBytes();
            assertTrue(after == before, "probe buffers freed: " + before + " -> " + after + " bytes");
        }
    }
}
