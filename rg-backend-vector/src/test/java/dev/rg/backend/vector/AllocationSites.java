package dev.rg.backend.vector;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.management.JMException;
import javax.management.ObjectName;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a failing allocation test's bytes come from, so that a failure on a CI machine says what to fix instead of
 * only how much: JFR's allocation samples of a few more windows, their weights (relative: a thread's first sample also
 * counts what it allocated before the recording) summed by the innermost project method on their stack,
 * each with the tier its code has now ({@code jcmd Compiler.codelist}: a Vector API kernel left in C1, tier 1-3,
 * boxes its vectors).
 */
final class AllocationSites {
    private AllocationSites() {
    }

    /**
     * Runs {@code work} under a recording and describes the top {@code top} allocation sites by sampled bytes, counting
     * only the samples of the threads {@code threadIds} (the measured ones: JFR's own threads allocate too).
     */
    static String describe(Runnable work, long[] threadIds, int top) {
        Path file = null;
        try (Recording recording = new Recording()) {
            file = Files.createTempFile("rg-allocation", ".jfr");
            recording.enable("jdk.ObjectAllocationSample").with("throttle", "10000/s").withStackTrace();
            recording.start();
            work.run();
            recording.stop();
            recording.dump(file);
            Map<String, Long> bytes = new HashMap<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (e.getThread() == null || !measured(e.getThread().getJavaThreadId(), threadIds)) {
                    continue;
                }
                String site = site(e);
                String type = e.getClass("objectClass") == null ? "?" : typeName(e.getClass("objectClass").getName());
                bytes.merge(site + " allocating " + type, e.getLong("weight"), Long::sum);
            }
            if (bytes.isEmpty()) {
                return "JFR sampled no allocation";
            }
            String codes = codeList();
            return bytes.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                    .map(s -> "weight " + s.getValue() + " at " + s.getKey() + " [" + tiers(codes, s.getKey()) + "]")
                    .collect(Collectors.joining("; "));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (file != null) {
                file.toFile().delete();
            }
        }
    }

    private static boolean measured(long id, long[] threadIds) {
        for (long t : threadIds) {
            if (t == id) {
                return true;
            }
        }
        return false;
    }

    /** The innermost frame in this project's code, with its caller, e.g. {@code Int8RowDot.rows4 <- Int8RowDot.inPlace}. */
    private static String site(RecordedEvent e) {
        if (e.getStackTrace() == null) {
            return "(no stack)";
        }
        List<RecordedFrame> frames = e.getStackTrace().getFrames();
        for (int i = 0; i < frames.size(); i++) {
            String name = name(frames.get(i));
            if (name.startsWith("dev.rg.")) {
                return name + (i + 1 < frames.size() ? " <- " + name(frames.get(i + 1)) : "")
                        + (i > 0 ? " (in " + name(frames.get(0)) + ")" : "");
            }
        }
        return frames.isEmpty() ? "(empty stack)" : name(frames.get(0));
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    /** The tiers of the site's method and of its caller in the code cache now ("interpreted" when in neither). */
    private static String tiers(String codes, String site) {
        if (site.startsWith("(")) {
            return "no method";
        }
        String[] words = site.split(" ");
        String own = words[0] + ": " + tiersOf(codes, words[0]);
        return words.length > 2 && words[1].equals("<-") ? own + ", " + words[2] + ": " + tiersOf(codes, words[2]) : own;
    }

    private static String tiersOf(String codes, String method) {
        String wanted = " " + method + "(";
        // a line is "id tier state name(signature) [addresses]"; state 0 is code in use
        String found = codes.lines().map(String::strip).filter(l -> l.contains(wanted)).map(l -> l.split("\\s+"))
                .filter(f -> f.length > 3 && f[2].equals("0")).map(f -> "tier " + f[1]).distinct().sorted()
                .collect(Collectors.joining("+"));
        return found.isEmpty() ? "interpreted" : found;
    }

    /** {@code [F} as {@code float[]}, {@code [Ljava.lang.String;} as {@code java.lang.String[]}. */
    private static String typeName(String jvmName) {
        int dims = 0;
        while (dims < jvmName.length() && jvmName.charAt(dims) == '[') {
            dims++;
        }
        if (dims == 0) {
            return jvmName;
        }
        String base = switch (jvmName.charAt(dims)) {
            case 'Z' -> "boolean";
            case 'B' -> "byte";
            case 'C' -> "char";
            case 'S' -> "short";
            case 'I' -> "int";
            case 'J' -> "long";
            case 'F' -> "float";
            case 'D' -> "double";
            default -> jvmName.substring(dims + 1, jvmName.length() - 1);
        };
        return base + "[]".repeat(dims);
    }

    /** {@code jcmd PID Compiler.codelist}: one line per compiled method, "id tier state name(signature) ...". */
    private static String codeList() {
        try {
            return jcmd("compilerCodelist");
        } catch (JMException e) {
            return "";
        }
    }

    /**
     * A diagnostic command of this JVM without arguments, as {@code jcmd PID} runs it, by its MBean operation name
     * ({@code compilerQueue} for {@code Compiler.queue}, {@code compilerCodelist} for {@code Compiler.codelist}).
     */
    static String jcmd(String operation) throws JMException {
        return ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                operation, new Object[] {null}, new String[] {String[].class.getName()}).toString();
    }
}
