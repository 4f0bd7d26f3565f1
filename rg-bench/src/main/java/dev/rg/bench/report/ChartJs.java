package dev.rg.bench.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * Chart.js, read from its WebJar on the class path so the HTML report can inline it: the page works offline,
 * from a file, an e-mail attachment or a CI artifact, with no CDN.
 */
public final class ChartJs {
    private static final Pattern SOURCE_MAP = Pattern.compile("(?m)^//# sourceMappingURL=.*$");
    private static final Pattern SCRIPT_END = Pattern.compile("(?i)</script");

    private ChartJs() {}

    /** The Chart.js version packaged with rg-bench. */
    public static String version() {
        try (InputStream in = resource("rg-bench.properties")) {
            if (in == null) {
                throw new IllegalStateException("rg-bench.properties missing from the class path");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("chartjs.version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Through the class loader: these paths are in no package, so the lookup works on the class path and, from the
     * named module, in the WebJar's automatic module too ({@code Class.getResourceAsStream} would search this
     * module only).
     */
    private static InputStream resource(String path) {
        return ChartJs.class.getClassLoader().getResourceAsStream(path);
    }

    /** The minified UMD build, made safe to put inside a {@code <script>} element. */
    public static String source() {
        String path = "META-INF/resources/webjars/chart.js/" + version() + "/dist/chart.umd.min.js";
        try (InputStream in = resource(path)) {
            if (in == null) {
                throw new IllegalStateException("Chart.js not found on the class path at " + path);
            }
            String js = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            // the map is not shipped; "</script" would end the element early (none today, but cheap to guard)
            js = SOURCE_MAP.matcher(js).replaceAll("");
            return SCRIPT_END.matcher(js).replaceAll("<\\\\/script");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
