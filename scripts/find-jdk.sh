#!/usr/bin/env bash
# Prints the path of a JDK >= 25 (rg needs the FFM API and the Vector API of JDK 25):
# $JAVA_HOME if it is one, else the newest JDK >= 25 under /usr/lib/jvm (where Debian and Temurin packages go),
# else /opt and ~/.sdkman. Exits 1 with a clear message when there is none.
set -u
java_major() { # $1 = JDK home
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1)
  echo "${v%%.*}"
}
candidates=()
[ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
for d in /usr/lib/jvm/* /opt/*jdk* /opt/java/* "$HOME"/.sdkman/candidates/java/*; do
  [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] && candidates+=("$d")
done
best=""; best_v=0
for d in "${candidates[@]}"; do
  [ -x "$d/bin/java" ] || continue
  v=$(java_major "$d")
  case "$v" in ''|*[!0-9]*) continue;; esac
  if [ "$v" -ge 25 ] && [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  # prefer $JAVA_HOME when it qualifies
  if [ "$d" = "${JAVA_HOME:-}" ] && [ "$v" -ge 25 ]; then best="$d"; break; fi
done
if [ -z "$best" ]; then
  echo "rg: no JDK 25 or newer found (checked \$JAVA_HOME and /usr/lib/jvm). Install one, e.g. Temurin 25" >&2
  echo "    (apt: temurin-25-jdk from Adoptium's repository), or set JAVA_HOME to it. 'java' on PATH is: $(command -v java || echo none)" >&2
  exit 1
fi
echo "$best"
