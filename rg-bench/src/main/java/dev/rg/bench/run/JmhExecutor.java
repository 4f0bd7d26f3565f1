package dev.rg.bench.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs plans through JMH's Java API, one {@link Runner} per plan, and writes all results as one file in JMH's
 * own JSON format. A benchmark that throws is logged by JMH and has no result; it is reported here as a failure
 * and the run goes on, so one broken kernel does not hide the others.
 */
final class JmhExecutor {
    /**
     * @param results  every result, in plan order
     * @param failures one line per parameter combination that produced no result
     */
    public record Outcome(List<RunResult> results, List<String> failures) {}

    private final Profile profile;
    private final List<String> jvmArgs;
    private final PrintStream jmhOut;
    private final String jmhOutName;
    private final PrintStream log;

    /**
     * @param profile  iterations, times and forks
     * @param jvmArgs  the forks' JVM flags (replacing JMH's default of inheriting the runner's)
     * @param jmhOut   where JMH's own output (iterations, tables, stack traces of failures) goes
     * @param jmhOutName how failures refer to it ("the log above", a file name)
     * @param log      where progress lines go
     */
    JmhExecutor(Profile profile, List<String> jvmArgs, PrintStream jmhOut, String jmhOutName, PrintStream log) {
        this.profile = profile;
        this.jvmArgs = List.copyOf(jvmArgs);
        this.jmhOut = jmhOut;
        this.jmhOutName = jmhOutName;
        this.log = log;
    }

    /** Runs every plan. */
    public Outcome run(List<Plan> plans) {
        List<RunResult> results = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        int i = 0;
        for (Plan plan : plans) {
            i++;
            log.printf("== [%d/%d] %s on %s: %d combination(s) %s%n", i, plans.size(), plan.benchmark(), plan.backend(),
                    plan.combinations().size(), plan.params());
            log.flush();
            Collection<RunResult> got;
            try {
                // one output for every plan: a --quiet run keeps JMH's output, stack traces included, in a file
                got = new Runner(options(plan).build(), OutputFormatFactory.createFormatInstance(jmhOut, VerboseMode.NORMAL)).run();
            } catch (RunnerException | RuntimeException e) {
                failures.add(plan + ": " + e);
                continue;
            }
            results.addAll(got);
            for (Map<String, String> combo : plan.combinations()) {
                if (got.stream().noneMatch(r -> matches(r, combo))) {
                    failures.add(plan.backend() + " " + plan.benchmark() + " " + combo + ": no result (its error is in " + jmhOutName + ")");
                }
            }
        }
        return new Outcome(results, failures);
    }

    private ChainedOptionsBuilder options(Plan plan) {
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(plan.include())
                .forks(profile.forks())
                .warmupIterations(profile.warmupIterations())
                .warmupTime(TimeValue.milliseconds(profile.warmupMillis()))
                .measurementIterations(profile.iterations())
                .measurementTime(TimeValue.milliseconds(profile.iterationMillis()))
                .threads(1)
                .shouldFailOnError(false)
                .jvmArgs(jvmArgs.toArray(String[]::new));
        plan.params().forEach((k, v) -> o.param(k, v.toArray(String[]::new)));
        return o;
    }

    private static boolean matches(RunResult r, Map<String, String> combo) {
        for (Map.Entry<String, String> e : combo.entrySet()) {
            if (!e.getValue().equals(r.getParams().getParam(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Writes results in JMH's JSON format (what {@code -rf json} writes). */
    public static void writeJson(Collection<RunResult> results, Path file) throws IOException {
        dev.rg.core.io.AtomicFiles.write(file, tmp -> { // whole or not at all
            try (PrintStream out = new PrintStream(Files.newOutputStream(tmp), false, StandardCharsets.UTF_8)) {
                ResultFormatFactory.getInstance(ResultFormatType.JSON, out).writeOut(results);
                if (out.checkError()) {
                    throw new IOException("write error");
                }
            }
        });
    }
}
