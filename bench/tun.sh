#!/usr/bin/env bash
# tun: bulk throughput between synack and the Linux kernel over a TUN device,
# beside kernel <-> kernel over a veth pair between two network namespaces,
# measured in the same run. Prints (stdout):
#   tun_rx synack=X baseline=Y ratio=X/Y MB/s    kernel sends, synack receives
#   tun_tx synack=X baseline=Y ratio=X/Y MB/s    synack sends, kernel receives
# and on a bad path (synack's goodput for N bytes each way: 2N over the
# two transfers' time, the harmonic mean of the directions, each on a '#'
# note; beside kernel -> kernel over the same impairment):
#   loss1_goodput ...  MB/s   iptables drops 1% in and out of the kernel
#                             beside synack (8 MiB each way); the baseline
#                             over the veth pair with one segment a packet
#                             (gso_max_segs 1: 1500-byte packets, as on
#                             synack's TUN), once with the loss in the
#                             sender's namespace, once in the receiver's
#   loss5_goodput ...  MB/s   the same with 5% (4 MiB)
#   rtt100_goodput ... MB/s   50 ms each way from synack's decorator
#                             (--delay 50; 16 MiB), the baseline across
#                             build/bench/relay with the same decorator
# and '#' notes on stderr. docs/BENCH.md describes the method.
#
# Needs CAP_NET_ADMIN (namespaces, TUN and veth devices), ip (iproute2) and
# python3 (the kernel-side peers); without them it prints
# "# tun: SKIP: <reason>" and both lines with synack=- baseline=-, exit 0.
# Exits 1 (that side's figure "error") if a transfer fails or loses bytes.
#
# Env: BENCH_TUN_BADPATH=0 (leave the bad-path lines out: '-'),
# BENCH_QUICK=1 (128 MiB instead of 1 GiB), BENCH_TUN_MB (size in MiB),
# BENCH_REPEAT (best of N, default 3; later repeats are dropped if the run
# gets long), SYNACK (the synack binary; default $BUILD/synack, where BUILD
# defaults to this tree's build/).
#
# Layout (all addresses inside namespaces made and removed by this script):
#   synack-bench-tun-PID    TUN sbt0: kernel 10.201.0.1/24, synack 10.201.0.2/24
#   synack-bench-veta-PID   veth sbva 10.202.0.1/24 (kernel sender)
#   synack-bench-vetb-PID   veth sbvb 10.202.0.2/24 (kernel receiver)
#   synack-bench-rla-PID    TUN sbra 10.203.1.1/16 (kernel sender)  } made by
#   synack-bench-rlb-PID    TUN sbrb 10.203.2.1/16 (kernel receiver) } the relay
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SYNACK:-${BUILD:-$root/build}/synack} # BUILD is relative to the current directory
case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
if [ -n "${BENCH_TUN_MB:-}" ]; then
	mb=$BENCH_TUN_MB
elif [ "${BENCH_QUICK:-0}" = 1 ]; then
	mb=128
else
	mb=1024
fi
N=$((mb << 20))
repeat=${BENCH_REPEAT:-3}
# One transfer may take this long (1 GiB at 36 MB/s); repeats
# start only while the whole run is under `budget` seconds.
xfer_to=$((mb >= 512 ? 30 : 20))
budget=$((mb >= 512 ? 60 : 30))

NS_T=synack-bench-tun-$$
NS_A=synack-bench-veta-$$
NS_B=synack-bench-vetb-$$
NS_RA=synack-bench-rla-$$
NS_RB=synack-bench-rlb-$$
R_A=10.203.1.1
T_HOST=10.201.0.1 T_SYN=10.201.0.2
V_A=10.202.0.1 V_B=10.202.0.2
PORT=5001
tmp=
pids=()
made_ns=()
syn_opts=() # impairment options of the synack side (bad-path runs)
loss_rules=()

note() { echo "# tun: $*" >&2; }
lines() { # lines RX-SYNACK RX-BASE TX-SYNACK TX-BASE
	fig tun_rx "$1" "$2"
	fig tun_tx "$3" "$4"
}
fig() { # fig NAME SYNACK BASELINE (each a number, '-' or 'error')
	local ratio=-
	case "$2$3" in *[!0-9.]* | '') ;; *) ratio=$(awk -v s="$2" -v k="$3" 'BEGIN { printf "%.2f", s / k }') ;; esac
	echo "$1 synack=$2 baseline=$3 ratio=$ratio MB/s"
}
skip() {
	note "SKIP: $1"
	lines - - - -
	fig loss1_goodput - -
	fig loss5_goodput - -
	fig rtt100_goodput - -
	exit 0
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local p ns
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
	[ -n "${relay_pid:-}" ] && kill "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null
	loss_off
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
command -v python3 >/dev/null || skip "python3 is missing (the kernel-side peers)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (load the tun module)"
# Namespaces of earlier runs killed outright (SIGKILL): their script is gone.
for old in $(ip netns list 2>/dev/null | awk '/^synack-bench-(tun|veta|vetb|rla|rlb)-[0-9]+/ {print $1}'); do
	kill -0 "${old##*-}" 2>/dev/null || ip netns del "$old" 2>/dev/null
done
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
ip netns add "$NS_T" 2>/dev/null || skip "no CAP_NET_ADMIN: cannot create a network namespace (run as root)"
made_ns+=("$NS_T")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-bench-tun.XXXXXX") || { note "mktemp failed"; exit 1; }

# ---- set-up ----

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
setup() {
	nsx "$NS_T" ip link set lo up &&
		nsx "$NS_T" ip tuntap add dev sbt0 mode tun &&
		nsx "$NS_T" ip addr add "$T_HOST/24" dev sbt0 &&
		nsx "$NS_T" ip link set sbt0 up || return 1
	ip netns add "$NS_A" && made_ns+=("$NS_A") &&
		ip netns add "$NS_B" && made_ns+=("$NS_B") || return 1
	nsx "$NS_A" ip link add sbva type veth peer name sbvb netns "$NS_B" &&
		nsx "$NS_A" ip addr add "$V_A/24" dev sbva &&
		nsx "$NS_B" ip addr add "$V_B/24" dev sbvb &&
		nsx "$NS_A" ip link set lo up && nsx "$NS_B" ip link set lo up &&
		nsx "$NS_A" ip link set sbva up && nsx "$NS_B" ip link set sbvb up
}
setup 2>"$tmp/setup.err" || skip "cannot create TUN/veth devices in a namespace (CAP_NET_ADMIN needed): $(head -c 200 "$tmp/setup.err")"

# Kernel-side peers: same program, same 256 KiB writes and reads, on both
# the TUN and the veth runs. Receivers count the bytes and time them from the
# first byte to the N-th (their own clock); they print "BYTES SECONDS".
cat >"$tmp/peer.py" <<'EOF'
import os, socket, sys, time

CHUNK = 1 << 18

def receive(read, n):
    buf = bytearray(CHUNK)
    total, t0, t1 = 0, None, None
    while True:
        k = read(buf)
        if not k:
            break
        if t0 is None:
            t0 = time.monotonic()
        total += k
        if t1 is None and total >= n:
            t1 = time.monotonic()
    if t1 is None:
        t1 = time.monotonic()
    print(total, "%.6f" % (t1 - (t0 or t1)), flush=True)

def source(port, n, ready, bind):
    """Listen, accept one client, send n bytes, half-close, wait for its EOF."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((bind, port))
    ls.listen(1)
    open(ready, "w").close()
    ls.settimeout(30)
    s, _ = ls.accept()
    send_all(s, n)
    s.close()

def send_all(s, n):
    """Send n bytes, half-close, read to the peer's EOF."""
    s.settimeout(None)
    mv = memoryview(bytes(CHUNK))
    left = n
    while left:
        left -= s.send(mv[:min(left, CHUNK)])
    s.shutdown(socket.SHUT_WR)
    while s.recv(CHUNK):
        pass

def connect(host, port):
    """Connect, retrying while the server comes up."""
    end = time.monotonic() + 10
    while True:
        try:
            return socket.create_connection((host, port), timeout=2)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)

def send(host, port, n):
    """Connect, send n bytes, half-close, wait for the peer's EOF (it has
    read them all); print "n seconds" from the connect to the EOF."""
    t0 = time.monotonic()
    send_all(connect(host, port), n)
    print(n, "%.6f" % (time.monotonic() - t0), flush=True)

def recv(host, port, n):
    """Connect (retrying while the server comes up), read to EOF."""
    s = connect(host, port)
    s.settimeout(None)
    receive(s.recv_into, n)

cmd = sys.argv[1]
if cmd == "source":
    source(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
elif cmd == "recv":
    recv(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
elif cmd == "send":
    send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
EOF

# ---- one transfer of each kind; each sets mbs (empty on failure) ----

t_start=$(date +%s)
elapsed() { echo $(($(date +%s) - t_start)); }
# bgrun NS CMD...: start CMD in namespace NS; its pid is appended to pids.
# ip execs the command, so the pid is the command's.
bgrun() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	pids+=($!)
}
# waitall: wait for the pids started since the last waitall (interruptibly,
# so a signal reaches the trap at once), then forget them.
waitall() {
	local p
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}
wait_file() { # wait_file PATH: up to 5 s
	local i
	for i in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.05; done
	return 1
}
# result LABEL FILE: FILE holds "BYTES SECONDS"; check BYTES = N; sets mbs
# to the MB/s (empty on failure) and appends the time to the note for LABEL.
result() {
	local bytes='' secs=''
	mbs=
	read -r bytes secs <"$2" 2>/dev/null
	if [ "${bytes:-}" != "$N" ] || [ -z "${secs:-}" ]; then
		note "$1: received ${bytes:-nothing} of $N bytes $(head -c 300 "$tmp/err" 2>/dev/null | tr '\n' ' ')"
		return 1
	fi
	mbs=$(awk -v n="$N" -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", n / s / 1e6 }')
	times[$1]="${times[$1]:-}${times[$1]:+, }$bytes B in $secs s"
	[ -n "$mbs" ]
}
declare -A times

# Baseline: kernel source server in A, kernel receiver in B, over the veth.
run_veth() {
	PORT=$((PORT + 1))
	rm -f "$tmp/ready" "$tmp/out" "$tmp/err"
	bgrun "$NS_A" timeout "$xfer_to" python3 "$tmp/peer.py" source "$PORT" "$N" "$tmp/ready" "$V_A" 2>"$tmp/err"
	wait_file "$tmp/ready" &&
		bgrun "$NS_B" timeout "$xfer_to" python3 "$tmp/peer.py" recv "$V_A" "$PORT" "$N" >"$tmp/out" 2>>"$tmp/err"
	waitall
	result "$1" "$tmp/out"
}

# tun_rx: kernel sender in T -> `synack serve --discard` in T: synack
# receives and drops the bytes in its own process, as the kernel baseline's
# receiver reads and drops them from its socket. (Until issue 12 this was
# `synack connect` writing to a pipe read by a second process: a copy and a
# process hop the baseline does not make, 0.45-0.6x of it on its own.) The
# sender times from its connect to the server's EOF, which synack sends
# once it has read the N-th byte.
run_rx() {
	PORT=$((PORT + 1))
	rm -f "$tmp/out" "$tmp/err"
	bgrun "$NS_T" timeout "$xfer_to" "$bin" serve --tun sbt0 --addr "$T_SYN/24" "${syn_opts[@]}" --port "$PORT" --discard 2>"$tmp/err"
	local srv=$! i
	for i in $(seq 100); do grep -qs listening "$tmp/err" && break; sleep 0.05; done
	bgrun "$NS_T" timeout "$xfer_to" python3 "$tmp/peer.py" send "$T_SYN" "$PORT" "$N" >"$tmp/out" 2>>"$tmp/err"
	wait $! 2>/dev/null
	kill -INT "$srv" 2>/dev/null # serve runs until interrupted
	waitall
	result "${1:-tun_rx}" "$tmp/out"
}

# tun_tx: `synack serve --source N` in T -> kernel receiver in T.
run_tx() {
	PORT=$((PORT + 1))
	rm -f "$tmp/out" "$tmp/err"
	bgrun "$NS_T" timeout "$xfer_to" "$bin" serve --tun sbt0 --addr "$T_SYN/24" "${syn_opts[@]}" --port "$PORT" --source "$N" 2>"$tmp/err"
	local srv=$! i
	for i in $(seq 100); do grep -qs listening "$tmp/err" && break; sleep 0.05; done
	bgrun "$NS_T" timeout "$xfer_to" python3 "$tmp/peer.py" recv "$T_SYN" "$PORT" "$N" >"$tmp/out" 2>>"$tmp/err"
	wait $! 2>/dev/null
	kill -INT "$srv" 2>/dev/null # serve runs until interrupted
	waitall
	result "${1:-tun_tx}" "$tmp/out"
}

# Kernel counters of the TUN namespace: TCP segments retransmitted by the
# kernel, and packets the TUN device dropped (queue full: synack not reading).
retrans() { nsx "$NS_T" awk '/^Tcp:/ { if (h) print $13; h = 1 }' /proc/net/snmp; }
drops() { nsx "$NS_T" cat /sys/class/net/sbt0/statistics/tx_dropped; }

best() { # best CURRENT NEW: the larger number, or whichever is set
	if [ -z "$2" ]; then echo "$1"; elif [ -z "$1" ]; then echo "$2"; else
		awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; fi
}

rx_s='' rx_k='' tx_s='' tx_k='' status=0
r0=$(retrans) d0=$(drops)
runs=0
for i in $(seq "$repeat"); do
	[ "$i" -gt 1 ] && [ "$(elapsed)" -ge "$budget" ] && break
	runs=$i
	run_veth "baseline rx" || status=1
	rx_k=$(best "$rx_k" "$mbs")
	run_rx || status=1
	rx_s=$(best "$rx_s" "$mbs")
	run_veth "baseline tx" || status=1
	tx_k=$(best "$tx_k" "$mbs")
	run_tx || status=1
	tx_s=$(best "$tx_s" "$mbs")
done
r1=$(retrans) d1=$(drops)

# ---- a bad path: loss (iptables) and a 100 ms round trip (the decorator) ----

# loss_on PROBABILITY NS...: iptables drops that share of the packets each
# namespace's kernel receives and sends (this kernel has no netem).
loss_on() {
	local p=$1 ns chain
	shift
	for ns in "$@"; do
		for chain in INPUT OUTPUT; do
			nsx "$ns" iptables -A "$chain" -m statistic --mode random --probability "$p" -j DROP || return 1
			loss_rules+=("$ns $chain $p")
		done
	done
}
loss_off() {
	local r ns chain p
	for r in "${loss_rules[@]}"; do
		read -r ns chain p <<<"$r"
		nsx "$ns" iptables -D "$chain" -m statistic --mode random --probability "$p" -j DROP 2>/dev/null
	done
	loss_rules=()
}
# The relay: two TUN devices, one in each of two namespaces, joined by
# synack's decorator (bench/relay.c); it puts itself into the namespaces.
relay=$(dirname "$bin")/bench/relay
relay_pid=
start_relay() { # start_relay RELAY-OPTION...: (re)start the relay
	if [ -n "$relay_pid" ]; then
		kill "$relay_pid" 2>/dev/null
		wait "$relay_pid" 2>/dev/null
		sleep 0.2 # its devices go with its descriptors
	else
		ip netns add "$NS_RA" && made_ns+=("$NS_RA") && ip netns add "$NS_RB" && made_ns+=("$NS_RB") &&
			nsx "$NS_RA" ip link set lo up && nsx "$NS_RB" ip link set lo up || return 1
	fi
	rm -f "$tmp/relay.out"
	"$relay" "/run/netns/$NS_RA" sbra "$R_A/16" "/run/netns/$NS_RB" sbrb 10.203.2.1/16 "$@" >"$tmp/relay.out" 2>&1 &
	relay_pid=$! # not in pids: waitall would wait for it for ever
	local i
	for i in $(seq 100); do grep -qs ready "$tmp/relay.out" && return 0; sleep 0.05; done
	return 1
}
# Baseline across the relay: kernel source in RA, kernel receiver in RB.
run_relay() {
	PORT=$((PORT + 1))
	rm -f "$tmp/ready" "$tmp/out" "$tmp/err"
	bgrun "$NS_RA" timeout "$xfer_to" python3 "$tmp/peer.py" source "$PORT" "$N" "$tmp/ready" "$R_A" 2>"$tmp/err"
	wait_file "$tmp/ready" &&
		bgrun "$NS_RB" timeout "$xfer_to" python3 "$tmp/peer.py" recv "$R_A" "$PORT" "$N" >"$tmp/out" 2>>"$tmp/err"
	waitall
	result "$1" "$tmp/out"
}
# both A B: the goodput of moving N bytes each way, one after the other:
# 2N / (N/A + N/B), the harmonic mean (a slow direction is not hidden by
# a fast one); empty if either failed.
both() {
	[ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", 2 / (1 / a + 1 / b) }'
}
# gso_segs N: the most segments the veth pair hands on in one packet (1 for
# the bad-path baseline, so that iptables drops 1500-byte packets as on
# synack's TUN; 65535 again after).
gso_segs() {
	nsx "$NS_A" ip link set sbva gso_max_segs "$1" && nsx "$NS_B" ip link set sbvb gso_max_segs "$1"
}
# bad_loss NAME PROBABILITY MIB: sets fig_s, fig_k. Each side is the
# harmonic mean of two transfers that mirror each other: synack receives
# with the loss in the kernel sender's namespace and sends with it in the
# kernel receiver's; the baseline, kernel -> kernel over the veth pair (one
# segment a packet, no relay: the same short round trip and no queue, as
# synack's TUN), runs once with the loss in the sender's namespace and once
# in the receiver's. Where the rules sit matters: a packet its own kernel's
# OUTPUT chain drops is one that kernel knows was not sent and sends again
# at once, not a loss on the path.
bad_loss() {
	local s_rx s_tx k_snd k_rcv
	N=$(($3 << 20)) fig_s=error fig_k=error
	loss_on "$2" "$NS_T" 2>"$tmp/iptables.err" || { note "$1: iptables failed: $(head -c 200 "$tmp/iptables.err")"; loss_off; return 1; }
	# --no-offload, and one segment a packet from the kernel (as on the veth
	# baseline): iptables then drops 1500-byte packets both ways (with
	# offloads or the kernel's own GSO a drop takes up to 64 KiB at once)
	syn_opts=(--no-offload)
	nsx "$NS_T" ip link set sbt0 gso_max_segs 1 2>/dev/null || note "$1: cannot set gso_max_segs on the TUN"
	run_rx "$1 rx" && s_rx=$mbs
	run_tx "$1 tx" && s_tx=$mbs
	syn_opts=()
	nsx "$NS_T" ip link set sbt0 gso_max_segs 65535 2>/dev/null
	loss_off
	if gso_segs 1 2>"$tmp/gso.err"; then
		loss_on "$2" "$NS_A" && run_veth "$1 baseline, loss at the sender" && k_snd=$mbs
		loss_off
		loss_on "$2" "$NS_B" && run_veth "$1 baseline, loss at the receiver" && k_rcv=$mbs
		loss_off
	else
		note "$1: cannot set gso_max_segs on the veth pair: $(head -c 200 "$tmp/gso.err")"
	fi
	gso_segs 65535 2>/dev/null
	fig_s=$(both "${s_rx:-}" "${s_tx:-}")
	fig_s=${fig_s:-error}
	fig_k=$(both "${k_snd:-}" "${k_rcv:-}")
	fig_k=${fig_k:-error}
	note "$1: synack rx ${s_rx:-failed} MB/s, tx ${s_tx:-failed} MB/s; kernel -> kernel ${k_snd:-failed} MB/s (loss at the sender), ${k_rcv:-failed} MB/s (at the receiver)"
}
bad_rtt() {
	local s_rx s_tx
	N=$((16 << 20)) fig_s=error fig_k=error
	syn_opts=(--delay 50 --queue 65536 --impair-seed 1)
	run_rx "rtt100 rx" && s_rx=$mbs
	run_tx "rtt100 tx" && s_tx=$mbs
	syn_opts=()
	if start_relay --delay 50 --seed 1; then
		run_relay "rtt100 baseline" && fig_k=$mbs
	else
		note "rtt100: the relay did not start: $(head -c 200 "$tmp/relay.out")"
	fi
	fig_s=$(both "${s_rx:-}" "${s_tx:-}")
	fig_s=${fig_s:-error}
	note "rtt100: synack rx ${s_rx:-failed} MB/s, tx ${s_tx:-failed} MB/s; kernel -> kernel ${fig_k} MB/s"
}
bad_lines=()
N_main=$N
if [ "${BENCH_TUN_BADPATH:-1}" = 0 ]; then
	bad_lines=("loss1_goodput - -" "loss5_goodput - -" "rtt100_goodput - -")
elif ! command -v iptables >/dev/null; then
	note "iptables is missing: no loss lines"
	bad_lines=("loss1_goodput - -" "loss5_goodput - -")
else
	xfer_to=40
	bad_loss loss1 0.01 8 || status=1
	bad_lines+=("loss1_goodput $fig_s $fig_k")
	bad_loss loss5 0.05 4 || status=1
	bad_lines+=("loss5_goodput $fig_s $fig_k")
fi
if [ "${BENCH_TUN_BADPATH:-1}" != 0 ]; then
	xfer_to=40
	bad_rtt
	bad_lines+=("rtt100_goodput $fig_s $fig_k")
fi
N=$N_main

note "$N bytes per transfer ($mb MiB), best of $runs run(s) of each; MTU 1500 on TUN and veth; $(elapsed) s in all"
for k in tun_rx "baseline rx" tun_tx "baseline tx"; do note "$k: ${times[$k]:-failed}"; done
note "kernel TCP retransmissions on the TUN: $((r1 - r0)) segments; TUN tx drops (synack not reading fast enough): $((d1 - d0))"
lines "${rx_s:-error}" "${rx_k:-error}" "${tx_s:-error}" "${tx_k:-error}"
for l in "${bad_lines[@]}"; do
	# shellcheck disable=SC2086 # NAME SYNACK BASELINE
	fig $l
	case "$l" in *error*) status=1 ;; esac
done
exit $status
