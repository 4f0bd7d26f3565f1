#!/usr/bin/env bash
# Coverage-guided fuzzing of one parser with Jazzer (libFuzzer). ./test only replays the corpus under
# */src/test/resources/**/<Class>Inputs/<method>/; this runs the fuzzer itself for the @FuzzTest's maxDuration (10m;
# jazzer-junit 0.26 ignores a -Djazzer.max_duration override, so edit the annotation for longer runs).
# New inputs go to <module>/.cifuzz-corpus (ignored by git); a crash is written into the corpus directory as
# crash-<sha1> and is then replayed by every ./test run: rename it, fix the parser, commit both.
#   scripts/fuzz.sh header|shardIndex|config|sentencePieceModel|tokenizerJson|quantState
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?target: header shardIndex config sentencePieceModel tokenizerJson quantState}"
case "$target" in
  header|shardIndex) module=rg-core; test="SafetensorsFuzzTest#$target" ;;
  config) module=rg-core; test="ConfigFuzzTest#config" ;;
  sentencePieceModel|tokenizerJson) module=rg-core; test="TokenizerFuzzTest#$target" ;;
  quantState) module=rg-core,rg-quant; test="QuantStateFuzzTest#quantState" ;; # parsed by rg-core's JSON reader, checked by rg-quant
  *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
esac
export JAVA_HOME="${JAVA_HOME:-$(scripts/find-jdk.sh)}"
JAZZER_FUZZ=1 mvn -B -ntp -o verify -pl "rg-api,$module" -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
  "-DargLine=--enable-native-access=ALL-UNNAMED -Xmx2g -XX:+EnableDynamicAgentLoading -Djazzer.instrumentation_includes=dev.rg.**:com.fasterxml.jackson.**"
