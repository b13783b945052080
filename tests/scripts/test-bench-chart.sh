#!/usr/bin/env bash
# The chart of `make bench` (issue 12): scripts/bench-chart.awk draws the
# lines of scripts/run-bench.sh as one SVG file, and run-bench.sh writes it.
#  - recorded samples (a full run with lwIP lines, figures that read
#    "error" or have no baseline, XML-special and non-ASCII characters in
#    the machine line, an empty input) drawn with every awk at hand (mawk,
#    Debian's default, and gawk when installed; BENCH_CHART_AWKS="awk
#    /path/to/gawk" to choose): well-formed XML (python3), one row per
#    figure line and one group per job, every value written as text, each
#    bar ending where its ratio lies on the log scale, the goal markers on
#    their ratio, no text over another text or a bar, nothing outside the
#    picture; the same file from every awk;
#  - scripts/run-bench.sh, run from a copy of the scripts beside fake
#    benchmarks: the figure lines still on stdout, the chart written to
#    BENCH_CHART and named on stderr, a benchmark of the default list
#    that has no source skipped, one whose source exists but is not built
#    failing, the exit status of the benchmarks kept.
#
# Usage: tests/scripts/test-bench-chart.sh       (needs no build)
# Prints one "ok ..." or "FAIL ..." line per check and a last line
# "test-bench-chart: N passed, N failed"; exits 1 if any check failed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
chart=$root/scripts/bench-chart.awk
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-bench-chart.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
failed=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
summary() { echo "test-bench-chart: $pass passed, $failed failed"; }

if ! command -v python3 >/dev/null 2>&1; then
	bad "python3 is needed to read the SVG files (scripts/deps.sh test installs it)"
	summary
	exit 1
fi

# ---- samples ----
# A whole run of this machine's `make bench` (December 2026), with the
# lines bench/lwip will add.
cat >"$tmp/full.txt" <<'EOF'
# machine: nproc=2 kernel=Linux 6.18.44-fc-v1272 cpu="AMD EPYC" quick=0
crr synack=129197 baseline=14917 ratio=8.66 conn/s
stream synack=2942.2 baseline=2586.3 ratio=1.14 MB/s
lwip_crr synack=128310 baseline=40210 ratio=3.19 conn/s
lwip_stream synack=2931.0 baseline=1204.7 ratio=2.43 MB/s
tcb_bytes synack=939 baseline=3900 ratio=0.24 bytes/conn
path_cubic_sack_loss0 synack=95.4 baseline=100.0 ratio=0.95 Mbit/s
path_cubic_sack_loss1 synack=3.7 baseline=2.8 ratio=1.31 Mbit/s
path_cubic_nosack_loss0 synack=90.9 baseline=100.0 ratio=0.91 Mbit/s
path_cubic_nosack_loss1 synack=3.7 baseline=2.8 ratio=1.30 Mbit/s
path_newreno_sack_loss0 synack=95.4 baseline=100.0 ratio=0.95 Mbit/s
path_newreno_sack_loss1 synack=3.1 baseline=2.8 ratio=1.09 Mbit/s
path_newreno_nosack_loss0 synack=95.4 baseline=100.0 ratio=0.95 Mbit/s
path_newreno_nosack_loss1 synack=3.0 baseline=2.8 ratio=1.05 Mbit/s
tun_rx synack=252.4 baseline=2396.4 ratio=0.11 MB/s
tun_tx synack=172.9 baseline=2597.5 ratio=0.07 MB/s
loss1_goodput synack=159.04 baseline=14.77 ratio=10.77 MB/s
loss5_goodput synack=18.84 baseline=4.04 ratio=4.66 MB/s
rtt100_goodput synack=13.05 baseline=12.5 ratio=1.04 MB/s
synflood_connects synack=100.0 baseline=100.0 ratio=1.00 %
synflood_rss synack=4996 baseline=4020 ratio=1.24 KiB
tls13_full synack=5509 baseline=5369 ratio=1.03 handshakes/s
tls13_resumed synack=10339 baseline=6409 ratio=1.61 handshakes/s
tls12_full synack=9092 baseline=6472 ratio=1.40 handshakes/s
tls12_resumed synack=96088 baseline=29847 ratio=3.22 handshakes/s
tls_bulk synack=2115 baseline=2365 ratio=0.89 MB/s
tls_idle_bytes synack=3984 baseline=46236 ratio=0.09 bytes/conn
https_conn synack=2843 baseline=2577 ratio=1.10 conn/s
https_conn_cpu synack=6120 baseline=3391 ratio=1.80 conn/cpu-s
EOF
# Failures: both sides, one side, a skipped benchmark ('-'), no baseline
# at all; notes and error messages between the lines.
cat >"$tmp/error.txt" <<'EOF'
# machine: nproc=2 kernel=Linux 6.1.0 cpu="x" quick=1
crr synack=error baseline=error ratio=- conn/s
# crr: the kernel server did not start
stream synack=2942.2 baseline=error ratio=- MB/s
tun: timed out after 150s
tun_rx synack=- baseline=- ratio=- MB/s
crr_threads synack=231000 conn/s
tcb_bytes synack=939 baseline=3900 ratio=0.24 bytes/conn
EOF
# lwIP beside the kernel: the same job in one group, kernel row first,
# whatever the order of the lines.
cat >"$tmp/lwip.txt" <<'EOF'
# machine: nproc=2 kernel=Linux 6.1.0 cpu="x" quick=1
lwip_crr synack=130000 baseline=13000 ratio=10.00 conn/s
crr synack=130000 baseline=130000 ratio=1.00 conn/s
crr_1m synack=90000 baseline=130000 ratio=0.69 conn/s
EOF
# What XML must not take raw, and bytes that are not ASCII.
printf '%s\n' '# machine: nproc=2 kernel=Linux 6.1 <&> cpu="A&B <x> '"'"'q'"'"'" quick=0 '$'\xc3\xa9\xff' \
	'stream synack=1 baseline=2 ratio=0.50 MB/s&<>"' >"$tmp/special.txt"
: >"$tmp/empty.txt"

# ---- the checks of one SVG file, in Python (xml.etree) ----
cat >"$tmp/check.py" <<'EOF'
"""check.py SVG INPUT [MACHINE]: one 'ok ...' or 'FAIL ...' line per check."""
import math, re, sys
import xml.etree.ElementTree as ET

svg, inp = sys.argv[1], sys.argv[2]
machine = sys.argv[3] if len(sys.argv) > 3 else None
NS = "{http://www.w3.org/2000/svg}"
out = []
def check(cond, what, detail=""):
    out.append(("ok   " if cond else "FAIL ") + what + ("" if cond or not detail else ": " + detail))

try:
    root = ET.parse(svg).getroot()
except ET.ParseError as e:
    print("FAIL well-formed XML: %s" % e)
    sys.exit(0)
check(True, "well-formed XML")
check(root.tag == NS + "svg" and float(root.get("width", 0)) > 0 and float(root.get("height", 0)) > 0,
      "an <svg> root in the SVG namespace, with its width and height", root.tag)
W, H = float(root.get("width", 0)), float(root.get("height", 0))
check(not [e for e in root.iter() if e.tag in (NS + "script", NS + "image", NS + "foreignObject")]
      and not re.search(r"@import|url\(|href=", open(svg, encoding="utf-8").read()),
      "self-contained: no script, image, link or url()")

figs = []
for line in open(inp, encoding="latin-1"):
    f = line.split()
    if len(f) >= 2 and re.match(r"^[A-Za-z0-9_.-]+$", f[0]) and f[1].startswith("synack="):
        d = {"name": f[0], "s": "?", "b": "?", "unit": []}
        for w in f[1:]:
            if w.startswith("synack="): d["s"] = w[7:]
            elif w.startswith("baseline="): d["b"] = w[9:]
            elif not w.startswith("ratio="): d["unit"].append(w)
        d["unit"] = " ".join(d["unit"])
        figs.append(d)
jobs = []
for d in figs:
    j = re.sub(r"^lwip_", "", d["name"])
    if j not in jobs: jobs.append(j)

# The order of the rows: by job, in the order of their first line; in a
# job, lwIP's figure last.
drawn = [d for j in jobs for lw in (False, True) for d in figs
         if re.sub(r"^lwip_", "", d["name"]) == j and d["name"].startswith("lwip_") == lw]

def cls(e): return (e.get("class") or "").split()
def alltext(e): return " ".join(t.strip() for t in e.itertext() if t.strip())
rows = [e for e in root.iter(NS + "g") if "row" in cls(e)]
groups = [e for e in root.iter(NS + "g") if "group" in cls(e)]
check(len(rows) == len(figs), "one row per figure line (%d)" % len(figs), "%d rows" % len(rows))
check(len(groups) == len(jobs), "one group per job (%d)" % len(jobs), "%d groups" % len(groups))
# Each group: its job's name, then the figures of that job, kernel before lwIP.
for g, j in zip(groups, jobs):
    names = [d["name"] for d in drawn if re.sub(r"^lwip_", "", d["name"]) == j]
    if len(names) < 2: continue
    kinds = [alltext(t) for r in g.iter(NS + "g") if "row" in cls(r) for t in r.iter(NS + "text") if "kind" in cls(t)]
    want = ["vs lwIP" if n.startswith("lwip_") else "vs kernel" for n in names]
    check(alltext(g).startswith(j) and kinds == want, "group %s: rows %s" % (j, ", ".join(want)), "%r" % kinds)

if machine is not None:
    check(any(machine in alltext(t) for t in root.iter(NS + "text")), "the machine line is written as text", machine)

ticks = sorted(float(l.get("x1")) for l in root.iter(NS + "line") if "tick" in cls(l))
ones = [float(l.get("x1")) for l in root.iter(NS + "line") if "one" in cls(l)]
if figs:
    steps = [b - a for a, b in zip(ticks, ticks[1:])]
    check(len(ticks) >= 3 and max(steps) - min(steps) < 0.2 and len(ones) == 1
          and min(abs(t - ones[0]) for t in ticks) < 0.1,
          "decade lines evenly spaced, one 1x line on a decade", "ticks %s, 1x %s" % (ticks, ones))
    dec = (ticks[-1] - ticks[0]) / (len(ticks) - 1) if len(ticks) > 1 else 1
    one = ones[0] if ones else 0
else:
    check(not rows and "no figures" in alltext(root), "no figures: says so, draws no row")

def num(v):
    return re.match(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$", v) and float(v) > 0

def lower(d): return re.search(r"(_bytes|_rss)$", d["name"]) or d["unit"] in ("bytes/conn", "KiB", "bytes")
goals = {"crr": 25, "stream": 2, "tun_rx": 0.8, "tun_tx": 0.8}

placed = wrote = errs = 0
for d, r in zip(drawn, rows):
    # Its row writes both values and the unit (in <text>, not only in the
    # bar's tooltip).
    t = " ".join(alltext(e) for e in r.iter(NS + "text"))
    if not (t.startswith("vs ") and ("synack %s " % d["s"]) in t and (" %s %s" % (d["b"], d["unit"])) in t):
        check(False, "%s: values written as text in its row" % d["name"], t)
        continue
    wrote += 1
    bars = [e for e in r.iter(NS + "rect") if "bar" in cls(e)]
    if num(d["s"]) and num(d["b"]):
        a = float(d["b"]) / float(d["s"]) if lower(d) else float(d["s"]) / float(d["b"])
        want = one + math.log10(a) * dec
        if len(bars) != 1:
            check(False, "%s: one bar" % d["name"], "%d" % len(bars))
            continue
        x, w = float(bars[0].get("x")), float(bars[0].get("width"))
        end = x + w if a >= 1 else x
        start = x if a >= 1 else x + w
        good = abs(end - want) < 0.6 and abs(start - one) < 0.6 and ("up" in cls(bars[0])) == (a >= 1)
        if good: placed += 1
        else: check(False, "%s: bar from 1x to %.3gx on the log scale" % (d["name"], a),
                    "from %.2f to %.2f, want %.2f to %.2f, class %s" % (start, end, one, want, cls(bars[0])))
        if d["name"] in goals:
            gl = [float(l.get("x1")) for l in r.iter(NS + "line") if "goal" in cls(l)]
            want = one + math.log10(goals[d["name"]]) * dec
            check(len(gl) == 1 and abs(gl[0] - want) < 0.6, "%s: goal marker at %gx" % (d["name"], goals[d["name"]]),
                  "%s, want %.2f" % (gl, want))
    else:
        say = "error" if "error" in (d["s"], d["b"]) else "no baseline" if d["b"] == "?" else "not measured"
        if not bars and say in [alltext(t) for t in r.iter(NS + "text")]: errs += 1
        else: check(False, "%s: no bar, '%s' written" % (d["name"], say), "%d bars: %s" % (len(bars), alltext(r)))
if figs:
    check(wrote == len(figs), "every figure's values written as text (%d)" % len(figs), "%d" % wrote)
    nbar = sum(1 for d in figs if num(d["s"]) and num(d["b"]))
    check(placed == nbar, "every bar (%d) from the 1x line to its ratio on the log scale" % nbar, "%d right" % placed)
    if nbar < len(figs):
        check(errs == len(figs) - nbar, "every figure without a ratio (%d) drawn without a bar, saying why" % (len(figs) - nbar),
              "%d" % errs)

# Boxes of the texts (DejaVu Sans Mono: 0.602 em a character) and bars:
# none over another, none outside the picture.
size = {"title": 15, "ticklabel": 11}
boxes = []
for t in root.iter(NS + "text"):
    fs = max([size.get(c, 12) for c in cls(t)] or [12])
    w = len(alltext(t)) * 0.602 * fs
    x, y = float(t.get("x")), float(t.get("y"))
    if t.get("text-anchor") == "middle": x -= w / 2
    boxes.append((x, y - 0.8 * fs, x + w, y + 0.25 * fs, alltext(t)[:30]))
for e in root.iter(NS + "rect"):
    if "bar" in cls(e):
        x, y = float(e.get("x")), float(e.get("y"))
        boxes.append((x, y, x + float(e.get("width")), y + float(e.get("height")), "bar"))
over = [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
check(not over, "no text over another text or a bar (%d boxes)" % len(boxes), "%s" % over[:3])
outside = [b[4] for b in boxes if b[0] < 0 or b[1] < 0 or b[2] > W or b[3] > H]
check(not outside, "every text and bar inside the %gx%g picture" % (W, H), "%s" % outside[:3])
print("\n".join(out))
EOF

# draw AWK INPUT SVG: the chart of INPUT, as run-bench.sh draws it.
draw() {
	LC_ALL=C "$1" -v date="2026-12-01 12:00 UTC" -f "$chart" "$2" >"$3" 2>"$tmp/awk.err"
}
# checked NAME SVG INPUT [MACHINE]: the Python checks, counted.
checked() {
	local name=$1 line
	shift
	while IFS= read -r line; do
		case "$line" in
		"ok   "*) ok "$name: ${line#ok   }" ;;
		"FAIL "*) bad "$name: ${line#FAIL }" ;;
		*) bad "$name: check.py said '$line'" ;;
		esac
	done < <(python3 "$tmp/check.py" "$@" 2>&1)
}

awks=${BENCH_CHART_AWKS:-}
if [ -z "$awks" ]; then
	for a in mawk gawk; do command -v "$a" >/dev/null 2>&1 && awks="$awks $a"; done
	[ -n "$awks" ] || awks="awk"
	command -v gawk >/dev/null 2>&1 || echo "(gawk is not installed: mawk only)"
fi

first=
for a in $awks; do
	an=${a##*/}
	for s in full error lwip special empty; do
		if draw "$a" "$tmp/$s.txt" "$tmp/$s.$an.svg" && [ ! -s "$tmp/awk.err" ]; then
			ok "$an $s: exit 0, nothing on stderr"
		else
			bad "$an $s: $a failed" "$(head -c 300 "$tmp/awk.err")"
		fi
	done
	checked "$an full" "$tmp/full.$an.svg" "$tmp/full.txt" 'nproc=2 kernel=Linux 6.18.44-fc-v1272 cpu="AMD EPYC" quick=0'
	checked "$an error" "$tmp/error.$an.svg" "$tmp/error.txt"
	checked "$an lwip" "$tmp/lwip.$an.svg" "$tmp/lwip.txt"
	checked "$an special" "$tmp/special.$an.svg" "$tmp/special.txt" "kernel=Linux 6.1 <&> cpu=\"A&B <x> 'q'\" quick=0"
	checked "$an empty" "$tmp/empty.$an.svg" "$tmp/empty.txt"
	if grep -q 'class="kind">vs own variant<' "$tmp/lwip.$an.svg" && grep -q 'lower is better: 4.15&#215; less' "$tmp/full.$an.svg" &&
		grep -q 'goal &#8805;25&#215; (not yet)' "$tmp/full.$an.svg" && grep -q '>2026-12-01 12:00 UTC\|date: 2026-12-01 12:00 UTC' "$tmp/full.$an.svg"; then
		ok "$an: crr_1m against its own variant, tcb_bytes lower-is-better, crr's goal, the date"
	else
		bad "$an: own variant, lower is better, goal or date missing"
	fi
	if [ -z "$first" ]; then
		first=$an
	else
		same=1
		for s in full error lwip special empty; do cmp -s "$tmp/$s.$first.svg" "$tmp/$s.$an.svg" || same=0; done
		if [ "$same" -eq 1 ]; then ok "$first and $an draw the same files"; else bad "$first and $an draw different files"; fi
	fi
done

# ---- scripts/run-bench.sh, from a copy of the scripts ----
# tree/bench has crr.c but build/bench/crr is not built; stream is a fake
# benchmark; nothing else of the default list exists there.
tree=$tmp/tree
mkdir -p "$tree/scripts" "$tree/bench" "$tree/build/bench"
cp "$root/scripts/run-bench.sh" "$root/scripts/bench-chart.awk" "$tree/scripts/"
: >"$tree/bench/crr.c"
cat >"$tree/build/bench/stream" <<'EOF'
#!/bin/sh
echo "# stream: a note"
echo "# stream: a note on stderr" >&2
echo "stream synack=${FAKE_S:-2900.5} baseline=2600.0 ratio=1.12 MB/s"
exit "${FAKE_RC:-0}"
EOF
chmod +x "$tree/build/bench/stream"
# bench NAME ENV...: run the copy (no BENCH_ONLY unless given) in $tree;
# stdout, stderr and status in $tmp/NAME.out, .err, $rc.
bench() {
	local name=$1
	shift
	(cd "$tree" && env -u BENCH_ONLY -u BENCH_CHART "$@" sh scripts/run-bench.sh) >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
}

bench default
if [ "$rc" -eq 1 ] && grep -q '^crr: build/bench/crr not built$' "$tmp/default.err" &&
	grep -q '^# lwip: SKIP: neither build/bench/lwip nor bench/lwip.c is in this tree$' "$tmp/default.err" &&
	[ "$(grep -c ' SKIP: neither ' "$tmp/default.err")" -eq 9 ] && ! grep -q '^lwip:' "$tmp/default.err"; then
	ok "run-bench: default list: lwip (no source) and 8 more skipped with a note, crr (source, no binary) fails: exit 1"
else
	bad "run-bench: default list" "exit $rc: $(grep -v '^# stream' "$tmp/default.err" | head -n 12 | tr '\n' '|')"
fi
if [ "$(sed -n 1p "$tmp/default.out" | cut -c1-11)" = "# machine: " ] &&
	[ "$(sed -n '2,$p' "$tmp/default.out")" = "# stream: a note
stream synack=2900.5 baseline=2600.0 ratio=1.12 MB/s" ]; then
	ok "run-bench: stdout as before: the machine line, then the benchmark's own lines"
else
	bad "run-bench: stdout" "$(tr '\n' '|' <"$tmp/default.out")"
fi
if grep -qx "# chart: build/bench.svg" "$tmp/default.err" && [ -s "$tree/build/bench.svg" ]; then
	ok "run-bench: chart written to build/bench.svg by default, '# chart: build/bench.svg' on stderr"
else
	bad "run-bench: default chart" "$(grep chart "$tmp/default.err")"
fi
cp "$tmp/default.out" "$tmp/default.txt"
checked "run-bench chart" "$tree/build/bench.svg" "$tmp/default.txt"

bench only BENCH_ONLY="stream lwip" BENCH_CHART="$tmp/out dir/c.svg" FAKE_S=error FAKE_RC=1
if [ "$rc" -eq 1 ] && grep -q '^lwip: build/bench/lwip not built$' "$tmp/only.err" &&
	grep -qx "# chart: $tmp/out dir/c.svg" "$tmp/only.err" && grep -q 'class="err">error</text>' "$tmp/out dir/c.svg"; then
	ok "run-bench: lwip asked for by name fails, a failing benchmark's status kept (exit 1), chart in BENCH_CHART (directory made) with 'error'"
else
	bad "run-bench: BENCH_ONLY, failing benchmark, BENCH_CHART" "exit $rc: $(tr '\n' '|' <"$tmp/only.err")"
fi
rm -f "$tree/build/bench.svg"
bench nochart BENCH_ONLY=stream BENCH_CHART=
if [ "$rc" -eq 0 ] && ! grep -q 'chart' "$tmp/nochart.err" && [ -z "$(find "$tree" -name '*.svg')" ]; then
	ok "run-bench: BENCH_CHART= draws no chart, exit 0"
else
	bad "run-bench: BENCH_CHART=" "exit $rc: $(tr '\n' '|' <"$tmp/nochart.err")"
fi
bench badchart BENCH_ONLY=stream BENCH_CHART=/proc/none/c.svg
if [ "$rc" -eq 1 ] && grep -q '^run-bench: could not write the chart to /proc/none/c.svg$' "$tmp/badchart.err" &&
	grep -q '^stream synack=' "$tmp/badchart.out"; then
	ok "run-bench: a chart that cannot be written: figures printed, message, exit 1"
else
	bad "run-bench: unwritable BENCH_CHART" "exit $rc: $(tr '\n' '|' <"$tmp/badchart.err")"
fi

summary
[ "$failed" -eq 0 ]
