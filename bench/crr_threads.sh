#!/usr/bin/env bash
# crr_threads: connections per second of `synack serve --rr --threads 2`
# over a multi-queue TUN device, beside the same server with --threads 1,
# measured in the same run against the same kernel client. Prints (stdout):
#   crr_threads synack=X baseline=Y ratio=X/Y conn/s
# X: --threads 2, Y: --threads 1 (issue 12's goal: ratio >= 1.8), and '#'
# notes on stderr: each run's rate, errors, and where the CPU time went
# (user/sys of synack and of the client, the machine's idle time, what
# other processes took: the rest), synack's CPU time per connection and
# its context switches.
#
# Method (docs/BENCH.md): the client is build/bench/crr_client, WORKERS
# kernel threads each doing connect, 1-byte request, 1-byte response,
# close, in a loop for SECS seconds, in the same namespace as the TUN
# device; the server answers and closes first (serve --rr), so TIME-WAIT
# stays on synack's side and the client needs neither SO_LINGER 0 nor
# more ports. The runs alternate (1, 2, 1, 2 ...) and each side keeps its
# best; default sysctls and queue lengths, nothing tuned.
#
# Needs CAP_NET_ADMIN (a namespace, a TUN device); without it prints
# "# crr_threads: SKIP: <reason>" and the line with synack=- baseline=-,
# exit 0. Exits 1 (the figure "error") if a run fails.
#
# Env: BENCH_QUICK=1 (one run of each side, 3 s), BENCH_CRR_SECS (seconds
# per run; default 6), BENCH_REPEAT (runs of each side, default 2),
# BENCH_CRR_CLIENTS (client workers, default 4), BENCH_CRR_PIN=1 (serve
# --pin), SYNACK (the synack binary; default $BUILD/synack).
# The whole measurement stays under 60 s (2 x 2 x 6 s plus set-up).
#
# Layout: namespace synack-bench-crr-PID, TUN sct0 made by synack
# (--host-addr, multi-queue with --threads 2): kernel 10.204.0.1/24,
# synack 10.204.0.2/24.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SYNACK:-${BUILD:-$root/build}/synack}
case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
client=$(dirname "$bin")/bench/crr_client
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	secs=${BENCH_CRR_SECS:-3} repeat=${BENCH_REPEAT:-1}
else
	secs=${BENCH_CRR_SECS:-6} repeat=${BENCH_REPEAT:-2}
fi
workers=${BENCH_CRR_CLIENTS:-4}
pin=()
[ "${BENCH_CRR_PIN:-0}" = 1 ] && pin=(--pin)
NS=synack-bench-crr-$$
HOST=10.204.0.1 SYN=10.204.0.2
PORT=7000
tmp=
srv=
made_ns=

note() { echo "# crr_threads: $*" >&2; }
line() { # line SYNACK BASELINE
	local ratio=-
	case "$1$2" in *[!0-9.]* | '') ;; *) ratio=$(awk -v s="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", s / k; else print "-" }') ;; esac
	echo "crr_threads synack=$1 baseline=$2 ratio=$ratio conn/s"
}
skip() {
	note "SKIP: $1"
	line - -
	exit 0
}
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local p
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	if [ -n "$made_ns" ]; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$NS" 2>/dev/null
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}

[ -x "$bin" ] || { note "$bin is not built (run make)"; line error error; exit 1; }
[ -x "$client" ] || { note "$client is not built (make build/bench/crr_client)"; line error error; exit 1; }
command -v ip >/dev/null || skip "ip (iproute2) is missing"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (load the tun module)"
for old in $(ip netns list 2>/dev/null | awk '/^synack-bench-crr-[0-9]+/ {print $1}'); do
	kill -0 "${old##*-}" 2>/dev/null || ip netns del "$old" 2>/dev/null
done
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
ip netns add "$NS" 2>/dev/null || skip "no CAP_NET_ADMIN: cannot create a network namespace (run as root)"
made_ns=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-bench-crr.XXXXXX") || { note "mktemp failed"; exit 1; }
ip netns exec "$NS" ip link set lo up || skip "cannot configure the namespace"

ticks=$(getconf CLK_TCK 2>/dev/null || echo 100)
# cpu PID: "USER SYS" seconds of the process (all its threads) so far.
cpu() { awk -v hz="$ticks" '{ sub(/^.*\) /, ""); printf "%.2f %.2f\n", $12 / hz, $13 / hz }' "/proc/$1/stat" 2>/dev/null; }
# switches PID: context switches of the process so far, every thread:
# "VOLUNTARY INVOLUNTARY" (a voluntary one is a wait for the device).
switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { v += $2 } /^nonvoluntary_ctxt_switches/ { n += $2 } END { print v + 0, n + 0 }'
}
# idle: the machine's idle (and iowait) time so far, in seconds.
idle() { awk -v hz="$ticks" '/^cpu / { printf "%.2f\n", ($5 + $6) / hz }' /proc/stat; }

# run THREADS: one server, one client run; sets rate (empty on failure)
# and appends a note line to $tmp/notes.
run() {
	local t=$1 i out s0 s1 i0 i1 c0 c1
	rate=
	PORT=$((PORT + 1))
	# no timeout(1) in between: $! is synack's own pid (ip execs it), for
	# its CPU time; the EXIT trap ends it if this script is interrupted
	ip netns exec "$NS" "$bin" serve --tun sct0 --addr "$SYN/24" --host-addr "$HOST/24" \
		--rr --port "$PORT" --threads "$t" "${pin[@]}" --counters 2>"$tmp/srv.err" &
	srv=$!
	for i in $(seq 100); do grep -qs listening "$tmp/srv.err" && break; sleep 0.05; done
	if ! grep -qs listening "$tmp/srv.err"; then
		note "threads $t: the server did not start: $(head -c 300 "$tmp/srv.err" | tr '\n' ' ')"
		kill "$srv" 2>/dev/null
		wait "$srv" 2>/dev/null
		srv=
		return 1
	fi
	s0=$(cpu "$srv") i0=$(idle) c0=$(switches "$srv")
	out=$(ip netns exec "$NS" timeout $((secs + 10)) "$client" "$SYN" "$PORT" "$secs" "$workers" 2>"$tmp/cli.err")
	s1=$(cpu "$srv") i1=$(idle) c1=$(switches "$srv")
	kill -INT "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	srv=
	case "$out" in conns=*) ;; *)
		note "threads $t: the client failed: $(head -c 300 "$tmp/cli.err" | tr '\n' ' ')"
		return 1 ;;
	esac
	rate=$(echo "$out" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
	local per
	per=$(sed -n 's/^synack: serve: \(thread [0-9]*\): \([0-9]*\) connections.*/\1 \2/p' "$tmp/srv.err" | tr '\n' ',' | sed 's/,$//; s/,/, /g')
	# shellcheck disable=SC2086 # "USER SYS" pairs
	awk -v t="$t" -v out="$out" -v s0="$s0" -v s1="$s1" -v i0="$i0" -v i1="$i1" -v c0="$c0" -v c1="$c1" -v secs="$secs" -v ncpu="$(nproc)" -v per="$per" 'BEGIN {
		split(s0, a, " "); split(s1, b, " "); split(c0, x, " "); split(c1, y, " ")
		n = split(out, f, " "); for (k = 1; k <= n; k++) { split(f[k], kv, "="); v[kv[1]] = kv[2] }
		printf "threads %s: %s conn/s (%s exchanges, %s errors in %s s%s); CPU s: synack user %.2f sys %.2f, client user %s sys %s, machine idle %.2f of %.0f, other processes %.2f; synack %.1f us CPU a connection; synack context switches %d voluntary, %d involuntary\n",
			t, v["rate"], v["conns"], v["errors"], v["seconds"], per == "" ? "" : "; " per,
			b[1] - a[1], b[2] - a[2], v["utime"], v["stime"], i1 - i0, secs * ncpu,
			secs * ncpu - (i1 - i0) - (b[1] - a[1] + b[2] - a[2]) - v["utime"] - v["stime"],
			(v["conns"] > 0 ? (b[1] - a[1] + b[2] - a[2]) * 1e6 / v["conns"] : 0), y[1] - x[1], y[2] - x[2]
	}' >>"$tmp/notes"
	[ -n "$rate" ]
}

best() { # best CURRENT NEW
	if [ -z "$2" ]; then echo "$1"; elif [ -z "$1" ]; then echo "$2"; else
		awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; fi
}

one='' two='' status=0
t_start=$(date +%s)
for r in $(seq "$repeat"); do
	[ $(($(date +%s) - t_start)) -ge 40 ] && break # the whole measurement under 60 s
	run 1 || status=1
	one=$(best "$one" "$rate")
	run 2 || status=1
	two=$(best "$two" "$rate")
done
note "$workers client workers, $secs s a run, best of $repeat; nproc=$(nproc); $(($(date +%s) - t_start)) s in all"
while read -r l; do note "$l"; done <"$tmp/notes"
line "${two:-error}" "${one:-error}"
exit $status
