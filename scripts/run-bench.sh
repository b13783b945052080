#!/bin/sh
# Run every benchmark in build/bench and print one line per figure:
#   NAME synack=X baseline=Y ratio=X/Y UNIT
# preceded by a line describing the machine. Notes from the benchmarks
# (lines starting with '#', and errors) go to stderr. Each benchmark is
# bounded in time; the exit status is non-zero if any of them failed.
# Env: BENCH_QUICK=1 for smaller runs; BENCH_ONLY="crr stream" to choose
# (sim_path: goodput across a simulated bottleneck in virtual time; tls,
# tls_idle: the TLS engine in memory beside libssl; https: HTTPS
# connections beside nginx; synflood: legitimate connections during a
# spoofed SYN flood, synack on TUN beside a kernel listener; crr_threads:
# serve --threads 2 beside --threads 1 on a multi-queue TUN);
# BENCH_TIMEOUT seconds per benchmark (default 150). A benchmark is
# build/bench/NAME (from bench/NAME.c) or the script bench/NAME.sh; one of
# the default list whose source is not in the tree is skipped with a note.
# At the end the machine line and the figure lines are drawn as an SVG
# chart (scripts/bench-chart.awk) in BENCH_CHART (default build/bench.svg;
# empty: no chart), and "# chart: PATH" goes to stderr.
set -u
BUILD=${BUILD:-build}
TIMEOUT=${BENCH_TIMEOUT:-150}
ONLY=${BENCH_ONLY:-crr stream lwip tcb_bytes sim_path tun crr_threads synflood tls tls_idle https}
CHART=${BENCH_CHART-$BUILD/bench.svg}
here=$(dirname "$0")

# What went to stdout, for the chart, and each benchmark's exit status.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
figs=$tmp/figures
linebuf=
command -v stdbuf >/dev/null 2>&1 && linebuf="stdbuf -oL"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$cpu" ] || cpu=$(uname -m)
echo "# machine: nproc=$(nproc) kernel=$(uname -sr) cpu=\"$cpu\" quick=${BENCH_QUICK:-0}" | tee "$figs"

status=0
for name in $ONLY; do
	bin="$BUILD/bench/$name"
	script="$here/../bench/$name.sh"
	[ -x "$bin" ] || [ ! -x "$script" ] || bin=$script
	if [ ! -x "$bin" ]; then
		# A benchmark of the default list that this tree does not have
		# (yet) is no failure; one asked for by name, or one whose
		# source is here but not built, is.
		if [ -z "${BENCH_ONLY:-}" ] && [ ! -e "$here/../bench/$name.c" ] && [ ! -e "$script" ]; then
			echo "# $name: SKIP: neither $bin nor bench/$name.c is in this tree" >&2
			continue
		fi
		echo "$name: $bin not built" >&2
		status=1
		continue
	fi
	# -k: if the benchmark ignores SIGTERM, kill it; its children die with
	# it (PR_SET_PDEATHSIG) and its sockets are closed by the kernel. Its
	# stdout goes on through tee, a line at a time as on a terminal
	# (stdbuf: stdio would buffer it whole in a pipe); its status comes
	# back in a file.
	rm -f "$tmp/rc"
	{
		BUILD=$BUILD $linebuf timeout -k 5 "$TIMEOUT" "$bin"
		echo $? >"$tmp/rc"
	} | tee -a "$figs"
	rc=$(cat "$tmp/rc" 2>/dev/null || echo 1)
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] && echo "$name: timed out after ${TIMEOUT}s" >&2
		status=1
	fi
done

if [ -n "$CHART" ]; then
	mkdir -p "$(dirname "$CHART")" 2>/dev/null
	if LC_ALL=C awk -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" -f "$here/bench-chart.awk" "$figs" >"$tmp/chart.svg" &&
		cp "$tmp/chart.svg" "$CHART" 2>/dev/null; then
		echo "# chart: $CHART" >&2
	else
		echo "run-bench: could not write the chart to $CHART" >&2
		status=1
	fi
fi
exit $status
