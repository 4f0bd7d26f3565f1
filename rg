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
  if [ ! -d "$TORNADOVM_HOME/share/java/tornado" ] || [ ! -f "$TORNADOVM_HOME/etc/exportLists/common-exports" ]; then
    echo "rg: TORNADOVM_HOME=$TORNADOVM_HOME is not a TornadoVM SDK (no share/java/tornado or etc/exportLists)" >&2; exit 1
  fi
  TORNADO_JAR="$(ls "$RG_HOME"/rg-backend-tornado/target/rg-backend-tornado-*.jar 2>/dev/null | grep -v -- '-sources\|-javadoc\|-tests' | head -n1 || true)"
  if [ -n "$TORNADO_JAR" ] && ! ls "$LIB"/rg-backend-tornado-*.jar >/dev/null 2>&1; then MODULE_PATH="$MODULE_PATH:$TORNADO_JAR"; fi
  TORNADO_BACKENDS="$(sed -n 's/^tornado.backends=//p' "$TORNADOVM_HOME/etc/tornado.backend" 2>/dev/null || true)"
  # TornadoVM loads every driver module it can see and aborts when one's native library cannot load: the PTX driver
  # needs the NVIDIA driver's libcuda.so.1, so without it the PTX jars stay off the module path
  case ",${TORNADO_BACKENDS:-}," in *,ptx-backend,*)
    HAVE_CUDA=""
    ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1' && HAVE_CUDA=1
    IFS=: read -r -a LDP <<< "${LD_LIBRARY_PATH:-}"
    for d in ${LDP[@]+"${LDP[@]}"}; do [ -n "$d" ] && [ -e "$d/libcuda.so.1" ] && HAVE_CUDA=1; done
    if [ -z "$HAVE_CUDA" ]; then
      echo "rg: TornadoVM's PTX backend skipped: no NVIDIA driver (libcuda.so.1)" >&2
      TORNADO_BACKENDS="$(echo ",$TORNADO_BACKENDS," | sed 's/,ptx-backend,/,/; s/^,//; s/,$//')"
    fi ;; esac
  for j in "$TORNADOVM_HOME"/share/java/tornado/*.jar; do
    case "$(basename "$j")" in tornado-drivers-ptx*) case ",${TORNADO_BACKENDS:-}," in *,ptx-backend,*) ;; *) continue ;; esac ;; esac
    MODULE_PATH="$MODULE_PATH:$j"
  done
  TORNADO_MODULES="ALL-SYSTEM,tornado.runtime,tornado.annotation,tornado.drivers.common"
  TORNADO_OPTS=(-XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI --enable-preview "-Djava.library.path=$TORNADOVM_HOME/lib"
    -Dtornado.load.api.implementation=uk.ac.manchester.tornado.runtime.tasks.TornadoTaskGraph
    -Dtornado.load.runtime.implementation=uk.ac.manchester.tornado.runtime.TornadoCoreRuntime
    -Dtornado.load.tornado.implementation=uk.ac.manchester.tornado.runtime.common.Tornado
    -Dtornado.load.annotation.implementation=uk.ac.manchester.tornado.annotation.ASMClassVisitor
    -Dtornado.load.annotation.parallel=uk.ac.manchester.tornado.api.annotations.Parallel
    -Dtornado.recover.bailout=false --upgrade-module-path "$TORNADOVM_HOME/share/java/graalJars"
    "@$TORNADOVM_HOME/etc/exportLists/common-exports")
  case ",${TORNADO_BACKENDS:-opencl-backend}," in *,opencl-backend,*) TORNADO_MODULES="$TORNADO_MODULES,tornado.drivers.opencl"
    TORNADO_OPTS+=("@$TORNADOVM_HOME/etc/exportLists/opencl-exports" --enable-native-access=tornado.drivers.opencl) ;; esac
  case ",${TORNADO_BACKENDS:-}," in *,ptx-backend,*) TORNADO_MODULES="$TORNADO_MODULES,tornado.drivers.ptx"
    TORNADO_OPTS+=("@$TORNADOVM_HOME/etc/exportLists/ptx-exports" --enable-native-access=tornado.drivers.ptx) ;; esac
  TORNADO_OPTS+=(--add-modules "$TORNADO_MODULES")
fi
# shellcheck disable=SC2086
exec "$JDK/bin/java" ${RG_JAVA_OPTS:-} ${TORNADO_OPTS[@]+"${TORNADO_OPTS[@]}"} \
  -XX:+UseParallelGC -Xss8m \
  --add-modules jdk.incubator.vector \
  --enable-native-access=dev.rg.backend.cuda \
  -Drg.home="$RG_HOME" \
  --module-path "$MODULE_PATH" --add-modules ALL-MODULE-PATH \
  -m dev.rg.cli/dev.rg.cli.Main "$@"
