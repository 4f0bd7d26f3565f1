#!/usr/bin/env bash
# Runs rg-spark's Parquet -> Parquet example (dev.rg.spark.SparkExample) in a local Spark on JDK 25, with the
# JVM options Spark's own launcher adds for Java 17+ plus what rg needs (Vector API, native access).
# Builds rg-spark on first use. Spark's jars stay in the local Maven repository (see target/classpath.txt):
# they are not copied into rg-cli/target/lib, so the rg CLI does not carry Spark.
#   rg-spark/run-example.sh --model models/austen-6m --make-input-from models/austen-6m/heldout.txt \
#       --input /tmp/prompts.parquet --output /tmp/completions.parquet --max-tokens 16
set -euo pipefail
RG_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JDK="$("$RG_HOME/scripts/find-jdk.sh")"
CP_FILE="$RG_HOME/rg-spark/target/classpath.txt"
STAMP="$RG_HOME/rg-spark/target/.built"
if [ ! -f "$STAMP" ] || [ ! -f "$CP_FILE" ] || [ -n "$(find "$RG_HOME" -path "$RG_HOME/models" -prune -o -path '*/target' -prune -o \( -name '*.java' -o -name pom.xml \) -newer "$STAMP" -print -quit)" ]; then
  echo "rg-spark: building (first run or sources changed)..." >&2
  (cd "$RG_HOME" && JAVA_HOME="$JDK" mvn -q -B -o -DskipTests package -pl rg-spark -am >/tmp/rg-spark-build.$$.log 2>&1 \
    || (cd "$RG_HOME" && JAVA_HOME="$JDK" mvn -q -B -DskipTests package -pl rg-spark -am >/tmp/rg-spark-build.$$.log 2>&1)) \
    || { echo "rg-spark: build failed; log: /tmp/rg-spark-build.$$.log" >&2; tail -n 30 /tmp/rg-spark-build.$$.log >&2; exit 1; }
  rm -f /tmp/rg-spark-build.$$.log
  touch "$STAMP"
fi
JAR="$(ls "$RG_HOME"/rg-spark/target/rg-spark-*.jar | grep -v -- '-sources\|-javadoc\|-tests' | head -n1)"
SPARK_OPENS=()
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
         java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.util.calendar; do
  SPARK_OPENS+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
exec "$JDK/bin/java" ${RG_SPARK_JAVA_OPTS:-} "${SPARK_OPENS[@]}" -Djdk.reflect.useDirectMethodHandle=false \
  -Dio.netty.tryReflectionSetAccessible=true --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -Dlog4j2.level=warn -cp "$JAR:$(cat "$CP_FILE")" dev.rg.spark.SparkExample "$@"
