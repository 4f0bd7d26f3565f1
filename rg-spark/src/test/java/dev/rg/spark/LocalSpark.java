package dev.rg.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** One local Spark for all tests of this JVM: 2 task slots, and a failed task is retried (up to 3 attempts). */
final class LocalSpark {
    private static SparkSession spark;

    private LocalSpark() {}

    static synchronized SparkSession session() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2,3]").appName("rg-spark-test")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .getOrCreate();
        }
        return spark;
    }

    /** The embedded model (models/austen-6m), as set by the build. */
    static Path model() {
        Path p = Path.of(System.getProperty("rg.model", "../models/austen-6m")).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("embedded model not found at " + p + " (set -Drg.model)");
        }
        return p;
    }
}
