#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench-report-check: the report and the chart are built from a fixed sample of FIGURE
# lines (bench/sample-figures.tsv), and the chart must render: rsvg-convert turns it into a
# PNG of the size the chart declares, with something drawn on it. Cheap enough for CI.
# Usage: bench/report-check.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build}/bench/report-check
rm -rf "$out"
mkdir -p "$out"
bench/report.sh bench/sample-figures.tsv "$out" >/dev/null
fail() {
	echo "bench-report-check: $*" >&2
	exit 1
}
command -v rsvg-convert >/dev/null || fail "rsvg-convert is missing (make deps installs librsvg2-bin)"
rsvg-convert -o "$out/report.png" "$out/report.svg" || fail "rsvg-convert cannot render $out/report.svg"
# PNG: 8-byte signature, then the IHDR chunk: width and height, 4 bytes each, big-endian.
sig=$(od -An -tx1 -N8 "$out/report.png" | tr -d ' \n')
[ "$sig" = 89504e470d0a1a0a ] || fail "$out/report.png is not a PNG"
w=$((16#$(od -An -tx1 -j16 -N4 "$out/report.png" | tr -d ' \n')))
h=$((16#$(od -An -tx1 -j20 -N4 "$out/report.png" | tr -d ' \n')))
want_w=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)".*/\1/p' "$out/report.svg")
want_h=$(sed -n 's/.*<svg[^>]* height="\([0-9]*\)".*/\1/p' "$out/report.svg")
[ "$w" = "$want_w" ] && [ "$h" = "$want_h" ] || fail "PNG is ${w}x${h}, the SVG says ${want_w}x${want_h}"
# Six figures with a peer: six bars; a blank image compresses to almost nothing.
bars=$(grep -c '<rect .*fill-opacity' "$out/report.svg")
[ "$bars" -eq 6 ] || fail "the chart has $bars bars, the sample has 6 figures with a peer"
size=$(stat -c %s "$out/report.png")
[ "$size" -gt 8000 ] || fail "the PNG is only $size bytes: nothing drawn?"
rows=$(($(grep -c '^| ' "$out/report.md") - 1))
[ "$rows" -eq 7 ] || fail "report.md has $rows figure rows, the sample has 7"
echo "bench-report-check: report.md has $rows rows, report.svg renders to a ${w}x${h} PNG ($size bytes) with $bars bars"
