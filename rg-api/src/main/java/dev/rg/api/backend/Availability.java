package dev.rg.api.backend;

import java.util.Objects;

/**
 * Whether a backend can run here, with a reason a person understands (e.g. "libcuda.so.1 not found").
 *
 * @param available whether {@link BackendProvider#create} is expected to succeed
 * @param reason    why (or why not); never empty
 */
public record Availability(boolean available, String reason) {
    public Availability {
        Objects.requireNonNull(reason, "reason");
    }

    public static Availability available(String reason) {
        return new Availability(true, reason);
    }

    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
