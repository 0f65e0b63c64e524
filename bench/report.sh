#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Turns the output of the bench programs into a report people read:
#   OUTDIR/report.md   the table (every figure: agent and peer min/median/max, the ratio)
#   OUTDIR/report.svg  one chart: a bar per figure of its ratio to the peer on a log scale,
#                      the 1.0 line marked, whiskers from the best to the worst case
# Input lines it reads (any other line is ignored):
#   FIGURE<TAB>name<TAB>unit<TAB>lower|higher<TAB>peer<TAB>a-min<TAB>a-med<TAB>a-max<TAB>p-min<TAB>p-med<TAB>p-max
#   NOTE<TAB>text                 (a remark for the report: conditions, skipped peers, ...)
#   DETAIL<TAB>title<TAB>text      (a line of a titled section, e.g. the size by subsystem)
#   RUN<TAB>key<TAB>value         (date, host, cpu, load-start, load-end, agent, agent-size)
# Usage: bench/report.sh LOG OUTDIR
set -euo pipefail
log=${1:?usage: report.sh LOG OUTDIR}
out=${2:?usage: report.sh LOG OUTDIR}
mkdir -p "$out"

awk -F'\t' -v md="$out/report.md" -v svg="$out/report.svg" '
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function num(s) { return s ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
function fmt(v) {
	if (v >= 100000) return sprintf("%.0f", v)
	if (v >= 100) return sprintf("%.0f", v)
	if (v >= 10) return sprintf("%.1f", v)
	return sprintf("%.2f", v)
}
function log10(v) { return log(v) / log(10) }
function floor(v) { return (v == int(v) || v > 0) ? int(v) : int(v) - 1 }
function ceil(v) { return (v == int(v) || v < 0) ? int(v) : int(v) + 1 }
function xpos(v) { return x0 + (log10(v) - llo) / (lhi - llo) * (x1 - x0) }
$1 == "RUN" { run[$2] = $3; next }
$1 == "NOTE" { notes[++nn] = $2; next }
$1 == "DETAIL" && NF >= 3 {
	if (!($2 in dsec)) { dsec[$2] = ++nd; dtitle[nd] = $2 }
	k = dsec[$2]; dline[k, ++dn[k]] = $3
	next
}
$1 == "FIGURE" && NF >= 11 {
	n++
	name[n] = $2; unit[n] = $3; better[n] = $4; peer[n] = $5
	amin[n] = $6; amed[n] = $7; amax[n] = $8; pmin[n] = $9; pmed[n] = $10; pmax[n] = $11
	haspeer[n] = num($9) && num($10) && num($11) && $9 > 0 && $10 > 0 && $11 > 0 && $6 > 0 && $7 > 0 && $8 > 0
	if (haspeer[n]) {
		if (better[n] == "higher") {
			r[n] = pmed[n] / amed[n]; rlo[n] = pmin[n] / amax[n]; rhi[n] = pmax[n] / amin[n]
		} else {
			r[n] = amed[n] / pmed[n]; rlo[n] = amin[n] / pmax[n]; rhi[n] = amax[n] / pmin[n]
		}
		nc++
	}
	next
}
END {
	# ---- the table ----
	print "# Benchmark report" > md
	print "" > md
	printf "Run of %s on %s (%s, %s CPUs). Load average (1/5/15 min) at the start: %s; at the end: %s.\n", \
		run["date"] ? run["date"] : "?", run["host"] ? run["host"] : "?", run["cpu"] ? run["cpu"] : "?", \
		run["cpus"] ? run["cpus"] : "?", run["load-start"] ? run["load-start"] : "?", \
		run["load-end"] ? run["load-end"] : "?" > md
	if (run["agent"] != "")
		printf "Agent: `%s`, %s bytes.\n", run["agent"], run["agent-size"] > md
	print "" > md
	print "Every figure is min / median / max over its rounds; the agent and its peer run alternately," > md
	print "never in blocks. The ratio is agent ÷ peer of the medians; *agent better* says whether that" > md
	print "ratio is on the good side of 1.0 for the figure'"'"'s direction. The chart (report.svg) shows the" > md
	print "same ratios, inverted for higher-is-better figures so that left of 1.0 is always the agent ahead." > md
	print "" > md
	print "| Figure | Unit | Better | Agent min / median / max | Peer | Peer min / median / max | Agent ÷ peer (medians) | Agent better |" > md
	print "|---|---|---|---|---|---|---|---|" > md
	for (i = 1; i <= n; i++) {
		a = fmt(amin[i]) " / **" fmt(amed[i]) "** / " fmt(amax[i])
		if (haspeer[i]) {
			p = fmt(pmin[i]) " / **" fmt(pmed[i]) "** / " fmt(pmax[i])
			q = amed[i] / pmed[i]
			good = (better[i] == "higher") ? (q > 1) : (q < 1)
			printf "| %s | %s | %s | %s | %s | %s | %.3fx | %s |\n", name[i], unit[i], better[i], a, peer[i], p, q, good ? "yes" : "no" > md
		} else {
			printf "| %s | %s | %s | %s | %s | — | — | no peer |\n", name[i], unit[i], better[i], a, (peer[i] == "-" ? "none" : peer[i]) > md
		}
	}
	if (nn > 0) {
		print "" > md
		print "## Notes" > md
		print "" > md
		for (i = 1; i <= nn; i++)
			print "- " notes[i] > md
	}
	for (k = 1; k <= nd; k++) {
		print "" > md
		print "## " dtitle[k] > md
		print "" > md
		for (j = 1; j <= dn[k]; j++)
			print "- " dline[k, j] > md
	}
	print "" > md
	print "![agent ÷ peer, one bar per figure](report.svg)" > md

	# ---- the chart ----
	W = 1000; x0 = 330; x1 = W - 150; rowh = 34; top = 124
	H = top + (nc > 0 ? nc : 1) * rowh + 76
	lo = 1; hi = 1
	for (i = 1; i <= n; i++) if (haspeer[i]) {
		if (rlo[i] < lo) lo = rlo[i]
		if (rhi[i] > hi) hi = rhi[i]
	}
	llo = floor(log10(lo / 1.05)); lhi = ceil(log10(hi * 1.05))
	if (llo > -1) llo = -1
	if (lhi < 1) lhi = 1
	printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" > svg
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"13\">\n", W, H, W, H > svg
	printf "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H > svg
	printf "<text x=\"16\" y=\"26\" font-size=\"17\" font-weight=\"bold\">kata-agent against its peers</text>\n" > svg
	printf "<text x=\"16\" y=\"46\" fill=\"#444\">%s; load average %s at the start, %s at the end.</text>\n", esc(run["date"] ? run["date"] : "?"), esc(run["load-start"] ? run["load-start"] : "?"), esc(run["load-end"] ? run["load-end"] : "?") > svg
	printf "<text x=\"16\" y=\"64\" fill=\"#444\">Bar: agent ÷ peer of the medians (peer ÷ agent where higher is better, marked ↑): left of 1.0 = agent better.</text>\n" > svg
	printf "<text x=\"16\" y=\"82\" fill=\"#444\">Whiskers: best to worst case (from min and max of both). Log scale. Labels: agent ÷ peer, as in the table.</text>\n" > svg
	# grid and ticks: 1, 2, 5 x 10^k
	yb = top + (nc > 0 ? nc : 1) * rowh
	for (k = llo; k <= lhi; k++) for (m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
		v = m * 10 ^ k
		if (log10(v) < llo - 1e-9 || log10(v) > lhi + 1e-9) continue
		x = xpos(v)
		printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e3e3e3\"/>\n", x, top - 6, x, yb > svg
		printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\" font-size=\"11\">%g×</text>\n", x, yb + 16, v > svg
	}
	printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">ratio to the peer (log scale)</text>\n", (x0 + x1) / 2, yb + 36 > svg
	row = 0
	for (i = 1; i <= n; i++) if (haspeer[i]) {
		y = top + row * rowh; cy = y + rowh / 2; row++
		agood = r[i] < 1
		col = agood ? "#2e7d32" : "#c62828"
		xa = xpos(1); xb = xpos(r[i])
		xl = xa < xb ? xa : xb; bw = (xa < xb ? xb - xa : xa - xb); if (bw < 1) bw = 1
		label = name[i] (better[i] == "higher" ? " ↑" : "") " (" unit[i] ")"
		printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" dominant-baseline=\"middle\">%s</text>\n", x0 - 10, cy + 1, esc(label) > svg
		printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.8\"/>\n", xl, y + 7, bw, rowh - 14, col > svg
		wl = xpos(rlo[i]); wh = xpos(rhi[i])
		printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"1.5\"/>\n", wl, cy, wh, cy > svg
		printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"1.5\"/>\n", wl, cy - 6, wl, cy + 6 > svg
		printf "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"1.5\"/>\n", wh, cy - 6, wh, cy + 6 > svg
		tx = wh > xa ? wh : xa
		if (xb > tx) tx = xb
		printf "<text x=\"%.1f\" y=\"%.1f\" dominant-baseline=\"middle\" font-size=\"12\" fill=\"%s\">%.2f× %s</text>\n", tx + 8, cy + 1, col, amed[i] / pmed[i], esc(peer[i]) > svg
	}
	nop = ""
	for (i = 1; i <= n; i++) if (!haspeer[i]) nop = nop (nop == "" ? "" : ", ") name[i]
	if (nop != "")
		printf "<text x=\"16\" y=\"%d\" fill=\"#444\">Without a peer (in the table only): %s.</text>\n", yb + 58, esc(nop) > svg
	if (nc == 0)
		printf "<text x=\"%d\" y=\"%d\">no figure with a peer in this run</text>\n", x0, top + 20 > svg
	x = xpos(1)
	printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\" stroke-width=\"2\" stroke-dasharray=\"6,3\"/>\n", x, top - 10, x, yb + 4 > svg
	printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-weight=\"bold\">1.0 = same as the peer</text>\n", x, top - 14 > svg
	print "</svg>" > svg
	printf "%d figures (%d with a peer), %d notes\n", n, nc, nn
}
' "$log"
echo "report: $out/report.md"
echo "chart:  $out/report.svg"
