#!/usr/bin/env bash
# synflood: legitimate connections during a spoofed SYN flood (issue 11),
# synack beside the Linux kernel, measured in the same run. Prints (stdout):
#   synflood_connects synack=X baseline=Y ratio=X/Y %
#       the percentage of legitimate echo connections, made by the kernel
#       during and right after a flood of spoofed SYNs (hping3 -S
#       --rand-source -i u20), that completed an echo exchange: against
#       `synack serve --echo` on TUN, and against a kernel echo server
#       across a veth pair flooded the same way (same flood, same count and
#       pacing of connections)
#   synflood_rss synack=AFTER baseline=BEFORE ratio=AFTER/BEFORE KiB
#       synack serve's VmRSS (/proc/PID/status) after the flood and the
#       connections, beside its own VmRSS before the flood: memory should
#       stay flat (SYN cookies keep no state per spoofed SYN)
# and '#' notes on stderr (flood rate, connection times, failures, kernel
# SYN-cookie counters, TUN drops, synack's RSS during the flood). docs/BENCH.md
# describes the method. Nothing is tuned: both sides run with their
# defaults (synack: syncookies=1, backlog 1024 = its SYN-RECEIVED queue;
# kernel: net.ipv4.tcp_syncookies=1, the namespace's default, and Python's
# default listen() backlog, min(SOMAXCONN, 128) = 128).
#
# Needs CAP_NET_ADMIN (namespaces, TUN and veth devices), ip (iproute2),
# python3 (the clients and the kernel echo server) and hping3; without
# them it prints "# synflood: SKIP: <reason>" and both lines with '-',
# exit 0. Exits 1 (that figure "error") if a side cannot be measured
# (server does not start, no flood).
#
# Env: BENCH_QUICK=1 (30,000 SYNs, 80 + 20 connections instead of 50,000,
# 150 + 50), BENCH_FLOOD_SYNS (the flood's size), SYNACK (the synack
# binary; default $BUILD/synack, where BUILD defaults to this tree's build/).
#
# Layout (all devices and addresses inside namespaces made and removed by
# this script; the machine's own namespace is not touched):
#   synack-bench-flood-PID  TUN sbf0: kernel 10.205.0.1/24 (clients, hping3),
#                           synack 10.205.0.2/24, gateway 10.205.0.1 (its
#                           SYN-ACKs to spoofed sources go back to the
#                           kernel, which does not forward them)
#   synack-bench-flka-PID   veth sbfa 10.206.0.1/24 (clients, hping3)
#   synack-bench-flkb-PID   veth sbfb 10.206.0.2/24 (kernel echo server),
#                           default route via 10.206.0.1: its SYN-ACKs to
#                           spoofed sources are sent back across the veth
#                           (as synack's are), and dropped there
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SYNACK:-${BUILD:-$root/build}/synack} # BUILD is relative to the current directory
case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	syns=30000 n_during=80 n_after=20
else
	syns=50000 n_during=150 n_after=50
fi
syns=${BENCH_FLOOD_SYNS:-$syns}
gap=0.01        # seconds between the starts of two legitimate connections
conn_to=5       # seconds a connection may take (connect + echo)
flood_to=20     # seconds the flood may take (hping3 is killed after)
during_to=15    # no connection during the flood is started after this (s)
after_to=8      # nor after it
if [ "${BENCH_QUICK:-0}" = 1 ]; then flood_to=12 during_to=8 after_to=5; fi
PORT=7

NS_T=synack-bench-flood-$$
NS_A=synack-bench-flka-$$
NS_B=synack-bench-flkb-$$
T_HOST=10.205.0.1 T_SYN=10.205.0.2
V_A=10.206.0.1 V_B=10.206.0.2
tmp=
pids=()
made_ns=()

note() { echo "# synflood: $*" >&2; }
fig() { # fig NAME SYNACK BASELINE UNIT (each a number, '-' or 'error')
	local ratio=-
	case "$2$3" in *[!0-9.]* | '') ;; *) ratio=$(awk -v s="$2" -v k="$3" 'BEGIN { if (k > 0) printf "%.2f", s / k; else print "-" }') ;; esac
	echo "$1 synack=$2 baseline=$3 ratio=$ratio $4"
}
lines() { # lines CONNECTS-SYNACK CONNECTS-BASE RSS-AFTER RSS-BEFORE
	fig synflood_connects "$1" "$2" %
	fig synflood_rss "$3" "$4" KiB
}
skip() {
	note "SKIP: $1"
	lines - - - -
	exit 0
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local p ns
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
	for ns in "${made_ns[@]}"; do
		# Kill anything still in the namespace (ours only: nobody else
		# knows its name), then remove it; its devices go with it.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	made_ns=()
	[ -n "$tmp" ] && rm -rf "$tmp"
}

# ---- preconditions ----

[ -x "$bin" ] || { note "$bin is not built (run make)"; lines error error error error; exit 1; }
command -v ip >/dev/null || skip "ip (iproute2) is missing"
command -v python3 >/dev/null || skip "python3 is missing (the clients and the kernel echo server)"
command -v hping3 >/dev/null || skip "hping3 is missing (the flood; scripts/deps.sh bench installs it)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (load the tun module)"
# Namespaces of earlier runs killed outright (SIGKILL): their script is gone.
for old in $(ip netns list 2>/dev/null | awk '/^synack-bench-(flood|flka|flkb)-[0-9]+/ {print $1}'); do
	if ! kill -0 "${old##*-}" 2>/dev/null; then
		for p in $(ip netns pids "$old" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$old" 2>/dev/null
	fi
done
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
ip netns add "$NS_T" 2>/dev/null || skip "no CAP_NET_ADMIN: cannot create a network namespace (run as root)"
made_ns+=("$NS_T")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-bench-flood.XXXXXX") || { note "mktemp failed"; exit 1; }

# ---- set-up ----

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
setup() {
	nsx "$NS_T" ip link set lo up &&
		nsx "$NS_T" ip tuntap add dev sbf0 mode tun &&
		nsx "$NS_T" ip addr add "$T_HOST/24" dev sbf0 &&
		nsx "$NS_T" ip link set sbf0 up || return 1
	ip netns add "$NS_A" && made_ns+=("$NS_A") &&
		ip netns add "$NS_B" && made_ns+=("$NS_B") || return 1
	nsx "$NS_A" ip link add sbfa type veth peer name sbfb netns "$NS_B" &&
		nsx "$NS_A" ip addr add "$V_A/24" dev sbfa &&
		nsx "$NS_B" ip addr add "$V_B/24" dev sbfb &&
		nsx "$NS_A" ip link set lo up && nsx "$NS_B" ip link set lo up &&
		nsx "$NS_A" ip link set sbfa up && nsx "$NS_B" ip link set sbfb up &&
		nsx "$NS_B" ip route add default via "$V_A"
}
setup 2>"$tmp/setup.err" || skip "cannot create TUN/veth devices in a namespace (CAP_NET_ADMIN needed): $(head -c 200 "$tmp/setup.err")"

# The legitimate clients (the same program, count and pacing on both sides)
# and the kernel echo server.
cat >"$tmp/client.py" <<'EOF'
# client HOST PORT N GAP TIMEOUT DEADLINE: N echo connections, one started
# every GAP seconds (or when the previous one is done, if later); each must
# connect, send a line and read it back within TIMEOUT seconds. None is
# started after DEADLINE seconds: those count as failed. Prints each
# failure, then "times P50 P99 MAX" (ms, successful connections) and
# "ok GOOD of N".
import socket, sys, time
host, port, n, gap, to = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
end = time.monotonic() + float(sys.argv[6])
good, times = 0, []
for i in range(n):
    t = time.monotonic()
    if t > end:
        print("connections %d to %d: not started, past the %s s deadline" % (i, n - 1, sys.argv[6]))
        break
    msg = b"hello %d\n" % i
    try:
        with socket.create_connection((host, port), timeout=to) as s:
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                s.settimeout(max(0.001, to - (time.monotonic() - t)))
                b = s.recv(100)
                if not b:
                    break
                got += b
            if got == msg:
                good += 1
                times.append((time.monotonic() - t) * 1000)
            else:
                print("connection %d: echo %r" % (i, got))
    except OSError as e:
        print("connection %d: %s after %.0f ms" % (i, e, (time.monotonic() - t) * 1000))
    time.sleep(max(0.0, gap - (time.monotonic() - t)))
times.sort()
if times:
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print("times %.1f %.1f %.1f" % (pick(0.5), pick(0.99), times[-1]))
print("ok %d of %d" % (good, n), flush=True)
EOF
cat >"$tmp/echo.py" <<'EOF'
# echo HOST PORT: a kernel echo server on one thread (selectors), the
# listen backlog left to Python's default (min(SOMAXCONN, 128)).
import selectors, socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen()
ls.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is ls:
            while True:
                try:
                    c, _ = ls.accept()
                except (BlockingIOError, ConnectionAbortedError):
                    break
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
            continue
        try:
            data = s.recv(65536)
            if data:
                s.setblocking(True)
                s.settimeout(5)
                s.sendall(data)
                s.setblocking(False)
                continue
        except OSError:
            pass
        sel.unregister(s)
        s.close()
EOF

# ---- one side: flood and connections; sets pct (empty on failure) ----

bgrun() { # bgrun NS CMD...: start CMD in NS (ip execs it: $! is CMD's pid)
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	pids+=($!)
}
forget() { # forget PID: it has been reaped, cleanup need not kill it
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}
stop() { # stop PID: end one process we started, and reap it
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget "$1"
}
# clients NS ADDR N DEADLINE: the legitimate connections (client.py), the
# run bounded by DEADLINE (and a guard beyond it in case the client hangs)
clients() {
	nsx "$1" timeout -k 1 $(($4 + conn_to + 2)) python3 "$tmp/client.py" "$2" "$PORT" "$3" "$gap" "$conn_to" "$4"
}
child_of() { # child_of PID: the first child of PID (timeout's command)
	local c=
	read -r c _ <"/proc/$1/task/$1/children" 2>/dev/null
	echo "$c"
}
kib() { # kib PID FIELD: a VmRSS-style line of /proc/PID/status, in KiB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}
# kcount NS NAME...: TcpExt counters of a namespace's kernel, "NAME=V ..."
kcount() {
	local ns=$1
	shift
	# shellcheck disable=SC2016 # an awk program
	nsx "$ns" awk -v want="$*" '
		BEGIN { n = split(want, w, " ") }
		/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) name[i] = $i; h = 1 } else for (i = 2; i <= NF; i++) v[name[i]] = $i }
		END { for (i = 1; i <= n; i++) printf "%s%s=%s", (i > 1 ? " " : ""), w[i], (w[i] in v ? v[w[i]] : "?") }' /proc/net/netstat
}
kdiff() { # kdiff BEFORE AFTER: "NAME=A-B ..." (counters that moved)
	awk -v a="$1" -v b="$2" 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) { split(x[i], p, "="); split(y[i], q, "="); d = q[2] - p[2]
			if (d) { printf "%s%s=%d", (o ? " " : ""), p[1], d; o = 1 } }
		if (!o) printf "none" }'
}
parse() { # parse FILE: "GOOD N" from a client's "ok GOOD of N" line
	sed -n 's/^ok \([0-9]*\) of \([0-9]*\)$/\1 \2/p' "$1"
}

t_start=$(date +%s)
elapsed() { echo $(($(date +%s) - t_start)); }

# flood_watch FLOOD-PID [SERVER-PID]: until the flood ends, every 0.1 s; then
# prints the time it ended. With SERVER-PID, first a line "rss KIB..." of
# the server's VmRSS every 0.5 s meanwhile.
flood_watch() {
	local n=0 rss=()
	while kill -0 "$1" 2>/dev/null; do
		[ -n "${2:-}" ] && [ $((n % 5)) = 0 ] && rss+=("$(kib "$2" VmRSS)")
		n=$((n + 1))
		sleep 0.1
	done
	[ -n "${2:-}" ] && echo "rss ${rss[*]}"
	date +%s.%N
}
# flood_side LABEL CLIENT-NS SERVER-ADDR [SERVER-PID]: the flood from
# CLIENT-NS to SERVER-ADDR:PORT, legitimate connections from CLIENT-NS
# during it and right after it. The server is already up. Sets pct and
# appends notes (with SERVER-PID, its VmRSS during the flood).
flood_side() {
	local label=$1 ns=$2 dst=$3 fpid wpid still=0 t0 t1 sent d a dg dn ag an
	pct=
	rm -f "$tmp/hping.log" "$tmp/during.log" "$tmp/after.log" "$tmp/watch"
	t0=$(date +%s.%N)
	bgrun "$ns" timeout -k 2 "$flood_to" hping3 -S --rand-source -i u20 -c "$syns" -p "$PORT" "$dst" -q >"$tmp/hping.log" 2>&1
	fpid=$!
	flood_watch "$fpid" "${4:-}" >"$tmp/watch" &
	wpid=$!
	pids+=("$wpid")
	sleep 0.3
	clients "$ns" "$dst" "$n_during" "$during_to" >"$tmp/during.log" 2>&1
	kill -0 "$fpid" 2>/dev/null && still=1
	wait "$fpid" 2>/dev/null
	forget "$fpid"
	wait "$wpid" 2>/dev/null
	forget "$wpid"
	t1=$(tail -n 1 "$tmp/watch")
	clients "$ns" "$dst" "$n_after" "$after_to" >"$tmp/after.log" 2>&1
	sent=$(grep -o '[0-9]* packets transmitted' "$tmp/hping.log" | cut -d' ' -f1)
	d=$(parse "$tmp/during.log")
	a=$(parse "$tmp/after.log")
	read -r dg dn <<<"${d:-0 $n_during}"
	read -r ag an <<<"${a:-0 $n_after}"
	note "$label: hping3 sent ${sent:-?} of $syns spoofed SYNs in $(awk -v a="$t0" -v b="$t1" -v n="${sent:-0}" 'BEGIN { printf "%.1f s (%.0f/s)", b - a, n / (b - a) }'), still flooding when the connections during it were done: $([ "$still" = 1 ] && echo yes || echo no)"
	[ -z "${4:-}" ] || note "$label: VmRSS during the flood, every 0.5 s (KiB): $(sed -n 's/^rss //p' "$tmp/watch")"
	note "$label: echoed during the flood $dg of $dn (ms p50/p99/max: $(sed -n 's/^times //p' "$tmp/during.log" | tr ' ' /)), after it $ag of $an (ms: $(sed -n 's/^times //p' "$tmp/after.log" | tr ' ' /))"
	grep -hv '^ok \|^times ' "$tmp/during.log" "$tmp/after.log" | head -5 | while IFS= read -r l; do note "$label: failed: $l"; done
	if [ "${sent:-0}" -lt $((syns * 4 / 5)) ]; then
		note "$label: the flood fell short (${sent:-no} SYNs): $(tail -2 "$tmp/hping.log" | tr '\n' ' ')"
		return 1
	fi
	pct=$(awk -v g=$((dg + ag)) -v n=$((dn + an)) 'BEGIN { printf "%.1f", 100 * g / n }')
}
# wait_up NS ADDR: up to 10 s for one echo connection to succeed
wait_up() {
	local _
	for _ in $(seq 50); do
		nsx "$1" python3 "$tmp/client.py" "$2" "$PORT" 1 0 1 1 2>/dev/null | grep -q "^ok 1 of 1" && return 0
		sleep 0.2
	done
	return 1
}

status=0

# synack: serve --echo on TUN, flooded and connected to by the kernel beside it.
s_pct=error rss0=error rss1=error
bgrun "$NS_T" timeout -k 2 80 "$bin" serve --tun sbf0 --addr "$T_SYN/24" --gateway "$T_HOST" --port "$PORT" --echo 2>"$tmp/serve.log"
srv=$!
drop0=$(nsx "$NS_T" cat /sys/class/net/sbf0/statistics/tx_dropped)
if wait_up "$NS_T" "$T_SYN"; then
	spid=$(child_of "$srv")
	rss0=$(kib "$spid" VmRSS)
	if flood_side synack "$NS_T" "$T_SYN" "$spid"; then s_pct=$pct; else status=1; fi
	rss1=$(kib "$spid" VmRSS)
	note "synack: serve VmRSS ${rss0:-?} KiB before the flood, ${rss1:-?} KiB after it and the connections; TUN tx drops (synack's queue full): $(($(nsx "$NS_T" cat /sys/class/net/sbf0/statistics/tx_dropped) - drop0))"
	rss0=${rss0:-error} rss1=${rss1:-error}
else
	note "synack serve did not start: $(head -c 300 "$tmp/serve.log" | tr '\n' ' ')"
	status=1
fi
stop "$srv"

# Baseline: the kernel echo server across the veth, flooded the same way.
k_pct=error
names="SyncookiesSent SyncookiesRecv SyncookiesFailed TCPReqQFullDoCookies TCPReqQFullDrop ListenOverflows ListenDrops"
bgrun "$NS_B" timeout -k 2 80 python3 "$tmp/echo.py" "$V_B" "$PORT" 2>"$tmp/echo.log"
ksrv=$!
if wait_up "$NS_A" "$V_B"; then
	note "kernel: net.ipv4.tcp_syncookies=$(nsx "$NS_B" cat /proc/sys/net/ipv4/tcp_syncookies), listen backlog $(nsx "$NS_B" ss -Hltn "sport = :$PORT" | awk '{ print $3 }') (ss), somaxconn $(nsx "$NS_B" cat /proc/sys/net/core/somaxconn), tcp_max_syn_backlog $(nsx "$NS_B" cat /proc/sys/net/ipv4/tcp_max_syn_backlog) (defaults)"
	# shellcheck disable=SC2086 # one counter name a word
	c0=$(kcount "$NS_B" $names)
	if flood_side kernel "$NS_A" "$V_B"; then k_pct=$pct; else status=1; fi
	# shellcheck disable=SC2086 # one counter name a word
	note "kernel: TcpExt counters of the server's namespace during the run: $(kdiff "$c0" "$(kcount "$NS_B" $names)")"
else
	note "the kernel echo server did not start: $(head -c 300 "$tmp/echo.log" | tr '\n' ' ')"
	status=1
fi
stop "$ksrv"

note "$syns spoofed SYNs (hping3 -S --rand-source -i u20) per side; $n_during connections during the flood and $n_after after it, one every ${gap} s, ${conn_to} s each at most; $(elapsed) s in all"
lines "$s_pct" "$k_pct" "$rss1" "$rss0"
exit $status
