package dev.rg.api.backend;

/**
 * Entry point of a backend, discovered with {@link java.util.ServiceLoader} (declare it with
 * {@code provides dev.rg.api.backend.BackendProvider with ...} in {@code module-info.java} and in
 * {@code META-INF/services}).
 *
 * <p>Selection: {@code --backend NAME}, the system property {@code rg.backend} or the environment variable
 * {@code RG_BACKEND} name one; otherwise ({@code auto}) the available providers are ranked by the
 * {@link DeviceClass#selectionTier() tier} of the device class their {@link #probe()} reports (GPU/accelerator,
 * then host, then a device API's CPU device), then by {@link #priority()}, and the first wins. Documented
 * priorities: reference 0, vector 100, tornado 200, cuda 300. A third-party backend picks a number relative to
 * these and reports its device class in {@link Availability#device()}.
 *
 * <p>The provider's constructor and {@link #probe()} must be cheap and must not load native libraries of
 * other backends, nor start threads: every provider is instantiated just to list it.
 */
public interface BackendProvider {
    /** Unique short name, lower case, e.g. {@code "vector"}. */
    String name();

    /** One-line human description. */
    String description();

    /** Higher wins in automatic selection, among providers whose devices are of the same tier. */
    int priority();

    /** Whether this backend can run on this machine, and why. May be cached by the provider. */
    Availability probe();

    /** What the backend runs natively. */
    Capabilities capabilities();

    /**
     * Creates a backend instance. Each instance owns its memory and threads; close it when done.
     *
     * @throws BackendUnavailableException when it cannot run here, with the reason
     */
    Backend create(BackendOptions options);
}
