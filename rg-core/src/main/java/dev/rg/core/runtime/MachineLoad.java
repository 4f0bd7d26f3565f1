package dev.rg.core.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How much of the machine's CPU other work took while a benchmark measured: the busy time of all CPUs from
 * {@code /proc/stat} less this process's own (from {@code /proc/self/stat}, with the children it has waited for, such
 * as JMH's forked JVMs), and the time the hypervisor gave to other guests (steal). The read and FMA probes run beside
 * the measurements, so ratios to them hold up on a shared machine, but absolute figures measured beside other work run
 * low; this says how much other work there was, so that a reader can tell. Linux only: elsewhere (or if either file is
 * unreadable) there is no sample and reports leave the line out.
 */
public final class MachineLoad {
    /** At or above this share (other processes and steal together) a report calls the machine busy. */
    public static final double BUSY_PERCENT = 25;

    private MachineLoad() {}

    /** Whether other processes and steal together took {@link #BUSY_PERCENT} or more (also for shares read back from files). */
    public static boolean busy(double othersPercent, double stealPercent) {
        return othersPercent + stealPercent >= BUSY_PERCENT;
    }

    /**
     * One reading, in clock ticks of all CPUs together: {@code busy} (all but idle and iowait), {@code steal},
     * {@code total}, and {@code own}, this process's user and system time with its waited-for children's.
     */
    public record Sample(long busyTicks, long stealTicks, long totalTicks, long ownTicks) {}

    /**
     * Shares of the whole machine's CPU between two samples, in percent: {@code others} is the busy time that was not
     * this process's (or its children's), {@code steal} what the hypervisor took, {@code own} this process's (with its
     * children's).
     */
    public record Share(double othersPercent, double stealPercent, double ownPercent) {
        public boolean busy() {
            return MachineLoad.busy(othersPercent, stealPercent);
        }

        /** "other processes 12% of its CPU, steal 0%". */
        public String describe() {
            return String.format(java.util.Locale.ROOT, "other processes %.0f%% of its CPU, steal %.0f%%", othersPercent,
                    stealPercent);
        }
    }

    /** A reading now, or empty where {@code /proc/stat} or {@code /proc/self/stat} cannot be read. */
    public static Optional<Sample> sample() {
        try {
            return parse(Files.readString(Path.of("/proc/stat")), Files.readString(Path.of("/proc/self/stat")));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // not Linux, or a /proc this code does not understand: no load line, not an error
        }
    }

    /**
     * From the aggregate {@code cpu} line of {@code /proc/stat} ({@code user nice system idle iowait irq softirq steal
     * ...}, guest time already inside user) and fields 14-17 of {@code /proc/self/stat} ({@code utime stime cutime
     * cstime}, after the parenthesised command name); empty when either is missing or short.
     */
    static Optional<Sample> parse(String procStat, String selfStat) {
        long[] f = null;
        for (String line : procStat.split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w[0].equals("cpu") && w.length >= 9) {
                f = new long[8];
                for (int i = 0; i < 8; i++) {
                    f[i] = Long.parseLong(w[i + 1]);
                }
                break;
            }
        }
        // the command name may hold spaces and parentheses: the fields start after the last ')'
        int close = selfStat.lastIndexOf(')');
        String[] s = close < 0 ? new String[0] : selfStat.substring(close + 1).trim().split("\\s+");
        if (f == null || s.length < 15) {
            return Optional.empty();
        }
        // s[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17
        long own = Long.parseLong(s[11]) + Long.parseLong(s[12]) + Long.parseLong(s[13]) + Long.parseLong(s[14]);
        long busy = f[0] + f[1] + f[2] + f[5] + f[6];
        return Optional.of(new Sample(busy, f[7], busy + f[3] + f[4] + f[7], own));
    }

    /** The shares between {@code before} and {@code after}, or empty when either is missing or no tick passed. */
    public static Optional<Share> between(Optional<Sample> before, Optional<Sample> after) {
        if (before.isEmpty() || after.isEmpty()) {
            return Optional.empty();
        }
        Sample a = before.get();
        Sample b = after.get();
        long total = b.totalTicks() - a.totalTicks();
        if (total <= 0) {
            return Optional.empty();
        }
        double own = 100.0 * (b.ownTicks() - a.ownTicks()) / total;
        double others = 100.0 * (b.busyTicks() - a.busyTicks()) / total - own;
        double steal = 100.0 * (b.stealTicks() - a.stealTicks()) / total;
        // the two files are read a moment apart: clamp into [0, 100]
        return Optional.of(new Share(clamp(others), clamp(steal), clamp(own)));
    }

    private static double clamp(double percent) {
        return Math.min(100, Math.max(0, percent));
    }
}
