#!/usr/bin/env bash
# Packs rg into one archive that runs on a bare x86-64 Linux machine with no JDK and no Maven (a lent GPU machine,
# say): a jlink'd Java 25 runtime holding only the JDK modules rg uses, the module-path jars, a launcher, and
# optionally the shared fixtures for `rg check`. Usage:
#   scripts/pack-runtime.sh [OUT_DIR] [SHARED_DIR]     (defaults: .device and ../shared)
# writes OUT_DIR/rg-runtime.tar.xz (about 40 MB with the fixtures); unpack it anywhere and run rg-runtime/bin/rg.
set -euo pipefail
RG_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$RG_HOME/.device}"
SHARED="${2:-$RG_HOME/../shared}"
JDK="$("$RG_HOME/scripts/find-jdk.sh")"
cd "$RG_HOME"
JAVA_HOME="$JDK" mvn -q -B -o -DskipTests package >/dev/null 2>&1 || JAVA_HOME="$JDK" mvn -q -B -DskipTests package
touch rg-cli/target/.built

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
R="$STAGE/rg-runtime"
mkdir -p "$R/bin" "$R/lib"
# the JDK modules rg's jars need: a base set, plus every java.*/jdk.* module a modular jar on the module path requires
# (not the static ones: Jackson's java.desktop/java.sql are optional). Computed, because a fixed list went stale once:
# rg-server's java.net.http was missing, and the packed rg did not start.
MODULES="java.base,java.logging,java.management,jdk.management,jdk.incubator.vector,jdk.unsupported"
for j in rg-cli/target/rg-cli-*.jar rg-cli/target/lib/*.jar; do
  "$JDK/bin/jar" --describe-module --file "$j" 2>/dev/null | awk '$1 == "requires" && $2 ~ /^(java|jdk)\./ && $0 !~ / static/ {print $2}'
done | sort -u > "$STAGE/modules.txt"
MODULES="$(printf '%s\n' "${MODULES//,/$'\n'}" | cat - "$STAGE/modules.txt" | sort -u | paste -sd, -)"
echo "pack-runtime: JDK modules $MODULES"
"$JDK/bin/jlink" --add-modules "$MODULES" \
    --strip-debug --no-header-files --no-man-pages --compress=zip-6 --output "$R/jre"
cp rg-cli/target/rg-cli-*.jar "$R/lib/"
rm -f "$R"/lib/*-sources.jar "$R"/lib/*-javadoc.jar
cp rg-cli/target/lib/*.jar "$R/lib/"
cp -r models "$R/models"
if [ -d "$SHARED/fixtures" ]; then
  mkdir -p "$R/shared"
  cp -r "$SHARED/fixtures" "$R/shared/fixtures"
fi
cat > "$R/bin/rg" <<'LAUNCH'
#!/usr/bin/env bash
# rg from the packed runtime: the same JVM flags as the repository's ./rg launcher.
R="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$R/jre/bin/java" ${RG_JAVA_OPTS:-} -XX:+UseParallelGC -Xss8m --add-modules jdk.incubator.vector \
  --enable-native-access=dev.rg.backend.cuda,dev.rg.core -Drg.home="$R" \
  --module-path "$R/lib" --add-modules ALL-MODULE-PATH -m dev.rg.cli/dev.rg.cli.Main "$@"
LAUNCH
chmod +x "$R/bin/rg"
"$R/bin/rg" backends >/dev/null || { echo "pack-runtime: the packed rg does not start" >&2; exit 1; }
mkdir -p "$OUT"
tar -C "$STAGE" -cJf "$OUT/rg-runtime.tar.xz.tmp" rg-runtime
mv "$OUT/rg-runtime.tar.xz.tmp" "$OUT/rg-runtime.tar.xz"
echo "wrote $OUT/rg-runtime.tar.xz ($(du -h "$OUT/rg-runtime.tar.xz" | cut -f1))"
