#!/usr/bin/env bash
# SYN flood: `synack serve --echo` on TUN inside a private network namespace
# takes 50,000 SYNs from random spoofed sources (hping3 -S --rand-source
# -i u20), while and right after which the kernel makes legitimate echo
# connections to it; at least 99% of them must succeed (SYN cookies,
# RFC 4987 §3.6: the SYN-RECEIVED queue is full of spoofed entries).
#
# Usage: tests/scripts/test-synflood.sh   (after `make`; as root or with
#        CAP_NET_ADMIN and hping3 installed, else it prints SKIP and passes)
#        SYNACK=path/to/synack tests/scripts/test-synflood.sh
# Prints one "ok ..." / "FAIL ..." / "SKIP: ..." line per check and a last
# line "test-synflood: N passed, N failed"; exits 1 if any check failed.
#
# Layout, inside namespace synack-flood-$$ (removed on exit):
#   sf0  TUN  kernel 10.9.0.1/24   synack server 10.9.0.2 (gateway 10.9.0.1,
#        so its SYN-ACKs to the spoofed sources go back to the kernel, which
#        does not forward them)
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SYNACK:-$root/build/synack}
NS=synack-flood-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-flood.XXXXXX")
pass=0
failed=0
srv_pid=
flood_pid=

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
summary() { echo "test-synflood: $pass passed, $failed failed"; }
skip_all() {
	echo "SKIP: $1"
	summary
	rm -rf "$tmp"
	exit 0
}
# (background jobs run `ip netns exec` directly: a function would put a
# subshell between $! and the process)
nsx() { ip netns exec "$NS" "$@"; }

cleanup() {
	[ -n "$flood_pid" ] && kill "$flood_pid" 2>/dev/null
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
	[ -n "$flood_pid" ] && wait "$flood_pid" 2>/dev/null
	[ -n "$srv_pid" ] && wait "$srv_pid" 2>/dev/null
	local left
	left=$(ip netns pids "$NS" 2>/dev/null)
	# shellcheck disable=SC2086 # one pid a word
	[ -z "$left" ] || kill -KILL $left 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}

[ -x "$bin" ] || skip_all "no $bin (run make first)"
command -v hping3 >/dev/null 2>&1 || skip_all "hping3 is not installed (scripts/deps.sh test)"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
ip netns add "$NS" 2>/dev/null || skip_all "cannot create a network namespace (needs CAP_NET_ADMIN)"
trap cleanup EXIT
trap 'exit 1' INT TERM

nsx ip link set lo up
{ nsx ip tuntap add dev sf0 mode tun && nsx ip addr add 10.9.0.1/24 dev sf0 && nsx ip link set sf0 up; } ||
	skip_all "cannot create a TUN device in the namespace"

ip netns exec "$NS" timeout --foreground -k 5 120 "$bin" serve --tun sf0 --addr 10.9.0.2/24 --gateway 10.9.0.1 --port 7 --echo \
	>"$tmp/serve.log" 2>&1 &
srv_pid=$!

cat >"$tmp/client.py" <<'EOF'
# n echo connections, one every gap seconds; prints "ok N of M" and each failure.
import socket, sys, time
n, gap = int(sys.argv[1]), float(sys.argv[2])
good = 0
for i in range(n):
    t = time.monotonic()
    msg = b"hello %d\n" % i
    try:
        with socket.create_connection(("10.9.0.2", 7), timeout=5) as s:
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                b = s.recv(100)
                if not b:
                    break
                got += b
            if got == msg:
                good += 1
            else:
                print("connection %d: echo %r" % (i, got))
    except OSError as e:
        print("connection %d: %s" % (i, e))
    time.sleep(max(0.0, gap - (time.monotonic() - t)))
print("ok %d of %d" % (good, n))
EOF

# the server is up when one connection echoes
up=1
for _ in $(seq 50); do
	if nsx python3 "$tmp/client.py" 1 0 2>/dev/null | grep -q "^ok 1 of 1"; then
		up=0
		break
	fi
	sleep 0.2
done
[ "$up" -eq 0 ] || skip_all "synack serve did not start: $(head -c 300 "$tmp/serve.log")"

# the flood, bounded in time; legitimate connections during it, then after it
ip netns exec "$NS" timeout -k 2 40 hping3 -S --rand-source -i u20 -c 50000 -p 7 10.9.0.2 -q >"$tmp/hping.log" 2>&1 &
flood_pid=$!
sleep 0.3
nsx python3 "$tmp/client.py" 150 0.01 >"$tmp/during.log" 2>&1
still=0
kill -0 "$flood_pid" 2>/dev/null && still=1
wait "$flood_pid"
flood_pid=
sent=$(grep -o '[0-9]* packets transmitted' "$tmp/hping.log" | cut -d' ' -f1)
nsx python3 "$tmp/client.py" 50 0.01 >"$tmp/after.log" 2>&1

d=$(sed -n 's/^ok \([0-9]*\) of \([0-9]*\)$/\1 \2/p' "$tmp/during.log")
a=$(sed -n 's/^ok \([0-9]*\) of \([0-9]*\)$/\1 \2/p' "$tmp/after.log")
read -r dg dn <<<"${d:-0 150}"
read -r ag an <<<"${a:-0 50}"
good=$((dg + ag))
total=$((dn + an))
detail="during the flood $dg of $dn (flood still running at the end: $still), after it $ag of $an; hping3 sent ${sent:-?} SYNs"
if [ "$((good * 100))" -ge "$((total * 99))" ]; then
	ok "$good of $total legitimate connections echoed under a 50,000-SYN spoofed flood ($detail)"
else
	bad "legitimate connections under a SYN flood: $good of $total, below 99% ($detail)" \
		"$(grep -v '^ok' "$tmp/during.log" "$tmp/after.log" | head -5)"
fi
if [ "${sent:-0}" -ge 40000 ]; then
	ok "the flood was a flood: ${sent} spoofed SYNs"
else
	bad "hping3 sent only ${sent:-no} SYNs" "$(tail -3 "$tmp/hping.log")"
fi

kill "$srv_pid" 2>/dev/null
wait "$srv_pid"
rc=$?
srv_pid=
if [ "$rc" -eq 0 ]; then
	ok "serve exits cleanly on SIGTERM after the flood"
else
	bad "serve exit status $rc after the flood" "$(tail -3 "$tmp/serve.log")"
fi

summary
[ "$failed" -eq 0 ]
