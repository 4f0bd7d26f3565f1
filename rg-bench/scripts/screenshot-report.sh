#!/usr/bin/env bash
# Renders an rg-bench HTML report in headless Chromium, checks that every chart was drawn, and takes a
# screenshot.
#
#   rg-bench/scripts/screenshot-report.sh report.html [out.png]
#
# The page sets data-charts-total / data-charts-drawn on <body> (and appends "[charts drawn: N/M]" to its
# title) after checking each canvas for painted pixels; this script reads them from the DOM Chromium dumps after
# the page's scripts ran. Exit 0 when N = M > 0, 1 when a chart is missing, 2 when Chromium is not there.
# Chromium: Debian package "chromium" (apt-get install chromium). WINDOW=1400,6000 for a taller screenshot.
set -euo pipefail

html="${1:?usage: screenshot-report.sh REPORT.html [OUT.png]}"
png="${2:-${html%.html}.png}"
window="${WINDOW:-1400,2400}"
[ -f "$html" ] || { echo "screenshot-report: no such file: $html" >&2; exit 2; }

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
[ -n "$browser" ] || { echo "screenshot-report: Chromium not found (apt-get install chromium)" >&2; exit 2; }

url="file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
profile="$(mktemp -d)"
dom="$(mktemp)"
trap 'rm -rf "$profile" "$dom"' EXIT

# No network, no background services: the page must stand alone (everything is inlined).
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile")

# The launcher script of Debian's package prints a harmless shell warning on some machines: hide stderr noise.
"$browser" "${flags[@]}" --virtual-time-budget=10000 --dump-dom "$url" >"$dom" 2>/dev/null || true
"$browser" "${flags[@]}" --virtual-time-budget=10000 --window-size="$window" --screenshot="$png" "$url" >/dev/null 2>&1 || true

total="$(grep -o 'data-charts-total="[0-9]*"' "$dom" | head -n1 | grep -o '[0-9]*' || true)"
drawn="$(grep -o 'data-charts-drawn="[0-9]*"' "$dom" | head -n1 | grep -o '[0-9]*' || true)"
errors="$(grep -o 'data-chart-errors="[^"]*"' "$dom" | head -n1 || true)"
title="$(grep -o '<title>[^<]*</title>' "$dom" | head -n1 || true)"

[ -s "$png" ] && echo "screenshot: $png ($window)" || echo "screenshot-report: no screenshot written" >&2
echo "title: $title"
if [ -z "$total" ] || [ -z "$drawn" ]; then
  echo "screenshot-report: the page did not run (no chart counters in the DOM)" >&2
  exit 1
fi
echo "charts drawn: $drawn of $total"
[ -n "$errors" ] && echo "chart errors: $errors" >&2
if [ "$total" -gt 0 ] && [ "$drawn" = "$total" ] && [ -s "$png" ]; then
  exit 0
fi
exit 1
