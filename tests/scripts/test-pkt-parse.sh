#!/usr/bin/env bash
# Checks the packetdrill-syntax parser (tools/pkt_parse.c) through
# `synack pkt --parse-only FILE...`:
#  - every script of ../shared/conformance/tcp-testsuite parses (exit 0, and
#    the output names each script on a line of its own);
#  - a set of well-formed snippets using the less common syntax parses;
#  - each malformed snippet is refused (non-zero exit) with a message
#    "FILE:LINE:COL: ..." naming the line of the mistake.
#
# Usage: tests/scripts/test-pkt-parse.sh            (after `make`)
#        SYNACK=path/to/synack tests/scripts/test-pkt-parse.sh
# Prints one "ok ..." or "FAIL ..." line per check and a last line
# "test-pkt-parse: N passed, N failed"; exits 1 if any check failed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SYNACK:-$root/build/synack}
top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) || top=$root
conf=$top/../shared/conformance
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
failed=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
summary() { echo "test-pkt-parse: $pass passed, $failed failed"; }

if ! "$bin" pkt --help >/dev/null 2>&1; then
	echo "SKIP: synack pkt not built yet"
	summary
	exit 0
fi

# parse FILE...: output (stdout and stderr) in $tmp/out, status in $rc.
parse() {
	"$bin" pkt --parse-only "$@" >"$tmp/out" 2>&1
	rc=$?
}

# The conformance scripts: all parse, one line of output each.
conformance() {
	local suite=$conf/tcp-testsuite files=() f missing=0 first=''

	if [ ! -d "$suite" ]; then
		echo "SKIP: no conformance scripts in $suite"
		return
	fi
	while IFS= read -r -d '' f; do files+=("$f"); done \
		< <(find "$suite" -name '*.pkt' -print0 | sort -z)
	if [ "${#files[@]}" -eq 0 ]; then
		bad "conformance scripts" "no *.pkt under $suite"
		return
	fi
	parse "${files[@]}"
	if [ "$rc" -eq 0 ]; then
		ok "parse-only of ${#files[@]} conformance scripts (exit 0)"
	else
		bad "parse-only of ${#files[@]} conformance scripts" "exit $rc"
		grep -E ':[0-9]+:[0-9]+: ' "$tmp/out" | head -n 5
	fi
	for f in "${files[@]}"; do
		if ! grep -qF -- "${f##*/}" "$tmp/out"; then
			missing=$((missing + 1))
			[ -n "$first" ] || first=${f#"$suite"/}
		fi
	done
	if [ "$missing" -eq 0 ]; then
		ok "a line of output per conformance script"
	else
		bad "a line of output per conformance script" "$missing without one, e.g. $first"
	fi
}

HDR='--ip_version=ipv4
--tolerance_usecs=50000
 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3'

# good NAME BODY: a script of $HDR then BODY parses.
good() {
	local f=$tmp/$1.pkt
	printf '%s\n%s\n' "$HDR" "$2" >"$f"
	parse "$f"
	if [ "$rc" -eq 0 ]; then ok "parses: $1"; else bad "parses: $1" "exit $rc: $(head -n 1 "$tmp/out")"; fi
}

# malformed NAME LINE BODY: a script of $HDR then BODY is refused with a
# "FILE:LINE:COL: " message (LINE counted in the whole file).
malformed() {
	local f=$tmp/$1.pkt line=$2
	printf '%s\n%s\n' "$HDR" "$3" >"$f"
	parse "$f"
	if [ "$rc" -eq 0 ]; then
		bad "refused: $1" "exit 0"
	elif ! grep -F -- "$f:$line:" "$tmp/out" | grep -qE ':[0-9]+:[0-9]+: .'; then
		bad "refused: $1" "no '$f:$line:COL: ...' message: $(head -n 1 "$tmp/out")"
	else
		ok "refused: $1 ($(grep -oE ':[0-9]+:[0-9]+: .*' "$tmp/out" | head -n 1 | cut -c2-))"
	fi
}

snippets() {
	good "blocking call and struct" '+0.00 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0
+0.10...0.30 read(3, ..., [1, [2, "a\"b"]]) = -1 EAGAIN (Resource temporarily unavailable)'
	good "time windows and any time" '1.0~1.2 > . 1:1(0) ack 1 <...>
+0.1~+0.3 > S. 0:0(0) ack 1 <sack 1:2 3:4, FO abcdef0123, TS val 4294967295 ecr 1, wscale 14, eol>
* > - 0:0(0) urg 5 <>'
	good "ECN tags" '+0 <[noecn] . 1:1(0) ack 1 win 65535
+0 > [ect0] P. 1:11(10) ack 1'
	good "ifdef branches" '#ifdef NOT_DEFINED
this is ( not parsed
#else
+0 close(3) = 0
#endif'
	good "largest sequence number" '+0 < S 4294967295:4294967295(0) win 65535'
	good "synack's extensions: raw options, ports, bad checksum, any seq" '+0 < S 0:0(0) win 65535 <mss 1000,raw 1e0400ff,nop,raw 0205> sport 0 dport 80 badcsum
+0 > S. ...(0) ack 1 <mss 1460>
+0 %{
assert tcpi_snd_wnd == 32896; assert counter tcp_passive_opens == 1
assert events & EV_RESET|EV_CLOSED
}%'

	good "IP fields" '+0 < (tos 0x10) S 0:0(0) win 65535
+0 > [ect0] (tos 0x2, ttl 64, flowlabel 0x12345) S. 0:0(0) ack 1
+0 < [ce] (ttl 1) . 1:1(0) ack 1 win 65535'
	good "ICMP lines, the quoted segment first or last" '+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]
+0 < [1:1461(1460)] icmp unreachable port_unreachable
+0 > icmp unreachable port_unreachable
+0 < icmp packet_too_big mtu 1280 [1:1441(1440)]
+0 < icmp 3 13'
	good "recv flags and TCP_INFO" '+0 recv(3, ..., 100, MSG_PEEK|MSG_WAITALL) = 100
+0 getsockopt(3, SOL_TCP, TCP_INFO, {tcpi_state=TCP_ESTABLISHED, tcpi_snd_mss=1000}, [256]) = 0'
	malformed "missing ')'" 4 '+0.00 close(3 = 0'
	malformed "bad flags" 4 '+0.00 > Q 0:0(0) win 1000'
	malformed "unterminated backquote" 4 '+0.00 `sysctl -w net.inet.tcp.rfc1323=1
+0.00 close(3) = 0'
	malformed "unterminated code block" 4 '+0.00 %{ assert tcpi_state == TCPI_LISTEN
+0.00 close(3) = 0'
	malformed "sequence number above 2^32-1" 4 '+0.00 < S 4294967296:4294967296(0) win 1000'
	malformed "options not closed" 4 '+0.00 < S 0:0(0) win 1000 <mss 1460,nop
+0.00 close(3) = 0'
	malformed "#endif without #ifdef" 4 '#endif
+0.00 close(3) = 0'
	malformed "#ifdef without #endif" 4 '#ifdef STANDARD
+0.00 close(3) = 0'
	malformed "junk after an event" 4 '+0.00 > . 1:1(0) ack 1 win 1000 junk'
	malformed "raw option with an odd number of digits" 4 '+0.00 < S 0:0(0) win 1000 <raw 020>'
	malformed "raw option without bytes" 4 '+0.00 < S 0:0(0) win 1000 <raw>'
	malformed "badcsum on an outbound packet" 4 '+0.00 > S 0:0(0) win 1000 badcsum'
	malformed "sport written twice" 4 '+0.00 < S 0:0(0) win 1000 sport 1 sport 2'
	malformed "port above 65535" 4 '+0.00 < S 0:0(0) win 1000 dport 65536'
	malformed "unknown IP field" 4 '+0.00 < (hops 3) S 0:0(0) win 1000'
	malformed "IP fields not closed" 4 '+0.00 < (tos 1 S 0:0(0) win 1000'
	malformed "TTL above 255" 4 '+0.00 < (ttl 256) S 0:0(0) win 1000'
	malformed "ICMP line without a type" 4 '+0.00 < icmp'
	malformed "quoted segment on a TCP line" 4 '+0.00 < [1:2(1)] S 0:0(0) win 1000'
	malformed "quoted segment not closed" 4 '+0.00 < icmp unreachable port_unreachable [1:2(1)'
}

conformance
snippets
summary
[ "$failed" -eq 0 ]
