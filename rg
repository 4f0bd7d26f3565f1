#!/usr/bin/env bash
# The rg launcher: finds JDK 25, builds the project on first use (or when sources changed), and runs the CLI
# with every module on the module path.
set -euo pipefail
RG_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JDK="$("$RG_HOME/scripts/find-jdk.sh")"
LIB="$RG_HOME/rg-cli/target/lib"
STAMP="$RG_HOME/rg-cli/target/.built"

needs_build() {
  [ -f "$STAMP" ] || return 0
  [ -n "$(find "$RG_HOME" -path "$RG_HOME/models" -prune -o -path '*/target' -prune -o \
      \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$STAMP" -print -quit)" ]
}

if needs_build; then
  command -v mvn >/dev/null || { echo "rg: Maven is needed to build rg on first use (apt-get install maven)" >&2; exit 1; }
  echo "rg: building (first run or sources changed; this takes a minute)..." >&2
  (cd "$RG_HOME" && JAVA_HOME="$JDK" mvn -q -B -o -DskipTests package >/tmp/rg-build.$$.log 2>&1 \
    || (cd "$RG_HOME" && JAVA_HOME="$JDK" mvn -q -B -DskipTests package >/tmp/rg-build.$$.log 2>&1)) \
    || { echo "rg: build failed; log: /tmp/rg-build.$$.log" >&2; tail -n 30 /tmp/rg-build.$$.log >&2; exit 1; }
  rm -f /tmp/rg-build.$$.log
  touch "$STAMP"
fi

MODULE_PATH="$(ls "$RG_HOME"/rg-cli/target/rg-cli-*.jar | grep -v -- '-sources\|-javadoc' | head -n1):$LIB"

# TornadoVM (optional): with TORNADOVM_HOME set, add its modules and the JVM flags its runtime needs.
TORNADO_OPTS=()
if [ -n "${TORNADOVM_HOME:-}" ]; then
  TORNADO_JAR="$(ls "$RG_HOME"/rg-backend-tornado/target/rg-backend-tornado-*.jar 2>/dev/null | grep -v -- '-sources\|-javadoc\|-tests' | head -n1 || true)"
  if [ -n "$TORNADO_JAR" ] && ! ls "$LIB"/rg-backend-tornado-*.jar >/dev/null 2>&1; then MODULE_PATH="$MODULE_PATH:$TORNADO_JAR"; fi
  # shellcheck source=scripts/tornado-opts.sh
  . "$RG_HOME/scripts/tornado-opts.sh"
fi
# shellcheck disable=SC2086
exec "$JDK/bin/java" ${RG_JAVA_OPTS:-} ${TORNADO_OPTS[@]+"${TORNADO_OPTS[@]}"} \
  -XX:+UseParallelGC -Xss8m \
  --add-modules jdk.incubator.vector \
  --enable-native-access=dev.rg.backend.cuda \
  -Drg.home="$RG_HOME" \
  --module-path "$MODULE_PATH" --add-modules ALL-MODULE-PATH \
  -m dev.rg.cli/dev.rg.cli.Main "$@"
