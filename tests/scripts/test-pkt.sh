#!/usr/bin/env bash
# The packetdrill-syntax runner against two suites:
#  - the FreeBSD TCP test suite's IPv4 and IPv6 scripts (../shared/conformance, read
#    only), in conformance mode with --profile freebsd; known failures are
#    listed with reasons in tests/pkt/EXPECTED_FAILURES;
#  - synack's own scripts in tests/pkt/, in --strict mode with synack's
#    defaults.
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
"$synack" pkt --strict "$top"/tests/pkt/*.pkt >"$out/own.log" 2>&1
echo "synack's own scripts (strict mode): $(tail -n 1 "$out/own.log")"
count "$out/own.log"
echo "test-pkt: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
