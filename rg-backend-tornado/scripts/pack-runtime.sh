#!/usr/bin/env bash
# Packs rg with the TornadoVM backend for a bare x86-64 Linux machine with only a GPU driver (no JDK, no Maven, no
# SDK), as two archives that unpack into the same folder:
#   rg-tornado-runtime.tar.xz  a jlink'd Java 25 runtime with the JDK modules rg and TornadoVM need (JVMCI, the JDK's
#                              Graal compiler module, java.desktop for the PTX driver), the TornadoVM SDK trimmed to
#                              the runtime's jars (no examples, benchmarks or unit tests), its native drivers and
#                              export lists, and rg's module-path jars: enough for `rg bench --preset 2b`;
#   rg-tornado-data.tar.xz     the embedded model (`rg generate`) and the shared fixtures (`rg check`): copy it too
#                              when the conformance kit is to run (it changes rarely; the runtime with every rebuild).
# Usage:
#   rg-backend-tornado/scripts/pack-runtime.sh [SDK_DIR] [OUT_DIR] [SHARED_DIR]
#   (defaults: $TORNADOVM_HOME, else /opt/tornadovm-sdk-ptx; .device; ../shared)
# Unpack both anywhere (same folder) and run rg-tornado-runtime/bin/rg (the SDK should be built with the OpenCL and
# PTX backends, see rg-backend-tornado/README.md; without an NVIDIA driver the launcher leaves the PTX driver out).
set -euo pipefail
RG_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SDK="${1:-${TORNADOVM_HOME:-/opt/tornadovm-sdk-ptx}}"
OUT="${2:-$RG_HOME/.device}"
SHARED="${3:-$RG_HOME/../shared}"
JDK="$("$RG_HOME/scripts/find-jdk.sh")"
[ -f "$SDK/etc/tornado.backend" ] || { echo "pack-runtime: $SDK is not a TornadoVM SDK (no etc/tornado.backend)" >&2; exit 1; }
cd "$RG_HOME"
export TORNADOVM_HOME="$SDK"
JAVA_HOME="$JDK" mvn -q -B -o -DskipTests package >/dev/null 2>&1 || JAVA_HOME="$JDK" mvn -q -B -DskipTests package
touch rg-cli/target/.built

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
R="$STAGE/rg-tornado-runtime"
T="$R/tornado"
mkdir -p "$R/bin" "$R/lib" "$T/share/java/tornado" "$T/etc" "$T/lib"
# uncompressed (zip-0): xz packs the plain modules image far smaller than a zip-compressed one.
# rg's JDK modules, plus what TornadoVM's modules require: JVMCI (the Graal compiler comes from the SDK's
# graalJars at run time: the JDK's own is not packed), java.desktop (tornado.drivers.ptx requires it)
"$JDK/bin/jlink" --add-modules java.base,java.logging,java.management,java.naming,java.net.http,java.sql,jdk.management,jdk.incubator.vector,jdk.unsupported,jdk.internal.vm.ci,java.desktop \
    --strip-debug --no-header-files --no-man-pages --compress=zip-0 --output "$R/jre"
cp rg-cli/target/rg-cli-*.jar "$R/lib/"
cp rg-cli/target/lib/*.jar "$R/lib/"
cp rg-backend-tornado/target/rg-backend-tornado-*.jar "$R/lib/" 2>/dev/null || true
rm -f "$R"/lib/*-sources.jar "$R"/lib/*-javadoc.jar "$R"/lib/*-tests.jar
# the SDK's runtime modules and what they require (see `jar --describe-module`): no examples, benchmarks, unit tests,
# fuzzers, matrices or the cuBLAS/cuDNN/... bindings (nothing the runtime or the drivers require)
for j in tornado-api tornado-runtime tornado-annotation tornado-drivers-common tornado-drivers-opencl \
         tornado-drivers-opencl-jni tornado-drivers-ptx tornado-drivers-ptx-jni asm commons-math3 snmp4j collections word nativeimage; do
  cp "$SDK"/share/java/tornado/$j-[0-9]*.jar "$T/share/java/tornado/" 2>/dev/null || true
done
# the Graal compiler and what it requires; not truffle-api (14 MB: no module rg or TornadoVM resolves requires it)
mkdir -p "$T/share/java/graalJars"
find "$SDK/share/java/graalJars" -name '*.jar' ! -name 'truffle-api-*' -exec cp {} "$T/share/java/graalJars/" \;
cp -r "$SDK/etc/exportLists" "$T/etc/"
cp "$SDK/etc/tornado.backend" "$SDK/etc/tornado.properties" "$T/etc/" 2>/dev/null || cp "$SDK/etc/tornado.backend" "$T/etc/"
cp "$SDK"/lib/libtornado-*.so "$T/lib/"
cp scripts/tornado-opts.sh "$R/bin/"
# the data goes in a second archive under the same top folder
DATA="$STAGE/data/rg-tornado-runtime"
mkdir -p "$DATA"
cp -r models "$DATA/models"
if [ -d "$SHARED/fixtures" ]; then
  mkdir -p "$DATA/shared"
  cp -r "$SHARED/fixtures" "$DATA/shared/fixtures"
fi
cat > "$R/bin/rg" <<'LAUNCH'
#!/usr/bin/env bash
# rg with the TornadoVM backend from the packed runtime: the same JVM flags as the repository's ./rg launcher.
set -euo pipefail
R="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE_PATH="$R/lib"
TORNADOVM_HOME="$R/tornado"
. "$R/bin/tornado-opts.sh"
MAIN=dev.rg.cli/dev.rg.cli.Main
# `rg tornado-devices`: TornadoVM's devices with the B:D that -Drg.tornado.device=B:D takes
if [ "${1:-}" = tornado-devices ]; then MAIN=dev.rg.backend.tornado/dev.rg.backend.tornado.TornadoDevices; shift; fi
exec "$R/jre/bin/java" ${RG_JAVA_OPTS:-} "${TORNADO_OPTS[@]}" -XX:+UseParallelGC -Xss8m --add-modules jdk.incubator.vector \
  --enable-native-access=dev.rg.backend.cuda,dev.rg.core -Drg.home="$R" \
  --module-path "$MODULE_PATH" --add-modules ALL-MODULE-PATH -m "$MAIN" "$@"
LAUNCH
chmod +x "$R/bin/rg"
"$R/bin/rg" backends 2>&1 | grep -q '^tornado  *available' || { "$R/bin/rg" backends >&2 || true;
  echo "pack-runtime: the packed rg does not list tornado as available" >&2; exit 1; }
mkdir -p "$OUT"
# xz -9e: the jars and the JRE's modules image are already compressed, the SDK's native libraries and the model
# are not
XZ_OPT=-9e tar -C "$STAGE" -cJf "$OUT/rg-tornado-runtime.tar.xz.tmp" rg-tornado-runtime
XZ_OPT=-9e tar -C "$STAGE/data" -cJf "$OUT/rg-tornado-data.tar.xz.tmp" rg-tornado-runtime
mv "$OUT/rg-tornado-runtime.tar.xz.tmp" "$OUT/rg-tornado-runtime.tar.xz"
mv "$OUT/rg-tornado-data.tar.xz.tmp" "$OUT/rg-tornado-data.tar.xz"
echo "wrote $OUT/rg-tornado-runtime.tar.xz ($(du -h "$OUT/rg-tornado-runtime.tar.xz" | cut -f1)) and" \
  "$OUT/rg-tornado-data.tar.xz ($(du -h "$OUT/rg-tornado-data.tar.xz" | cut -f1))"
