package dev.rg.cli;

import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Op;
import dev.rg.core.runtime.BackendRegistry;
import java.io.PrintStream;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code rg backends}: every discovered backend with availability, reason, priority and capabilities. */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = "List every discovered backend in the order of automatic selection: availability and why, what it runs on, priority, native ops and weight formats.")
final class BackendsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        PrintStream out = Output.out();
        String chosen = null;
        try {
            chosen = BackendRegistry.select(null).name();
        } catch (RuntimeException e) {
            // reported per backend below
        }
        List<BackendRegistry.Entry> all = BackendRegistry.discover();
        for (BackendRegistry.Entry e : all) {
            String mark = e.name().equals(chosen) ? "  <- auto" : "";
            if (e.provider() == null) {
                out.printf(Locale.ROOT, "%-10s unavailable: %s%n", e.name(), e.availability().reason());
                continue;
            }
            out.printf(Locale.ROOT, "%-10s %s, priority %d%s%n", e.name(), e.availability().available() ? "available" : "UNAVAILABLE",
                    e.provider().priority(), mark);
            out.printf(Locale.ROOT, "           %s%n", e.provider().description());
            out.printf(Locale.ROOT, "           why: %s%n", e.availability().reason());
            if (e.availability().available()) {
                out.printf(Locale.ROOT, "           runs on: %s%s%n", e.availability().device().name().toLowerCase(Locale.ROOT),
                        BackendRegistry.rankingNote(e, all).map(n -> " (" + n + ")").orElse(""));
            }
            Capabilities caps = e.provider().capabilities();
            Set<Op> missing = EnumSet.allOf(Op.class);
            missing.removeAll(caps.ops());
            out.printf(Locale.ROOT, "           native ops: %s%n", missing.isEmpty() ? "all " + Op.values().length
                    : caps.ops() + " (fallback to reference: " + missing + ")");
            out.printf(Locale.ROOT, "           weight formats: %s%n", new TreeSet<>(caps.weightFormats()));
        }
        out.printf(Locale.ROOT, "select with --backend NAME, -D%s=NAME or %s=NAME%n", BackendRegistry.PROPERTY, BackendRegistry.ENVIRONMENT);
        out.flush();
        return 0;
    }
}
