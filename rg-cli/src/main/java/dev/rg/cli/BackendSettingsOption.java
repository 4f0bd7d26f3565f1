package dev.rg.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --backend-option KEY=VALUE}, repeatable: settings handed to the backend as it is created (its
 * {@code BackendOptions.settings}). Before it, the CLI passed none, so a setting such as cuda's {@code device=1} had no
 * way in; the system properties some backends also read ({@code -Drg.cuda.graphs=on} in {@code RG_JAVA_OPTS}) still
 * work, and an option given here wins over them.
 */
final class BackendSettingsOption {
    /** The help shared by every command that loads a model. */
    static final String HELP = "A backend setting, repeatable. cuda: device=N, graphs=on|off, fused-norms=on|off; "
            + "vector: spin-us=N, chunk-kb=N, bf16-layout=auto|panels|rows; tornado: device=B:D, kernels=cpu|gpu, fuse=true|false. "
            + "A backend ignores keys it does not use.";

    @Option(names = "--backend-option", paramLabel = "KEY=VALUE", description = HELP)
    Map<String, String> options = new LinkedHashMap<>();

    /** The settings, each key checked to be non-blank. */
    Map<String, String> settings() {
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (e.getKey().isBlank()) {
                throw new IllegalArgumentException("--backend-option needs KEY=VALUE with a key, got '=" + e.getValue() + "'");
            }
        }
        return Map.copyOf(options);
    }
}
