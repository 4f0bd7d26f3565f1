package dev.rg.api.backend;

import java.util.Objects;

/**
 * Whether a backend can run here, with a reason a person understands (e.g. "libcuda.so.1 not found"), and what
 * its kernels would run on.
 *
 * @param available whether {@link BackendProvider#create} is expected to succeed
 * @param reason    why (or why not); never empty
 * @param device    what the kernels run on ({@link DeviceClass#HOST} when the provider does not say); automatic
 *                  selection ranks by it before the priority
 */
public record Availability(boolean available, String reason, DeviceClass device) {
    public Availability {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(device, "device");
    }

    /** A host backend's availability (device class {@link DeviceClass#HOST}). */
    public Availability(boolean available, String reason) {
        this(available, reason, DeviceClass.HOST);
    }

    /** Available, running on the host CPU. */
    public static Availability available(String reason) {
        return new Availability(true, reason, DeviceClass.HOST);
    }

    /** Available, running on a device of the given class. */
    public static Availability available(String reason, DeviceClass device) {
        return new Availability(true, reason, device);
    }

    public static Availability unavailable(String reason) {
        return new Availability(false, reason, DeviceClass.HOST);
    }
}
