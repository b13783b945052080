#!/usr/bin/env bash
# Runs the examples that `make examples` built, as `make test` does
# (scripts/run-tests.sh), and shows how to run them by hand:
#  - two_stacks on the in-memory link: no privileges, no devices;
#  - echo_server and http_get over a TUN device in a private network
#    namespace, with the Linux kernel as the peer (a python3 client for the
#    echo server, python3 -m http.server for http_get). Creating the
#    namespace needs root (CAP_NET_ADMIN); without it those checks SKIP.
#
# Usage: examples/test-examples.sh     (BUILD=build-dir, default build)
# One "ok ..." / "FAIL ..." / "SKIP: ..." line per check; the last line is
# "test-examples: N passed, N failed"; exit status 1 if a check failed.
#
# Layout, all inside namespace synack-examples-$$ (removed on exit, also
# after a failure or an interruption):
#   ex0  TUN  kernel 10.77.0.1/24   synack 10.77.0.2
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/${BUILD:-build}/examples
NS=synack-examples-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-examples.XXXXXX")
pass=0
failed=0
pids=()

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -z "${2:-}" ] || sed 's/^/    /' "$2" | tail -n 30
}
summary() { echo "test-examples: $pass passed, $failed failed"; }
nsx() { ip netns exec "$NS" "$@"; }
# bg CMD...: run CMD in the namespace in the background (ip execs it, so $!
# is CMD's pid and killing $! reaches it).
bg() {
	ip netns exec "$NS" "$@" </dev/null &
	pids+=($!)
}
cleanup() {
	local p left
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	if ip netns list 2>/dev/null | grep -qw "$NS"; then
		left=$(ip netns pids "$NS" 2>/dev/null)
		# shellcheck disable=SC2086 # one pid a word
		[ -z "$left" ] || kill -KILL $left 2>/dev/null
		ip netns del "$NS" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# check NAME STATUS FILE PATTERN...: ok when STATUS is 0 and FILE has a line
# matching each (extended) PATTERN; else FAIL, showing FILE.
check() {
	local name=$1 rc=$2 file=$3 pat
	shift 3
	if [ "$rc" -ne 0 ]; then
		bad "$name (exit status $rc)" "$file"
		return 1
	fi
	for pat in "$@"; do
		if ! grep -qE -- "$pat" "$file"; then
			bad "$name (no line matching '$pat')" "$file"
			return 1
		fi
	done
	ok "$name"
}
# wait_for SECONDS CMD...: true once CMD succeeds, polling every 0.1 s.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
gone() { ! kill -0 "$1" 2>/dev/null; }
# stop_bg PID: SIGTERM, then its exit status (137 if it had to be killed).
stop_bg() {
	kill -TERM "$1" 2>/dev/null
	wait_for 5 gone "$1" || kill -KILL "$1" 2>/dev/null
	wait "$1"
}

for b in two_stacks echo_server http_get https_get; do
	if [ ! -x "$bin/$b" ]; then
		echo "FAIL $bin/$b is not built (make examples)"
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ] || {
	summary
	exit 1
}

# ---- two_stacks: the in-memory link, our own clock ----

timeout 60 "$bin/two_stacks" </dev/null >"$tmp/two.1" 2>&1
check "two_stacks: connect, exchange, close on both sides, nothing left" $? "$tmp/two.1" \
	'client +received "HELLO, SERVER", then the peer' \
	'client +conn [0-9]+: TIME-WAIT -> CLOSED' \
	'^two_stacks: done, both sides closed cleanly$'
timeout 60 "$bin/two_stacks" </dev/null >"$tmp/two.2" 2>&1
if cmp -s "$tmp/two.1" "$tmp/two.2"; then
	ok "two_stacks: a second run prints exactly the same lines (seeded, virtual time)"
else
	diff "$tmp/two.1" "$tmp/two.2" >"$tmp/two.diff"
	bad "two_stacks: a second run differs" "$tmp/two.diff"
fi

# ---- https_get: the TLS engine by hand on a kernel socket, against
# openssl s_server -www on loopback (no privileges) ----

if command -v openssl >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	timeout 60 openssl s_server -accept "127.0.0.1:$port" -cert "$tmp/cert.pem" -key "$tmp/key.pem" -www \
		-quiet </dev/null >"$tmp/s_server" 2>&1 &
	pids+=($!)
	listening_tls() { ss -Htln "sport = :$port" | grep -q LISTEN; }
	if ! wait_for 20 listening_tls; then
		bad "openssl s_server did not start" "$tmp/s_server"
	else
		timeout 30 "$bin/https_get" --ca "$tmp/cert.pem" localhost "$port" / >"$tmp/tls.page" 2>"$tmp/tls.err"
		rc=$?
		cat "$tmp/tls.err" >>"$tmp/tls.page"
		check "https_get: a page from openssl s_server over TLS 1.3, verified, ended by close_notify" $rc \
			"$tmp/tls.page" '^HTTP/1\.0 200 ok' '^https_get: TLSv1\.3, TLS_AES_(128|256)_GCM_SHA(256|384), x25519$' \
			'^https_get: done \(close_notify\)$'
		timeout 30 "$bin/https_get" localhost "$port" / >"$tmp/tls.bad" 2>&1
		[ $? -eq 1 ]
		check "https_get: without the CA the server is refused: exit status 1, unknown_ca" $? "$tmp/tls.bad" \
			'^https_get: sent unknown_ca: peer certificate: '
	fi
else
	echo "SKIP: https_get: no openssl command (package openssl)"
fi

# ---- echo_server and http_get: TUN, the kernel as the peer ----

skip_rest() {
	echo "SKIP: echo_server, http_get: $1"
	summary
	[ "$failed" -eq 0 ]
	exit
}
[ -c /dev/net/tun ] || skip_rest "no /dev/net/tun (load the tun module)"
command -v python3 >/dev/null || skip_rest "python3 is missing (scripts/deps.sh test installs it)"
command -v ss >/dev/null || skip_rest "ss is missing (iproute2)"
# Namespaces of earlier runs killed outright (no chance to clean up).
for old in $(ip netns list 2>/dev/null | awk '/^synack-examples-[0-9]+/ {print $1}'); do
	kill -0 "${old#synack-examples-}" 2>/dev/null || ip netns del "$old" 2>/dev/null
done
ip netns add "$NS" 2>/dev/null || skip_rest "no CAP_NET_ADMIN: cannot create a network namespace (run as root)"
if ! { nsx ip link set lo up && nsx ip tuntap add dev ex0 mode tun && nsx ip addr add 10.77.0.1/24 dev ex0 &&
	nsx ip link set ex0 up; } >"$tmp/setup" 2>&1; then
	bad "cannot create the TUN device ex0 in namespace $NS" "$tmp/setup"
	summary
	exit 1
fi

# echo_server: 100 KB through it from a kernel socket, then a connection
# left open when it is stopped (reset), then its exit.
bg "$bin/echo_server" ex0 10.77.0.2/24 7 >"$tmp/echo" 2>&1
echo_pid=$!
if ! wait_for 10 grep -q '^listening on' "$tmp/echo"; then
	bad "echo_server did not start" "$tmp/echo"
else
	nsx timeout 30 python3 - >"$tmp/echo.client" 2>&1 <<'EOF'
import os, socket
data = os.urandom(100000)
s = socket.create_connection(("10.77.0.2", 7), timeout=10)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
print("echoed %d bytes, %s" % (len(got), "identical" if got == data else "DIFFERENT"))
EOF
	check "echo_server: 100000 bytes from the kernel come back identical, then FIN" $? "$tmp/echo.client" \
		'^echoed 100000 bytes, identical$'
	wait_for 5 grep -q 'closed, 100000 bytes echoed' "$tmp/echo"
	check "echo_server: reports the connection closed after 100000 bytes" $? "$tmp/echo" \
		'^10\.77\.0\.1 port [0-9]+: closed, 100000 bytes echoed$'
	bg timeout 30 python3 -c '
import socket, time
s = socket.create_connection(("10.77.0.2", 7), timeout=10)
s.sendall(b"still here")
print("echoed:", s.recv(10).decode(), flush=True)
time.sleep(30)' >"$tmp/held" 2>&1
	wait_for 10 grep -q '^echoed: still here$' "$tmp/held" # the connection is open, its 10 bytes echoed
	stop_bg "$echo_pid"
	check "echo_server: SIGTERM resets the open connection, frees everything, exits 0" $? "$tmp/echo" \
		'^10\.77\.0\.1 port [0-9]+: reset: server stopping, 10 bytes echoed$' '^stopped: [0-9]+ frames in'
fi

# http_get: a page from the kernel's python3 http.server, an orderly close
# (the kernel, which closed first, ends in TIME-WAIT: our FIN reached it),
# then a refused connection.
mkdir -p "$tmp/www"
echo "hello from the kernel's HTTP server" >"$tmp/www/index.html"
bg python3 -m http.server 8080 --bind 10.77.0.1 --directory "$tmp/www" >"$tmp/httpd" 2>&1
listening() { nsx ss -Htln 'sport = :8080' | grep -q LISTEN; }
if ! wait_for 20 listening; then
	bad "python3 -m http.server did not start" "$tmp/httpd"
else
	nsx timeout 30 "$bin/http_get" ex0 10.77.0.2/24 10.77.0.1 8080 /index.html >"$tmp/page" 2>"$tmp/get.err"
	rc=$?
	cat "$tmp/get.err" >>"$tmp/page"
	check "http_get: fetches the page, the server closes, our close completes" $rc "$tmp/page" \
		'^HTTP/1\.0 200 OK' "^hello from the kernel's HTTP server$" \
		'^http_get: done, the connection is closed on both sides$'
	nsx ss -Htan state time-wait '( sport = :8080 )' >"$tmp/ss"
	[ -s "$tmp/ss" ]
	check "http_get: the kernel's side of the connection is in TIME-WAIT (it got our FIN)" $? "$tmp/ss" \
		'10\.77\.0\.2'
	nsx timeout 30 "$bin/http_get" ex0 10.77.0.2/24 10.77.0.1 8081 / >"$tmp/refused" 2>&1
	[ $? -eq 1 ]
	check "http_get: a port nobody listens on: exit status 1, connection refused" $? "$tmp/refused" \
		'^http_get: Connection refused$'
fi

summary
[ "$failed" -eq 0 ]
