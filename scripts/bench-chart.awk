# scripts/bench-chart.awk: draw the figures of scripts/run-bench.sh as one
# self-contained SVG file (no script, no external font or style sheet).
#
#   scripts/run-bench.sh | awk -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" \
#       -f scripts/bench-chart.awk >bench.svg
#
# Input: the "# machine: ..." line and the figure lines
#   NAME synack=X baseline=Y ratio=R UNIT
# anything else (notes, error messages) is ignored. Output, on stdout: one
# row per figure line, in groups of one job: a figure NAME and its lwIP
# twin lwip_NAME share the group NAME. Each row draws synack's advantage
# over the baseline on a log scale, as a bar from the 1x line: X/Y, or Y/X
# for a figure where lower is better (memory: bytes, KiB ...), so that a
# bar right of 1x always means synack ahead. Beside it, as text: the ratio
# line's own ratio, both values with the unit, the baseline's kind and
# the goal of issue 12 where there is one. A value that is not a positive
# number ("error", "-") gives a row that says so, without a bar.
#
# Variables (-v): date, printed under the title. POSIX awk: runs with mawk
# (Debian's default awk) and gawk. Everything taken from the input is
# reduced to printable ASCII and escaped for XML.

function esc(s) {
	gsub(/[^ -~]/, "?", s)
	gsub(/&/, "\\&amp;", s)
	gsub(/</, "\\&lt;", s)
	gsub(/>/, "\\&gt;", s)
	gsub(/"/, "\\&quot;", s)
	gsub(/'/, "\\&apos;", s)
	return s
}

# Length in characters of an escaped string as a browser shows it.
function vlen(s) {
	gsub(/&[#a-z0-9]+;/, "x", s)
	return length(s)
}

function floor(x) {
	return (x == int(x) || x > 0) ? int(x) : int(x) - 1
}

function log10(x) {
	return log(x) / log(10)
}

function isnum(v) {
	return (v ~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ || v ~ /^\.[0-9]+$/) && v + 0 > 0
}

# A ratio as the chart writes it: three significant digits or so.
function fmtr(a) {
	if (a >= 100)
		return sprintf("%.0f", a)
	if (a >= 10)
		return sprintf("%.1f", a)
	if (a >= 0.1)
		return sprintf("%.2f", a)
	return sprintf("%.2g", a)
}

# What the baseline of figure NAME is.
function kind(name) {
	if (name ~ /^lwip_/)
		return "lwIP"
	if (name ~ /^crr_/)
		return "own variant"
	if (name == "synflood_rss")
		return "own, pre-flood"
	if (name ~ /^tls1[23]_/ || name == "tls_idle_bytes")
		return "libssl"
	if (name == "tls_bulk")
		return "libcrypto"
	if (name ~ /^https_/)
		return "nginx"
	if (name == "crr_threads")
		return "--threads 1"
	if (name ~ /^path_.*_loss0$/)
		return "link rate"
	if (name ~ /^path_/)
		return "Mathis bound"
	if (name ~ /^(crr|stream|tcb_bytes|tun_rx|tun_tx|synflood_connects)$/ || name ~ /^(loss|rtt)[0-9]+_goodput$/)
		return "kernel"
	return "baseline"
}

function lower_is_better(name, unit) {
	return name ~ /(_bytes|_rss)$/ || unit ~ /^(B|bytes|KiB|MiB|GiB|kB|MB|GB)(\/conn)?$/
}

# Issue 12's goal for a figure (as synack's advantage), 0 for none.
function goal(name) {
	if (name == "crr")
		return 25
	if (name == "stream")
		return 2
	if (name == "tun_rx" || name == "tun_tx")
		return 0.8
	if (name == "crr_threads")
		return 1.8
	if (name ~ /^path_.*_loss0$/)
		return 0.9
	return 0
}

function xpos(a,   l) {
	l = log10(a)
	if (l < dlo)
		l = dlo
	if (l > dhi)
		l = dhi
	return px + (l - dlo) * dw
}

function text(x, y, cls, s, anchor) {
	printf "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\"%s>%s</text>\n", x, y, cls,
	    (anchor == "" ? "" : " text-anchor=\"" anchor "\""), s
}

function ticks(ty,   e, v, lab) {
	for (e = dlo; e <= dhi; e++) {
		v = 10 ^ e
		lab = e >= 0 ? sprintf("%d", v) : sprintf("%." (-e) "f", v)
		text(px + (e - dlo) * dw, ty, "ticklabel", lab "&#215;", "middle")
	}
}

BEGIN {
	CW = 7.4	# width of one character of the 12px monospace font, generously
	ROW = 24	# height of a row
	GAP = 10	# between groups
	PW = 440	# width of the plot
	nrow = 0
	ngroup = 0
	machine = ""
}

/^# machine: / {
	machine = substr($0, 12)
	next
}

$1 ~ /^[A-Za-z0-9_.-]+$/ && $2 ~ /^synack=/ {
	nrow++
	fig[nrow] = $1
	sv[nrow] = "?"
	bv[nrow] = "?"
	rv[nrow] = ""
	u = ""
	for (i = 2; i <= NF; i++) {
		if ($i ~ /^synack=/)
			sv[nrow] = substr($i, 8)
		else if ($i ~ /^baseline=/)
			bv[nrow] = substr($i, 10)
		else if ($i ~ /^ratio=/)
			rv[nrow] = substr($i, 7)
		else
			u = u == "" ? $i : u " " $i
	}
	funit[nrow] = u
	g = $1
	sub(/^lwip_/, "", g)
	if (!(g in gindex)) {
		ngroup++
		gindex[g] = ngroup
		gname[ngroup] = g
		gsize[ngroup] = 0
	}
	k = gindex[g]
	gsize[k]++
	grow[k, gsize[k]] = nrow
	next
}

END {
	# In a group, the kernel's (or any other) figure before lwIP's.
	for (g = 1; g <= ngroup; g++) {
		n = 0
		for (pass = 0; pass <= 1; pass++)
			for (j = 1; j <= gsize[g]; j++)
				if ((fig[grow[g, j]] ~ /^lwip_/) == pass)
					order[++n] = grow[g, j]
		for (j = 1; j <= n; j++)
			grow[g, j] = order[j]
	}
	# Each row's advantage adv[i] (0: none) and the text beside it.
	lo = -1
	hi = 1
	wname = 0
	wkind = 0
	whead = 0
	wtext = 0
	for (i = 1; i <= nrow; i++) {
		lower[i] = lower_is_better(fig[i], funit[i])
		gl[i] = goal(fig[i])
		adv[i] = 0
		if (isnum(sv[i]) && isnum(bv[i]))
			adv[i] = lower[i] ? bv[i] / sv[i] : sv[i] / bv[i]
		k = esc(kind(fig[i]))
		if (sv[i] == "error" || bv[i] == "error")
			state[i] = "error"
		else if (adv[i] == 0)
			state[i] = bv[i] == "?" ? "no baseline" : "not measured"
		else
			state[i] = ""
		if (adv[i] > 0) {
			r = rv[i] ~ /^[0-9.]+$/ ? rv[i] : fmtr(sv[i] / bv[i])
			head[i] = esc(r) "&#215;"
		} else
			head[i] = state[i]
		t = "synack " esc(sv[i]) " &#183; " k " " esc(bv[i]) " " esc(funit[i])
		if (lower[i])
			t = t " &#183; lower is better" (adv[i] <= 0 ? "" : adv[i] >= 1 ? ": " fmtr(adv[i]) "&#215; less" : ": " fmtr(1 / adv[i]) "&#215; more")
		if (gl[i] > 0)
			t = t " &#183; goal &#8805;" gl[i] "&#215;" (adv[i] > 0 ? (adv[i] >= gl[i] ? " (met)" : " (not yet)") : "")
		tail[i] = t
		if (vlen(head[i]) > whead)
			whead = vlen(head[i])
		if (vlen(t) > wtext)
			wtext = vlen(t)
		if (vlen("vs " k) > wkind)
			wkind = vlen("vs " k)
		if (adv[i] > 0 && log10(adv[i]) < lo)
			lo = log10(adv[i])
		if (adv[i] > 0 && log10(adv[i]) > hi)
			hi = log10(adv[i])
		if (gl[i] > 0 && log10(gl[i]) < lo)
			lo = log10(gl[i])
		if (gl[i] > 0 && log10(gl[i]) > hi)
			hi = log10(gl[i])
	}
	for (g = 1; g <= ngroup; g++)
		if (vlen(esc(gname[g])) > wname)
			wname = vlen(esc(gname[g]))
	# Whole decades, at least 0.1x to 10x, at most 10^-6 to 10^6.
	dlo = floor(lo + 1e-9)
	dhi = -floor(-hi - 1e-9)
	if (dlo < -6)
		dlo = -6
	if (dhi > 6)
		dhi = 6
	dw = PW / (dhi - dlo)

	nx = 16
	kx = nx + wname * CW + 14
	px = kx + wkind * CW + 24
	tx = px + PW + 24

	title = "synack benchmarks: each figure against its baseline (make bench)"
	mline = "machine: " (machine == "" ? "(no machine line)" : esc(machine))
	dline = (date == "" ? "" : "date: " esc(date) " &#183; ") nrow " figure" (nrow == 1 ? "" : "s")
	axis1 = "bar: synack &#247; baseline, log scale; for lower-is-better figures baseline &#247; synack,"
	axis2 = "so a bar right of the 1&#215; line is synack ahead (green), left of it behind (red); dashed: the goal of issue 12"
	width = tx + (whead + 2 + wtext) * CW + 16
	if (nrow == 0)
		width = 0
	split(title "\n" mline "\n" dline "\n" axis1 "\n" axis2, lines, "\n")
	for (i = 1; i <= 5; i++)
		if (16 + vlen(lines[i]) * CW * (i == 1 ? 15 / 12 : 1) + 16 > width)
			width = 16 + vlen(lines[i]) * CW * (i == 1 ? 15 / 12 : 1) + 16
	width = int(width + 1)

	top = 104
	yy = top
	for (g = 1; g <= ngroup; g++) {
		gy[g] = yy
		yy += gsize[g] * ROW + GAP
	}
	bottom = yy - GAP
	height = (nrow == 0 ? 120 : bottom + 86)

	print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
	    width, height, width, height
	print "<style>"
	print "text { font-family: 'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace; font-size: 12px; fill: #222; }"
	print ".title { font-size: 15px; font-weight: bold; } .sub { fill: #444; }"
	print ".gname { font-weight: bold; } .kind { fill: #555; } .ticklabel { fill: #555; font-size: 11px; }"
	print ".head { font-weight: bold; } .err { fill: #b00020; font-weight: bold; }"
	print ".band { fill: #eef2f6; } .grid { stroke: #c8ced6; stroke-width: 1; } .minor { stroke: #e2e6ea; stroke-width: 1; }"
	print ".one { stroke: #111; stroke-width: 1.5; } .goal { stroke: #111; stroke-width: 2; stroke-dasharray: 3 2; }"
	print ".up { fill: #2e7d32; } .down { fill: #c62828; }"
	print "</style>"
	printf "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height
	text(16, 24, "title", title, "")
	text(16, 44, "sub", mline, "")
	text(16, 62, "sub", dline, "")
	if (nrow == 0) {
		text(16, 96, "err", "no figures in the input", "")
		print "</svg>"
		exit
	}

	for (g = 1; g <= ngroup; g++)
		if (g % 2 == 1)
			printf "<rect class=\"band\" x=\"8\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>\n",
			    gy[g] - 2, width - 16, gsize[g] * ROW + 4
	# Decades and their 2 and 5 (the 1x line comes last, over the bars).
	for (d = dlo; d <= dhi; d++) {
		xx = px + (d - dlo) * dw
		printf "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
		    "grid tick", xx, top - 8, xx, bottom + 8
		if (d < dhi)
			for (m = 2; m <= 5; m += 3)
				printf "<line class=\"minor\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
				    xx + log10(m) * dw, top - 4, xx + log10(m) * dw, bottom + 4
	}
	ticks(top - 14)
	ticks(bottom + 24)

	for (g = 1; g <= ngroup; g++) {
		print "<g class=\"group\">"
		text(nx, gy[g] + 16, "gname", esc(gname[g]), "")
		for (j = 1; j <= gsize[g]; j++) {
			i = grow[g, j]
			yy = gy[g] + (j - 1) * ROW
			print "<g class=\"row\">"
			text(kx, yy + 16, "kind", "vs " esc(kind(fig[i])), "")
			if (adv[i] > 0) {
				x0 = xpos(1)
				x1 = xpos(adv[i])
				printf "<rect class=\"bar %s\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"14\">",
				    (adv[i] >= 1 ? "up" : "down"), (x1 < x0 ? x1 : x0), yy + 5, (x1 < x0 ? x0 - x1 : x1 - x0)
				printf "<title>%s vs %s: synack %s, baseline %s %s, ratio %s, advantage %s&#215;</title></rect>\n",
				    esc(fig[i]), esc(kind(fig[i])), esc(sv[i]), esc(bv[i]), esc(funit[i]), esc(rv[i]), fmtr(adv[i])
			} else
				text(xpos(1) + 6, yy + 16, "err", state[i], "")
			if (gl[i] > 0)
				printf "<line class=\"goal\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
				    xpos(gl[i]), yy + 2, xpos(gl[i]), yy + 22
			text(tx, yy + 16, (adv[i] > 0 ? "head" : "err"), head[i], "")
			text(tx + (whead + 2) * CW, yy + 16, "val", tail[i], "")
			print "</g>"
		}
		print "</g>"
	}
	# The 1x line again, over the bars.
	printf "<line class=\"one\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
	    xpos(1), top - 8, xpos(1), bottom + 8
	text(16, bottom + 50, "sub", axis1, "")
	text(16, bottom + 68, "sub", axis2, "")
	print "</svg>"
}
