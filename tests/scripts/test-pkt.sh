#!/usr/bin/env bash
# The packetdrill-syntax runner against two suites:
#  - the FreeBSD TCP test suite's IPv4 and IPv6 scripts (../shared/conformance, read
#    only), in conformance mode with --profile freebsd; known failures are
#    listed with reasons in tests/pkt/EXPECTED_FAILURES;
#  - synack's own scripts in tests/pkt/ and its subdirectories (the
#    segment-level scenarios), in --strict mode with synack's defaults;
#  - the checks synack's language extensions add (tests/pkt/README.md) can
#    fail: each snippet below breaks one expectation and must FAIL with the
#    message given; a script needing what synack lacks (TCP-MD5) is SKIPped.
# Each script counts as one check. Last line: "test-pkt: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
synack=${SYNACK:-$top/build/synack}
suite=$top/../shared/conformance/tcp-testsuite
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0

count() { # LOG: add the runner's closing counts; XFAIL/SKIP lines are shown
	local line
	grep -E '^(FAIL|XFAIL|SKIP) ' "$1"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$1" | tail -n 1)
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "FAIL no summary from synack pkt (log: $(tail -n 3 "$1"))"
		failed=$((failed + 1))
	fi
}

if [ ! -x "$synack" ]; then
	echo "FAIL $synack not built"
	echo "test-pkt: 0 passed, 1 failed"
	exit 1
fi
if [ -d "$suite" ]; then
	mapfile -t scripts < <(find "$suite" -name '*.pkt' | sort)
	"$synack" pkt --profile freebsd --expected-failures "$top/tests/pkt/EXPECTED_FAILURES" "${scripts[@]}" \
		>"$out/freebsd.log" 2>&1
	echo "FreeBSD suite (IPv4 and IPv6, conformance mode): $(tail -n 1 "$out/freebsd.log")"
	count "$out/freebsd.log"
else
	echo "SKIP: $suite not found (the shared conformance scripts sit beside the repository)"
fi
"$synack" pkt --strict "$top/tests/pkt" >"$out/own.log" 2>&1
echo "synack's own scripts (strict mode): $(tail -n 1 "$out/own.log")"
count "$out/own.log"

# refused NAME MESSAGE BODY: a passive open then BODY fails in --strict mode
# with MESSAGE in its FAIL line.
refused() {
	printf '%s\n%s\n' "$open" "$3" >"$out/refused.pkt"
	"$synack" pkt --strict "$out/refused.pkt" >"$out/refused.log" 2>&1
	if [ $? -eq 1 ] && grep -A 2 '^FAIL' "$out/refused.log" | grep -qF -- "$2"; then
		passed=$((passed + 1))
		echo "ok   fails as it should: $1"
	else
		failed=$((failed + 1))
		echo "FAIL does not fail with '$2': $1 ($(grep -E '^(PASS|FAIL)' "$out/refused.log" | head -n 1))"
	fi
}
open='--tolerance_usecs=0
0.000 `sysctl -w synack.tcp.delack=200`
+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 16) = 0
+0 < S 0:0(0) win 65535 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>
+0 > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 1 ecr 100,nop,wscale 3>
0.100 < . 1:1(0) ack 1 win 100 <nop,nop,TS val 110 ecr 1>
+0 accept(3, ..., ...) = 4'
refused "a wrong tcp_info field" "tcpi_snd_wnd is 12800, expected 12801" \
	'+0 %{ assert tcpi_snd_wnd == 12801 }%'
refused "a wrong counter" "counter tcp_passive_opens is 1, expected 2" \
	'+0 %{ assert counter tcp_passive_opens == 2 }%'
refused "a wrong TCB count" "tcb_count is 2, expected 1" '+0 %{ assert tcb_count == 1 }%'
refused "an event not raised" "without EV_RESET" '+0 %{ assert events & EV_RESET }%'
refused "events read twice" "are none, without EV_WRITABLE" \
	'+0 %{ assert events & EV_WRITABLE }%
+0 %{ assert events & EV_WRITABLE }%'
refused "an assertion the runner cannot evaluate" "cannot evaluate" '+0 %{ assert tcpi_nonsense == 1 }%'
refused "an unknown synack setting" "no such synack setting" '+0 `sysctl -w synack.tcp.nonsense=1`'
refused "options in another order" "options written <nop,nop,sack 2001:3001,nop,nop,TS val 201 ecr 110>" \
	'0.200 < . 2001:3001(1000) ack 1 <nop,nop,TS val 200 ecr 1>
+0 > . 1:1(0) ack 1 <nop,nop,sack 2001:3001,nop,nop,TS val 201 ecr 110>'
refused "TS val off the millisecond clock" "TS val 201, expected 202" \
	'0.200 < . 2001:3001(1000) ack 1 <nop,nop,TS val 200 ecr 1>
+0 > . 1:1(0) ack 1 <nop,nop,TS val 202 ecr 110,nop,nop,sack 2001:3001>'
refused "a segment sent by the last event and not expected" "unexpected outbound packet" \
	'0.200 < . 1001:2001(1000) ack 1 <nop,nop,TS val 200 ecr 1>'
refused "an ECN mark synack does not set" "with ECN [noecn], expected [ect0]" \
	'+0 write(4, ..., 10) = 10
+0 > [ect0] P. 1:11(10) ack 1 <nop,nop,TS val 101 ecr 110>'
refused "a TTL synack does not use" "with ttl 64, expected 7" \
	'+0 write(4, ..., 10) = 10
+0 > (ttl 7) P. 1:11(10) ack 1 <nop,nop,TS val 101 ecr 110>'
refused "a TCP_INFO member that differs" "tcpi_snd_mss is 988, expected 1000" \
	'+0 getsockopt(4, SOL_TCP, TCP_INFO, {tcpi_state=TCP_ESTABLISHED, tcpi_snd_mss=1000}, [256]) = 0'
# What synack deliberately lacks is skipped with the reason, not failed.
printf '%s\n%s\n' "$open" '+0 < . 1:1(0) ack 1 win 100 <md5 000102030405060708090a0b0c0d0e0f>' >"$out/skip.pkt"
"$synack" pkt --strict "$out/skip.pkt" >"$out/skip.log" 2>&1
if [ $? -eq 0 ] && grep -q '^SKIP .*TCP-MD5' "$out/skip.log"; then
	passed=$((passed + 1))
	echo "ok   skipped with a reason: a TCP-MD5 option"
else
	failed=$((failed + 1))
	echo "FAIL not skipped: a TCP-MD5 option ($(head -n 1 "$out/skip.log"))"
fi

open='--tolerance_usecs=0
--synack_iss=0x12345678'
refused "--synack_iss not reached (connect() after time 0)" "synack chose ISS" \
	'0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
0.100 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 3>'
echo "test-pkt: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
