package dev.rg.backend.tornado;

import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoDeviceMap;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * Lists TornadoVM's devices as {@code tornado device B:D DRIVER TYPE name}, one a line, with the {@code B:D} that the
 * backend's {@code device} setting (or {@code -Drg.tornado.device}) takes. Run by the packed runtime's
 * {@code bin/rg tornado-devices}, so the GPU check can pick the OpenCL and the PTX device.
 */
final class TornadoDevices {
    private TornadoDevices() {}

    public static void main(String[] args) {
        TornadoDeviceMap map = TornadoExecutionPlan.getTornadoDeviceMap();
        for (int b = 0; b < map.getNumBackends(); b++) {
            TornadoBackend backend = map.getAllBackends().get(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                TornadoDevice dev = TornadoExecutionPlan.getDevice(b, d);
                System.out.println("tornado device " + b + ":" + d + " " + dev.getTornadoVMBackend() + " " + dev.getDeviceType()
                        + " " + dev.getPhysicalDevice().getDeviceName());
            }
        }
    }
}
