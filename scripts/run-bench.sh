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
# spoofed SYN flood, synack on TUN beside a kernel listener);
# BENCH_TIMEOUT seconds per benchmark (default 150). A benchmark is
# build/bench/NAME (from bench/NAME.c) or the script bench/NAME.sh.
set -u
BUILD=${BUILD:-build}
TIMEOUT=${BENCH_TIMEOUT:-150}
ONLY=${BENCH_ONLY:-crr stream tcb_bytes sim_path tun synflood tls tls_idle https}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$cpu" ] || cpu=$(uname -m)
echo "# machine: nproc=$(nproc) kernel=$(uname -sr) cpu=\"$cpu\" quick=${BENCH_QUICK:-0}"

status=0
for name in $ONLY; do
	bin="$BUILD/bench/$name"
	script="$(dirname "$0")/../bench/$name.sh"
	[ -x "$bin" ] || [ ! -x "$script" ] || bin=$script
	if [ ! -x "$bin" ]; then
		echo "$name: $bin not built" >&2
		status=1
		continue
	fi
	# -k: if the benchmark ignores SIGTERM, kill it; its children die with
	# it (PR_SET_PDEATHSIG) and its sockets are closed by the kernel.
	BUILD=$BUILD timeout -k 5 "$TIMEOUT" "$bin"
	rc=$?
	if [ $rc -ne 0 ]; then
		[ $rc -eq 124 ] && echo "$name: timed out after ${TIMEOUT}s" >&2
		status=1
	fi
done
exit $status
