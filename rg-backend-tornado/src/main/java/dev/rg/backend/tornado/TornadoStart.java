package dev.rg.backend.tornado;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;

/** Keeps every TornadoVM type out of the provider: loaded only when a backend is created. */
final class TornadoStart {
    private TornadoStart() {}

    static Backend create(BackendOptions options) {
        return new TornadoBackend(options);
    }
}
