#!/usr/bin/env bash
# `synack serve --threads N` (issue 12): one stack per thread over a
# multi-queue TUN device.
#
# Usage: tests/scripts/test-threads.sh            (after `make`)
#        SYNACK=path/to/synack tests/scripts/test-threads.sh
# Prints one "ok ..." / "FAIL ..." / "SKIP: ..." line per check and a last
# line "test-threads: N passed, N failed"; exits 1 if any check failed.
#
# The argument checks (--threads 0, 1000, a word; --threads with --kernel,
# --tap, --tls, impairments; --pin beyond this machine's CPUs) need no
# privileges and run anywhere, on device names that do not exist and
# without --host-addr, so nothing can be created. The rest runs in a
# private network namespace synack-threads-$$ (removed on exit, also on
# failure), as root or with CAP_NET_ADMIN; without it: SKIP.
#   sq0  TUN  made by synack (--host-addr), multi-queue: kernel 10.71.0.1/24, synack 10.71.0.2
#   sq1  TUN  persistent, multi_queue, made here: kernel 10.72.0.1/24, synack 10.72.0.2
#   sq2  TUN  persistent, single queue, made here: what --threads 2 refuses
#   sq3  TUN  persistent, multi_queue, no address: what --host-addr adds and removes
# With a sanitizer build every report of a synack process is a failure.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SYNACK:-$root/build/synack}
client=${CRR_CLIENT:-$root/build/bench/crr_client}
NS=synack-threads-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-threads.XXXXXX")
pass=0
failed=0
pids=()
have_ns=0
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$tmp/sanitizer"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$tmp/sanitizer"

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
skip() { echo "SKIP: $1"; }
check() { # check NAME CONDITION-STATUS [DETAIL]
	if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "${3:-}"; fi
}
summary() { echo "test-threads: $pass passed, $failed failed"; }

cleanup() {
	local p left
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	if [ "$have_ns" -eq 1 ]; then
		left=$(ip netns pids "$NS" 2>/dev/null)
		# shellcheck disable=SC2086 # one pid a word
		[ -z "$left" ] || kill -KILL $left 2>/dev/null
		ip netns del "$NS" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x "$bin" ]; then
	echo "FAIL $bin is not built (run make)"
	echo "test-threads: 0 passed, 1 failed"
	exit 1
fi

# san_check WHERE: each sanitizer report since the last call is a failure.
san_check() {
	local f
	for f in "$tmp"/sanitizer.*; do
		[ -e "$f" ] || continue
		bad "sanitizer report of pid ${f##*.} (after: $1)" "$(grep -m3 -E 'ERROR|runtime error' "$f" | tr '\n' ' ' | head -c 500)"
		mv "$f" "$tmp/seen.${f##*/}"
	done
}

# ---- argument checks (no privileges, nothing opened) ----

# refused NAME WANT ARGS...: exit 2 and one line on stderr containing WANT.
refused() {
	local name=$1 want=$2 rc
	shift 2
	"$bin" serve "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qF -- "$want" "$tmp/err" && [ ! -s "$tmp/out" ]; then
		ok "$name"
	else
		bad "$name" "exit $rc, stderr: $(head -c 300 "$tmp/err" | tr '\n' '|')"
	fi
}
link=(--tun sqnone0 --addr 10.79.0.2/24)
refused "--threads 0 refused" "--threads: 0 is out of range [1, 64]" "${link[@]}" --echo --threads 0
refused "--threads 1000 refused" "--threads: 1000 is out of range [1, 64]" "${link[@]}" --echo --threads 1000
refused "--threads two refused" "--threads: 'two' is not a non-negative decimal integer" "${link[@]}" --echo --threads two
refused "--threads without a value refused" "threads" "${link[@]}" --echo --threads
refused "--threads 2 with --kernel refused" "with --kernel the OS's sockets serve" --kernel --echo --threads 2
refused "--threads 2 with --tap refused" "--threads needs a TUN device" --tap sqnone1 --addr 10.79.0.2/24 --echo --threads 2
refused "--threads 2 with --tls refused" "--threads with --tls is not supported yet" "${link[@]}" --echo --threads 2 \
	--tls --cert /nonexistent --key /nonexistent
refused "--threads 2 with impairments refused" "--threads with impairments" "${link[@]}" --echo --threads 2 --loss 1
"$bin" serve --help >"$tmp/help" 2>&1
grep -q -- '--threads N' "$tmp/help" && grep -q -- '--pin' "$tmp/help" && grep -q -- '--rr' "$tmp/help"
check "serve --help documents --threads, --pin and --rr" $?
# --pin beyond the CPUs this process may use: one line, exit 1, before any device is opened
cpus=$(nproc)
if [ "$cpus" -lt 64 ]; then
	"$bin" serve "${link[@]}" --echo --threads $((cpus + 1)) --pin >/dev/null 2>"$tmp/err" </dev/null
	rc=$?
	[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^synack: serve: --pin: CPU $cpus is not available" "$tmp/err"
	check "--pin with more threads than CPUs: one line, exit 1" $? "exit $rc: $(head -c 300 "$tmp/err")"
fi
san_check "argument checks"

# ---- in a namespace ----

[ -c /dev/net/tun ] || { skip "multi-queue TUN checks: no /dev/net/tun (load the tun module)"; summary; exit $((failed > 0)); }
for old in $(ip netns list 2>/dev/null | awk '/^synack-threads-[0-9]+/ {print $1}'); do
	kill -0 "${old#synack-threads-}" 2>/dev/null || ip netns del "$old" 2>/dev/null
done
if ! ip netns add "$NS" 2>/dev/null; then
	skip "multi-queue TUN checks: no CAP_NET_ADMIN: cannot create a network namespace (run as root)"
	summary
	exit $((failed > 0))
fi
have_ns=1
nsx() { ip netns exec "$NS" "$@"; }
# bg CMD...: CMD in the namespace in the background; $! is its pid (ip
# execs it). Never a shell function in the background.
bg() {
	ip netns exec "$NS" "$@" &
	pids+=($!)
}
nsx ip link set lo up
wait_listen() { # wait_listen FILE: up to 5 s for serve's "listening" line
	local i
	for i in $(seq 100); do grep -qs listening "$1" && return 0; sleep 0.05; done
	return 1
}
# stop PID: SIGINT, wait; the exit status (124 if it had to be killed).
stop() {
	local i
	kill -INT "$1" 2>/dev/null
	for i in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}
# thread_conns FILE I: the connections thread I reported (--counters).
thread_conns() {
	sed -n "s/^synack: serve: thread $2: \([0-9]*\) connections, \([0-9]*\) completed, 0 failed\$/\1/p" "$1"
}

# 200 kernel connections, 20 at a time, each with its own 2000-byte
# message echoed back whole (then the client half-closes and reads the
# server's FIN). Prints "OK N" with N the connections that got their echo.
cat >"$tmp/echo.py" <<'EOF'
import socket, sys, threading
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
good = [0] * n
def one(i):
    msg = (b"%05d:" % i) * 333 + b"xx"
    try:
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(msg)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
        s.close()
        good[i] = got == msg
    except OSError as e:
        print("connection %d: %s" % (i, e), file=sys.stderr)
def batch(lo, hi):
    for i in range(lo, hi):
        one(i)
ts = [threading.Thread(target=batch, args=(k * n // 20, (k + 1) * n // 20)) for k in range(20)]
for t in ts: t.start()
for t in ts: t.join()
print("OK", sum(good))
EOF

# sq0: synack makes the device (--host-addr), 2 queues, --echo.
bg "$bin" serve --tun sq0 --addr 10.71.0.2/24 --host-addr 10.71.0.1/24 --port 7 --echo --threads 2 --counters 2>"$tmp/s0.err"
srv=$!
if ! wait_listen "$tmp/s0.err"; then
	bad "serve --threads 2 starts on a device it creates" "$(head -c 400 "$tmp/s0.err" | tr '\n' '|')"
else
	ok "serve --threads 2 starts on a device it creates"
	flags=$(nsx cat /sys/class/net/sq0/tun_flags 2>/dev/null)
	nq=$(nsx ip -d link show sq0 | sed -n 's/.*numqueues \([0-9]*\).*/\1/p')
	[ -n "$flags" ] && [ $((flags & 0x100)) -ne 0 ] && [ "$nq" = 2 ]
	check "the device is multi-queue (IFF_MULTI_QUEUE) with 2 queues attached" $? "tun_flags $flags, numqueues $nq"
	grep -q "listening on 10.71.0.2 port 7 (tun, mtu [0-9]*, 2 threads)" "$tmp/s0.err"
	check "one listening line for both threads" $? "$(grep listening "$tmp/s0.err")"
	nsx timeout 60 python3 "$tmp/echo.py" 10.71.0.2 7 200 >"$tmp/echo.out" 2>"$tmp/echo.err"
	grep -qx "OK 200" "$tmp/echo.out"
	check "200 kernel connections, each gets its 2000-byte echo" $? "$(cat "$tmp/echo.out") $(head -c 300 "$tmp/echo.err")"
	# a second server, one queue, on the multi-queue device: refused in one line
	nsx "$bin" serve --tun sq0 --addr 10.71.0.2/24 --port 8 --echo >/dev/null 2>"$tmp/err" </dev/null
	rc=$?
	[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "device sq0 is a multi-queue device" "$tmp/err"
	check "one queue on a multi-queue device in use: one line, exit 1" $? "exit $rc: $(cat "$tmp/err")"
	stop "$srv"
	rc=$?
	check "SIGINT ends all threads, exit 0" "$rc" "exit $rc"
	c0=$(thread_conns "$tmp/s0.err" 0)
	c1=$(thread_conns "$tmp/s0.err" 1)
	[ -n "$c0" ] && [ -n "$c1" ] && [ "$c0" -gt 0 ] && [ "$c1" -gt 0 ]
	check "per-thread counters: both threads served connections (thread 0: ${c0:-?}, thread 1: ${c1:-?})" $? \
		"$(grep -E 'thread [01]: [0-9]+ connections' "$tmp/s0.err" | tr '\n' '|')"
	p0=$(sed -n 's/^synack: serve: thread 0: tcp_passive_opens *\([0-9]*\)$/\1/p' "$tmp/s0.err")
	[ "${p0:-x}" = "$c0" ]
	check "each thread's stack counters are its own (thread 0: tcp_passive_opens = its connections)" $? "passive opens ${p0:-none}, connections ${c0:-none}"
	nsx ip link show sq0 >/dev/null 2>&1
	check "the device synack created is gone after exit" $((!$?))
fi
san_check "serve --threads 2 --echo"

# sq1: a persistent multi-queue device made here (as a user would, once);
# synack attaches 2 queues without --host-addr and leaves it as it was.
nsx ip tuntap add dev sq1 mode tun multi_queue && nsx ip addr add 10.72.0.1/24 dev sq1 && nsx ip link set sq1 up
bg "$bin" serve --tun sq1 --addr 10.72.0.2/24 --port 7 --rr --threads 2 --counters 2>"$tmp/s1.err"
srv=$!
if ! wait_listen "$tmp/s1.err"; then
	bad "serve --threads 2 --rr on an existing multi-queue device" "$(head -c 400 "$tmp/s1.err" | tr '\n' '|')"
else
	nq=$(nsx ip -d link show sq1 | sed -n 's/.*numqueues \([0-9]*\).*/\1/p')
	check "serve --threads 2 --rr attaches 2 queues to an existing multi-queue device" $(($nq != 2)) "numqueues $nq"
	if [ -x "$client" ]; then
		nsx "$client" 10.72.0.2 7 2 4 >"$tmp/crr.out" 2>"$tmp/crr.err"
		conns=$(sed -n 's/^conns=\([0-9]*\) errors=0 .*/\1/p' "$tmp/crr.out")
		[ -n "$conns" ] && [ "$conns" -gt 100 ]
		check "--rr: CRR exchanges (1-byte request, 1-byte response, server's FIN) for 2 s, none failed" $? \
			"$(cat "$tmp/crr.out") $(head -c 200 "$tmp/crr.err")"
	fi
	stop "$srv"
	check "--rr --threads 2: exit 0" $?
	if [ -x "$client" ]; then
		c0=$(thread_conns "$tmp/s1.err" 0)
		c1=$(thread_conns "$tmp/s1.err" 1)
		[ -n "$c0" ] && [ -n "$c1" ] && [ "$c0" -gt 0 ] && [ "$c1" -gt 0 ]
		check "--rr: both threads served, every connection completed (thread 0: ${c0:-?}, thread 1: ${c1:-?})" $? \
			"$(grep -E 'thread [01]: ' "$tmp/s1.err" | head -n 6 | tr '\n' '|')"
	else
		skip "--rr CRR exchanges: no $client (make tests builds it)"
	fi
	nq=$(nsx ip -d link show sq1 | sed -n 's/.*numqueues \([0-9]*\).*/\1/p')
	nsx ip -4 addr show dev sq1 | grep -q "10.72.0.1/24"
	check "after exit the device stays, its address kept, no queue left attached" $(($? != 0 || nq != 0)) "numqueues $nq"
	if command -v ethtool >/dev/null; then
		nsx ethtool -k sq1 >"$tmp/k" 2>&1
		grep -Eq '^[[:space:]]*tx-tcp-segmentation: off' "$tmp/k"
		check "offloads switched off on close (the next user may read no virtio-net header)" $? "$(grep segmentation "$tmp/k" | head -n 2 | tr '\n' ' ')"
	else
		skip "offloads switched off on close: no ethtool to read the device's features"
	fi
fi
san_check "serve --threads 2 --rr"

# sq3: a persistent multi-queue device without an address: --host-addr adds
# one (and sets the MTU) for the run; on exit both are undone, the device stays.
nsx ip tuntap add dev sq3 mode tun multi_queue
mtu0=$(nsx cat /sys/class/net/sq3/mtu)
bg "$bin" serve --tun sq3 --addr 10.74.0.2/24 --host-addr 10.74.0.1/24 --mtu 1400 --port 7 --echo --threads 2 2>"$tmp/s3.err"
srv=$!
if wait_listen "$tmp/s3.err"; then
	nsx ip -4 addr show dev sq3 | grep -q "10.74.0.1/24" && [ "$(nsx cat /sys/class/net/sq3/mtu)" = 1400 ]
	check "--host-addr on an existing multi-queue device: address and MTU set for the run" $?
	stop "$srv"
	nq=$(nsx ip -d link show sq3 | sed -n 's/.*numqueues \([0-9]*\).*/\1/p')
	! nsx ip -4 addr show dev sq3 | grep -q "10.74.0.1" && [ "$(nsx cat /sys/class/net/sq3/mtu)" = "$mtu0" ] && [ "$nq" = 0 ]
	check "after exit: the address it added removed, the MTU put back, no queue left" $? "numqueues $nq, mtu $(nsx cat /sys/class/net/sq3/mtu)"
else
	bad "--host-addr on an existing multi-queue device" "$(head -c 300 "$tmp/s3.err")"
fi
san_check "--host-addr on an existing multi-queue device"

# Queue mode mismatches: one line each, naming the fix.
nsx ip tuntap add dev sq2 mode tun && nsx ip link set sq2 up
nsx "$bin" serve --tun sq2 --addr 10.73.0.2/24 --echo --threads 2 >/dev/null 2>"$tmp/err" </dev/null
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "device sq2 exists without IFF_MULTI_QUEUE: .*multi_queue" "$tmp/err"
check "--threads 2 on a single-queue device: one line naming multi_queue, exit 1" $? "exit $rc: $(cat "$tmp/err")"
nsx "$bin" serve --tun sq1 --addr 10.72.0.2/24 --echo >/dev/null 2>"$tmp/err" </dev/null
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "device sq1 is a multi-queue device" "$tmp/err"
check "one queue on a multi-queue device: one line, exit 1" $? "exit $rc: $(cat "$tmp/err")"
san_check "queue mode mismatches"

# --pin on this machine's CPUs
if [ "$cpus" -ge 2 ]; then
	bg "$bin" serve --tun sq1 --addr 10.72.0.2/24 --port 7 --echo --threads 2 --pin 2>"$tmp/s2.err"
	srv=$!
	if wait_listen "$tmp/s2.err"; then
		aff=$(for t in /proc/"$srv"/task/*; do awk '/^Cpus_allowed_list/ {print $2}' "$t/status"; done | sort)
		# the main thread keeps every CPU; the two workers one each, 0 and 1
		[ "$(echo "$aff" | grep -cx 0)" -eq 1 ] && [ "$(echo "$aff" | grep -cx 1)" -eq 1 ]
		check "--pin: worker threads pinned to CPU 0 and CPU 1" $? "affinities: $(echo "$aff" | tr '\n' ' ')"
		stop "$srv"
		check "--pin: exit 0" $?
	else
		bad "--pin: serve starts" "$(head -c 300 "$tmp/s2.err")"
	fi
fi
san_check "--pin"

summary
[ "$failed" -eq 0 ]
