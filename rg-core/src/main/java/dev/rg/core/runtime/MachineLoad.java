package dev.rg.core.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How much of the machine's CPU other work took while a benchmark measured: the busy time of all CPUs from
 * {@code /proc/stat} less this process's own CPU time, and the time the hypervisor gave to other guests (steal). The
 * read and FMA probes run beside the measurements, so ratios to them hold up on a shared machine, but absolute figures
 * measured beside other work run low; this says how much other work there was, so that a reader can tell. Linux only:
 * elsewhere (or if {@code /proc/stat} is unreadable) there is no sample and reports leave the line out.
 */
public final class MachineLoad {
    /** At or above this share (other processes and steal together) a report calls the machine busy. */
    public static final double BUSY_PERCENT = 25;

    private static final Path PROC_STAT = Path.of("/proc/stat");

    private MachineLoad() {}

    /**
     * One reading: clock ticks of all CPUs together ({@code busy} without idle and iowait, {@code steal}, {@code total}),
     * the number of CPUs they cover, this process's CPU time and the monotonic clock.
     */
    public record Sample(long busyTicks, long stealTicks, long totalTicks, int cpus, long processCpuNanos, long nanoTime) {}

    /**
     * Shares of the whole machine's CPU between two samples, in percent: {@code others} is the busy time that was not
     * this process's, {@code steal} what the hypervisor took.
     */
    public record Share(double othersPercent, double stealPercent) {
        public boolean busy() {
            return othersPercent + stealPercent >= BUSY_PERCENT;
        }
    }

    /** A reading now, or empty where {@code /proc/stat} or this process's CPU time cannot be read. */
    public static Optional<Sample> sample() {
        Optional<Duration> cpu = ProcessHandle.current().info().totalCpuDuration();
        if (cpu.isEmpty()) {
            return Optional.empty();
        }
        try {
            return parse(Files.readString(PROC_STAT), cpu.get().toNanos(), System.nanoTime());
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // not Linux, or a /proc this code does not understand: no load line, not an error
        }
    }

    /**
     * The aggregate {@code cpu} line of a {@code /proc/stat} text ({@code user nice system idle iowait irq softirq steal
     * ...}, guest time already inside user) and its {@code cpuN} lines counted; empty when the line is missing or short.
     */
    static Optional<Sample> parse(String procStat, long processCpuNanos, long nanoTime) {
        long[] f = null;
        int cpus = 0;
        for (String line : procStat.split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w[0].equals("cpu") && w.length >= 9) {
                f = new long[8];
                for (int i = 0; i < 8; i++) {
                    f[i] = Long.parseLong(w[i + 1]);
                }
            } else if (w[0].startsWith("cpu") && w[0].length() > 3 && Character.isDigit(w[0].charAt(3))) {
                cpus++;
            }
        }
        if (f == null || cpus == 0) {
            return Optional.empty();
        }
        long busy = f[0] + f[1] + f[2] + f[5] + f[6];
        long total = busy + f[3] + f[4] + f[7];
        return Optional.of(new Sample(busy, f[7], total, cpus, processCpuNanos, nanoTime));
    }

    /** The shares between {@code before} and {@code after}, or empty when either is missing or no tick passed. */
    public static Optional<Share> between(Optional<Sample> before, Optional<Sample> after) {
        if (before.isEmpty() || after.isEmpty()) {
            return Optional.empty();
        }
        Sample a = before.get();
        Sample b = after.get();
        long total = b.totalTicks() - a.totalTicks();
        long wall = b.nanoTime() - a.nanoTime();
        if (total <= 0 || wall <= 0 || a.cpus() != b.cpus()) {
            return Optional.empty();
        }
        double busy = 100.0 * (b.busyTicks() - a.busyTicks()) / total;
        double ours = 100.0 * (b.processCpuNanos() - a.processCpuNanos()) / ((double) wall * b.cpus());
        double steal = 100.0 * (b.stealTicks() - a.stealTicks()) / total;
        // ticks and nanoseconds are sampled a little apart: clamp the difference into [0, 100]
        return Optional.of(new Share(Math.min(100, Math.max(0, busy - ours)), Math.max(0, steal)));
    }
}
