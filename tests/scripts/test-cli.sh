#!/usr/bin/env bash
# The `synack` command's edges (issue 7): strict numbers, write errors,
# addresses synack must refuse, --host-addr leaving no trace, and
# `serve --http` staying inside its document root.
#
# Usage: tests/scripts/test-cli.sh            (after `make`)
#        SYNACK=path/to/synack tests/scripts/test-cli.sh
# Prints one "ok ..." / "FAIL ..." / "SKIP: ..." line per check and a last
# line "test-cli: N passed, N failed"; exits 1 if any check failed.
#
# The checks that need no network (numbers, addresses refused while the
# arguments are parsed, write errors) run anywhere. The others run in a
# private network namespace synack-cli-$$ (removed on exit), as root or
# with CAP_NET_ADMIN; without it they print SKIP:
#   ct0  TUN  kernel 10.61.0.1/24 fd00:61::1/64   synack 10.61.0.2 fd00:61::2
#   ct1  TUN  persistent, no address: what --host-addr adds to it
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SYNACK:-$root/build/synack}
NS=synack-cli-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-cli.XXXXXX")
pass=0
failed=0
pids=()
have_ns=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
skip() { echo "SKIP: $1"; }
check() { # check NAME CONDITION-STATUS [DETAIL]
	if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "${3:-}"; fi
}
summary() { echo "test-cli: $pass passed, $failed failed"; }

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ "$have_ns" -eq 1 ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x "$bin" ]; then
	echo "FAIL $bin is not built (run make)"
	echo "test-cli: 0 passed, 1 failed"
	exit 1
fi

# The namespace, if we may: even the checks that need no network run in it,
# so that a regression (a refused --host-addr that is no longer refused)
# cannot create or configure a device in the caller's namespace.
ns_ok=1
if [ ! -c /dev/net/tun ]; then
	skip "network checks: no /dev/net/tun (load the tun module)"
	ns_ok=0
fi
if [ $ns_ok -eq 1 ]; then
	# Namespaces left by runs killed outright (SIGKILL): their script is gone.
	for old in $(ip netns list 2>/dev/null | awk '/^synack-cli-[0-9]+/ {print $1}'); do
		kill -0 "${old#synack-cli-}" 2>/dev/null || ip netns del "$old" 2>/dev/null
	done
	if ip netns add "$NS" 2>/dev/null; then
		have_ns=1
	else
		skip "network checks: no CAP_NET_ADMIN: cannot create a network namespace (run as root)"
		ns_ok=0
	fi
fi
for t in curl ncat; do
	if [ $ns_ok -eq 1 ] && ! command -v $t >/dev/null; then
		skip "network checks: $t is missing (scripts/deps.sh test installs it)"
		ns_ok=0
	fi
done
pre=()
[ "$have_ns" -eq 1 ] && pre=(ip netns exec "$NS")

# run ARGS...: synack's output in $tmp/out, errors in $tmp/err, status in $rc.
run() {
	timeout -k 5 20 "${pre[@]}" "$bin" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
# one_line STATUS PATTERN: exit STATUS and exactly one line on stderr
# matching the extended regex PATTERN (no sanitizer report, no second line).
one_line() {
	[ "$rc" -eq "$1" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qE -- "$2" "$tmp/err"
}
# expect NAME STATUS PATTERN -- ARGS...
expect() {
	local name=$1 want=$2 pat=$3
	shift 4
	run "$@"
	check "$name: exit $want, one line" $(one_line "$want" "$pat"; echo $?) "rc=$rc $(head -c 300 "$tmp/err")"
}

# ---- numbers: one strict parser (no network) ----

echo "# numbers"
net=(--tun nosuch0 --addr 10.61.0.2/24)
# bad_num CMD OPT VALUE [ARGS...]: exit 2, one line "synack: CMD: --OPT: ..."
bad_num() {
	local cmd=$1 opt=$2 val=$3
	shift 3
	expect "$cmd --$opt '$val' refused" 2 "^synack: $cmd: --$opt: " -- "$cmd" "$@" "--$opt" "$val"
}
for v in 1e300 nan inf -inf NaN Infinity 0x1p3 0x10 ' 1' '1 ' +1 -1 1x '' . 1e 1e-400 0.001 3601; do
	bad_num ping interval "$v" "${net[@]}" 10.61.0.1
done
for v in 1e300 nan inf 0x1p3 -1 +2 3601; do
	bad_num ping wait "$v" "${net[@]}" 10.61.0.1
done
for v in 0x10 -1 +5 ' 5' 1e3 1.5 0 99999999999999999999 4294967296; do
	bad_num ping count "$v" "${net[@]}" 10.61.0.1
done
for v in 0x10 65508 -0; do
	bad_num ping size "$v" "${net[@]}" 10.61.0.1
done
# The short options the outside test used go through the same parser.
expect "ping -i 1e300 (short option) refused" 2 "^synack: ping: --interval: 1e300 is out of range" -- \
	ping "${net[@]}" -i 1e300 10.61.0.1
expect "ping -W 1e300 refused" 2 "^synack: ping: --wait: 1e300 is out of range" -- ping "${net[@]}" -W 1e300 10.61.0.1
for v in 0x10 0x1p-3 0X1P3 nan inf 1e300 ' 0.1' +0.1 0.1x -0 -0.1 100 150% 0x10% 1e2 '%'; do
	bad_num demo loss "$v"
done
for v in 0x10 ' 10' +10 10k 1e3 -5; do
	bad_num demo bytes "$v"
done
bad_num demo delay 1e3
bad_num demo rate -1
bad_num demo seed 18446744073709551616
bad_num demo seed 0x1
for v in 0x50 65536 0 +80; do
	bad_num serve port "$v" "${net[@]}" --echo
done
bad_num serve backlog 1e3 "${net[@]}" --echo
bad_num serve source -1 "${net[@]}"
bad_num serve mtu 0x5dc "${net[@]}" --echo
bad_num serve mtu 575 "${net[@]}" --echo
bad_num connect timeout 1e300 "${net[@]}" 10.61.0.1 80
bad_num connect timeout 0x10 "${net[@]}" 10.61.0.1 80
expect "connect PORT 0x50 refused" 2 "^synack: connect: PORT: " -- connect "${net[@]}" 10.61.0.1 0x50
expect "connect PORT 65536 refused" 2 "^synack: connect: PORT: " -- connect "${net[@]}" 10.61.0.1 65536
# Plain decimals are still numbers.
run demo --loss 0.1 --seed 3 && cp "$tmp/out" "$tmp/loss-a"
run demo --loss 1e-1 --seed 3
check "demo --loss 1e-1 is --loss 0.1 (exit 0, same ladder)" \
	$([ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/loss-a"; echo $?) "rc=$rc $(head -c 200 "$tmp/err")"
run demo --loss 10% --seed 3
check "demo --loss 10% is --loss 0.1" $([ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/loss-a"; echo $?)
expect "ping -i 0.5 -W 1.5 -c 2 parse (then: no such device)" 1 "no such device" -- \
	ping "${net[@]}" -i 0.5 -W 1.5 -c 2 10.61.0.1

# ---- write errors (no network) ----

echo "# write errors"
expect "demo --pcap /dev/full" 1 "^synack: demo: --pcap: writing '/dev/full' failed: No space left on device" -- \
	demo --pcap /dev/full
run demo --pcap "$tmp/ok.pcap"
check "demo --pcap to a file still works (exit 0, a capture)" $([ "$rc" -eq 0 ] && [ -s "$tmp/ok.pcap" ]; echo $?) \
	"rc=$rc"
timeout -k 5 20 "${pre[@]}" "$bin" demo >/dev/full 2>"$tmp/err"
rc=$?
check "demo >/dev/full: exit 1, one line" $(one_line 1 "^synack: demo: writing standard output: No space left"; echo $?) \
	"rc=$rc $(head -c 300 "$tmp/err")"
timeout -k 5 20 "${pre[@]}" "$bin" demo --help >/dev/full 2>"$tmp/err"
rc=$?
check "demo --help >/dev/full: exit 1, one line" $(one_line 1 "writing standard output"; echo $?) \
	"rc=$rc $(head -c 300 "$tmp/err")"
timeout -k 5 20 "${pre[@]}" "$bin" version >&- 2>"$tmp/err"
rc=$?
check "version with standard output closed: exit 1, one line" $(one_line 1 "writing standard output"; echo $?) \
	"rc=$rc $(head -c 300 "$tmp/err")"
expect "demo --pcap in a missing directory" 2 "^synack: demo: --pcap: cannot create" -- \
	demo --pcap "$tmp/no/such/x.pcap"

# ---- synack's own address (no network: refused while parsing) ----

echo "# addresses"
expect "serve --addr without /PREFIX" 2 "^synack: serve: bad address: --addr '10.61.0.2' needs a /PREFIX" -- \
	serve --tun nosuch0 --addr 10.61.0.2 --echo
expect "serve --host-addr without /PREFIX" 2 "^synack: serve: bad address: --host-addr '10.61.0.1' needs a /PREFIX" -- \
	serve --tun nosuch0 --addr 10.61.0.2/24 --host-addr 10.61.0.1 --echo
own_bad() { # own_bad ADDR/PREFIX PHRASE
	expect "serve --addr $1 refused ($2)" 2 "^synack: serve: bad address: --addr $1 is .*$2" -- \
		serve --tun nosuch0 --addr "$1" --echo
}
own_bad 10.61.0.255/24 broadcast
own_bad 10.61.255.255/16 broadcast
own_bad 10.61.0.0/24 network
own_bad 0.0.0.0/24 '"this network"'
own_bad 127.0.0.1/8 loopback
own_bad 224.0.0.1/24 multicast
own_bad 255.255.255.255/32 'limited broadcast'
own_bad 240.0.0.1/24 reserved
own_bad ::/64 unspecified
own_bad ::1/128 loopback
own_bad ff02::1/64 multicast
expect "serve --host-addr 10.61.0.255/24 refused" 2 "^synack: serve: bad address: --host-addr 10.61.0.255/24 is .*broadcast" -- \
	serve --tun nosuch0 --addr 10.61.0.2/24 --host-addr 10.61.0.255/24 --echo
expect "serve --addr and --host-addr one address (other prefix)" 2 "address in use" -- \
	serve --tun nosuch0 --addr 10.61.0.2/24 --host-addr 10.61.0.2/16 --echo
# Accepted (the device is missing, so they stop there, exit 1).
for a in 10.61.0.1/31 10.61.0.7/32 10.61.0.254/24 fd00:61::/64 fe80::2/64; do
	expect "serve --addr $a accepted" 1 "no such device" -- serve --tun nosuch0 --addr "$a" --echo
done
dest_bad() { # dest_bad CMD HOST PHRASE
	local extra=()
	[ "$1" = connect ] && extra=(80)
	expect "$1 to $2 refused ($3), before the device is opened" 2 "^synack: $1: bad address: HOST $2 is .*$3" -- \
		"$1" --tun nosuch0 --addr 10.61.0.2/24 --addr fd00:61::2/64 "$2" "${extra[@]}"
}
for c in connect ping; do
	dest_bad $c 10.61.0.2 "synack's own"
	dest_bad $c fd00:61::2 "synack's own"
	dest_bad $c 10.61.0.255 broadcast
	dest_bad $c 10.61.0.0 network
	dest_bad $c 255.255.255.255 'limited broadcast'
	dest_bad $c 0.0.0.0 '"this network"'
	dest_bad $c :: unspecified
	dest_bad $c 127.0.0.1 loopback
	dest_bad $c 224.0.0.1 multicast
	dest_bad $c ff02::1 multicast
done

# ---- in a network namespace ----

if [ $ns_ok -eq 0 ]; then
	summary
	[ "$failed" -eq 0 ]
	exit
fi

nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
if ! { nsx ip tuntap add dev ct0 mode tun && nsx ip addr add 10.61.0.1/24 dev ct0 &&
	nsx ip -6 addr add fd00:61::1/64 dev ct0 nodad && nsx ip link set ct0 up &&
	nsx ip tuntap add dev ct1 mode tun; }; then
	skip "network checks: cannot create TUN devices in the namespace"
	summary
	[ "$failed" -eq 0 ]
	exit
fi

# start_serve NAME [ENV=V...] -- SERVE-ARGS...: `synack serve` in the
# background until it listens; sets $srv_pid and $srv_log. timeout runs
# with --foreground: otherwise it follows the signal it forwards with a
# SIGCONT, which can cancel the SIGSTOP of LeakSanitizer's exit-time
# ptrace of an ASan build and leave it waiting forever.
start_serve() {
	srv_log="$tmp/serve.$1.log"
	shift
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	ip netns exec "$NS" env "${envs[@]}" timeout --foreground -k 5 120 "$bin" serve "$@" </dev/null >"$srv_log" 2>&1 &
	srv_pid=$!
	pids+=($srv_pid)
	for _ in $(seq 100); do
		grep -q "listening on" "$srv_log" && return 0
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "  serve did not start: $(head -c 300 "$srv_log")"
	return 1
}
# stop_serve NAME [SIGNAL]: the server exits 0 with no sanitizer report.
stop_serve() {
	kill -"${2:-TERM}" "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	local rc=$?
	check "$1: serve exits 0 on SIG${2:-TERM}, no sanitizer report" \
		$([ $rc -eq 0 ] && ! grep -qE 'Sanitizer|runtime error' "$srv_log"; echo $?) \
		"rc=$rc $(grep -m1 -E 'Sanitizer|runtime error' "$srv_log")"
}
has_addr() { nsx ip -o addr show dev "$1" | grep -qF " $2/"; }

# ---- connect/ping to an impossible address: nothing onto the link ----

echo "# impossible destinations on a real device"
rx() { nsx cat /sys/class/net/ct0/statistics/rx_packets; }
run_ns() {
	timeout -k 5 20 ip netns exec "$NS" "$bin" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
before=$(rx)
for h in 10.61.0.2 10.61.0.255; do
	run_ns connect --tun ct0 --addr 10.61.0.2/24 --timeout 2 "$h" 80
	check "connect ct0 -> $h: exit 2, one line" $(one_line 2 "bad address: HOST $h"; echo $?) \
		"rc=$rc $(head -c 300 "$tmp/err")"
	run_ns ping --tun ct0 --addr 10.61.0.2/24 -c 1 -W 1 "$h"
	check "ping ct0 -> $h: exit 2, one line" $(one_line 2 "bad address: HOST $h"; echo $?) \
		"rc=$rc $(head -c 300 "$tmp/err")"
done
sleep 0.2
after=$(rx)
check "no frame reached the kernel from those runs (ct0 rx_packets $before -> $after)" \
	$([ "$before" = "$after" ]; echo $?)

# connect writes what it receives with write(2): a failure is one line too.
echo "# connect: a write error on standard output"
echo "data for a full disk" >"$tmp/small"
ip netns exec "$NS" timeout -k 5 20 ncat -l 10.61.0.1 5100 --send-only <"$tmp/small" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	nsx ss -Hltn "sport = :5100" | grep -q . && break
	sleep 0.1
done
timeout -k 5 20 ip netns exec "$NS" "$bin" connect --tun ct0 --addr 10.61.0.2/24 10.61.0.1 5100 \
	</dev/null >/dev/full 2>"$tmp/err"
rc=$?
check "connect >/dev/full: exit 1, one line" \
	$(one_line 1 "^synack: connect: writing standard output: No space left on device"; echo $?) \
	"rc=$rc $(head -c 300 "$tmp/err")"

# ---- --host-addr on a device that already existed ----

echo "# --host-addr leaves no trace"
hostaddr_run() { # hostaddr_run LABEL SIGNAL
	start_serve "host-$1" -- --tun ct1 --addr 10.62.0.2/24 --host-addr 10.62.0.1/24 \
		--addr fd00:62::2/64 --host-addr fd00:62::1/64 --mtu 1400 --echo || {
		bad "$1: serve with --host-addr on ct1 starts" "$(head -c 300 "$srv_log")"
		return
	}
	check "$1: while serving, ct1 has 10.62.0.1 and fd00:62::1, mtu 1400" \
		$(has_addr ct1 10.62.0.1 && has_addr ct1 fd00:62::1 && nsx ip link show ct1 | grep -q 'mtu 1400'; echo $?) \
		"$(nsx ip -o addr show dev ct1 | tr '\n' ' ')"
	local out
	out=$(echo "hello-$1" | nsx timeout -k 5 10 ncat 10.62.0.2 7 2>&1)
	check "$1: ncat through the added address" $([ "$out" = "hello-$1" ]; echo $?) "$out"
	stop_serve "$1" "$2"
	check "$1: after SIG$2 the added addresses are gone, the MTU is back to 1500" \
		$(! has_addr ct1 10.62.0.1 && ! has_addr ct1 fd00:62::1 && nsx ip link show ct1 | grep -q 'mtu 1500'; echo $?) \
		"$(nsx ip -o addr show dev ct1 | tr '\n' ' ') $(nsx ip link show ct1 | head -1)"
	check "$1: the device itself is still there" $(nsx ip link show ct1 >/dev/null 2>&1; echo $?)
}
hostaddr_run sigterm TERM
hostaddr_run sigint INT

# An address the device already had is the user's: kept, as is.
nsx ip addr add 10.63.0.1/24 dev ct1
start_serve host-preexisting -- --tun ct1 --addr 10.63.0.2/24 --host-addr 10.63.0.1/24 --echo ||
	bad "preexisting: serve starts" "$(head -c 300 "$srv_log")"
stop_serve preexisting TERM
check "an address ct1 had before synack is still there after exit" $(has_addr ct1 10.63.0.1; echo $?) \
	"$(nsx ip -o addr show dev ct1 | tr '\n' ' ')"
nsx ip addr del 10.63.0.1/24 dev ct1

# A command that ends by itself (connection refused) cleans up too.
timeout -k 5 20 ip netns exec "$NS" "$bin" connect --tun ct1 --addr 10.64.0.2/24 --host-addr 10.64.0.1/24 \
	10.64.0.1 5999 </dev/null >/dev/null 2>"$tmp/err"
rc=$?
check "connect --host-addr, refused: exit 1, one line" $(one_line 1 "connection refused"; echo $?) \
	"rc=$rc $(head -c 300 "$tmp/err")"
check "... and 10.64.0.1 is gone from ct1 afterwards" $(! has_addr ct1 10.64.0.1; echo $?) \
	"$(nsx ip -o addr show dev ct1 | tr '\n' ' ')"

# ---- serve --http stays under its root ----

echo "# serve --http: nothing outside the document root"
www=$tmp/www
mkdir -p "$www/sub/deeper" "$tmp/outside"
echo "<h1>root</h1>" >"$www/index.html"
echo "page" >"$www/sub/page.txt"
echo "deeper" >"$www/sub/deeper/x.txt"
echo "sub index" >"$www/sub/index.html"
echo "a..b" >"$www/a..b.txt"
echo "secret" >"$tmp/outside/secret.txt"
echo "secret" >"$tmp/secret.txt"
ln -s "$tmp/outside" "$www/sub/up"          # a directory symlink leading out
ln -s "$tmp/outside/secret.txt" "$www/link.txt" # a file symlink leading out
ln -s index.html "$www/alias.html"          # a file symlink inside the root
ln -s .. "$www/sub/parent"                  # a directory symlink to the root
mkfifo "$www/fifo"                          # must not stall the server

get() { # get PATH: $code and the body in $tmp/body
	rm -f "$tmp/body"
	code=$(nsx timeout -k 5 10 curl -s --path-as-is -o "$tmp/body" -w '%{http_code}' "http://10.61.0.2$1")
}
served() { # served LABEL PATH TEXT
	get "$2"
	check "$1: GET $2 -> 200 '$3'" $([ "$code" = 200 ] && [ "$(cat "$tmp/body")" = "$3" ]; echo $?) "$code"
}
refused() { # refused LABEL PATH
	get "$2"
	check "$1: GET $2 -> refused (403/404)" \
		$({ [ "$code" = 403 ] || [ "$code" = 404 ]; } && ! grep -q secret "$tmp/body"; echo $?) \
		"$code $(head -c 100 "$tmp/body")"
}
http_suite() { # http_suite LABEL [ENV=V...]
	local label=$1
	shift
	start_serve "http-$label" "$@" -- --tun ct0 --addr 10.61.0.2/24 --http "$www" || {
		bad "$label: serve --http starts" "$(head -c 300 "$srv_log")"
		return
	}
	served "$label" / "<h1>root</h1>"
	served "$label" /index.html "<h1>root</h1>"
	served "$label" /sub/page.txt page
	served "$label" /sub/ "sub index"
	served "$label" /sub/deeper/x.txt deeper
	served "$label" /a..b.txt "a..b"
	served "$label" /sub/%70age.txt page
	refused "$label" /sub/up/secret.txt
	refused "$label" /sub/up/
	refused "$label" /link.txt
	refused "$label" /alias.html
	refused "$label" /sub/parent/index.html
	refused "$label" /../secret.txt
	refused "$label" /sub/../../secret.txt
	refused "$label" /%2e%2e/secret.txt
	refused "$label" /%2E%2E/secret.txt
	refused "$label" /sub/%2e%2e/%2e%2e/secret.txt
	refused "$label" /..%2fsecret.txt
	refused "$label" /sub%2fup%2fsecret.txt
	refused "$label" /sub/up%2fsecret.txt
	refused "$label" "/$tmp/secret.txt"
	refused "$label" "/%2f${tmp#/}/secret.txt"
	refused "$label" /fifo
	served "$label" /sub/page.txt page
	stop_serve "$label" TERM
}
http_suite openat2
if cc -shared -fPIC -o "$tmp/no_openat2.so" "$root/tests/cli/no_openat2.c" -ldl 2>"$tmp/cc.err"; then
	http_suite fallback LD_PRELOAD="$tmp/no_openat2.so" NO_OPENAT2_MARK="$tmp/mark" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	check "fallback: the server really met ENOSYS from openat2" $([ -e "$tmp/mark" ]; echo $?)
else
	skip "the openat2 fallback: cannot build tests/cli/no_openat2.c: $(head -c 200 "$tmp/cc.err")"
fi

summary
[ "$failed" -eq 0 ]
