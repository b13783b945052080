#!/usr/bin/env bash
# What `make test` runs (after scripts/deps.sh test). Every step prints its
# name, then one PASS/FAIL/SKIP line per check; test binaries and scripts add
# the counts of their own summary line ("NAME: N passed, N failed"). The last
# line is "N passed, N failed" (", N skipped" when something was skipped), and
# the exit status is 1 when anything failed.
#
# Steps: build; unit and simulation binaries; the unit binaries again under
# ASan+UBSan; the sans-I/O symbol check of the core; the libraries' exported
# symbols (scripts/check-exports.sh); tests/scripts/test-*.sh;
# the demo's pcap read by tshark; the fuzz smoke run (fuzz.mk); the examples
# (make examples, examples/test-examples.sh); make install
# plus a program built against the installed header, library and synack.pc.
#
# Environment: SYNACK_TEST_TIMEOUT (seconds per binary or script, default
# 300), BUILD (default build), JOBS (default 2).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
ASAN_BUILD=build-asan
JOBS=${JOBS:-2}
TIMEOUT=${SYNACK_TEST_TIMEOUT:-300}
BUILD_TIMEOUT=900
FUZZ_TIMEOUT=600

tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
skipped=0
nlog=0
log='' exlog='' flog=''

step() { printf '\n== %s\n' "$*"; }
pass() {
	passed=$((passed + 1))
	printf 'PASS %s\n' "$*"
}
fail() {
	failed=$((failed + 1))
	printf 'FAIL %s\n' "$*"
}
skip() {
	skipped=$((skipped + 1))
	printf 'SKIP: %s\n' "$*"
}
# newlog VAR: set VAR to the name of a fresh log file.
newlog() {
	nlog=$((nlog + 1))
	printf -v "$1" '%s/log.%d' "$tmp" "$nlog"
}
# show FILE [LINES [head]]: print the end (or the start) of a log, indented,
# without tshark's warning about running as root.
show() {
	local n=${2:-40} total
	sed -i '/^Running as user "root" and group "root"/d' "$1"
	total=$(wc -l <"$1")
	if [ "${3:-}" = head ]; then
		head -n "$n" "$1" | sed 's/^/    /'
		[ "$total" -le "$n" ] || printf '    ... (%d more lines not shown)\n' $((total - n))
		return
	fi
	if [ "$total" -gt "$n" ]; then
		# the failing checks first, wherever they are in the log, with
		# the lines that follow each (their details)
		grep -E -A4 '^(FAIL|not ok)' "$1" | head -n 60 | sed 's/^/    | /'
		printf '    ... (%d earlier lines not shown)\n' $((total - n))
	fi
	tail -n "$n" "$1" | sed 's/^/    /'
}
# why RC [LIMIT]: a readable reason for a non-zero exit status.
why() {
	case "$1" in
	124) printf 'timed out after %ss' "${2:-$TIMEOUT}" ;;
	126 | 127) printf 'could not be run (status %s)' "$1" ;;
	*) if [ "$1" -gt 128 ]; then printf 'killed by signal %d' $(($1 - 128)); else printf 'exit status %s' "$1"; fi ;;
	esac
}

# counted LABEL CMD...: run CMD (bounded by TIMEOUT, stdin closed) and add the
# counts of the last "N passed, N failed" line of its output. No such line, or
# a non-zero exit with no failure reported (a crash after the summary, a leak
# report), counts as one failure.
counted() {
	local label=$1 log rc=0 line p f
	shift
	newlog log
	timeout -k 10 "$TIMEOUT" "$@" </dev/null >"$log" 2>&1 || rc=$?
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [[ ! $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		fail "$label: no summary line ($(why "$rc"))"
		show "$log"
		return
	fi
	p=${BASH_REMATCH[1]}
	f=${BASH_REMATCH[2]}
	passed=$((passed + p))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		printf '     %s: %d passed, %d failed\n' "$label" "$p" "$f"
		fail "$label: $(why "$rc") after its summary"
		show "$log"
		return
	fi
	failed=$((failed + f))
	if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
		printf 'FAIL %s: %d passed, %d failed (%s)\n' "$label" "$p" "$f" "$(why "$rc")"
		show "$log"
	else
		printf 'PASS %s: %d passed\n' "$label" "$p"
	fi
}

# build LABEL MAKE-ARGS...: a quiet make -k; on failure show its output.
build() {
	local label=$1 log rc=0
	shift
	newlog log
	timeout -k 10 "$BUILD_TIMEOUT" make --no-print-directory -k -j"$JOBS" "$@" </dev/null >"$log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$label"
	else
		fail "$label ($(why "$rc" "$BUILD_TIMEOUT")): make $*"
		# Errors only: leave out the echoed compile, archive and link commands.
		grep -v -E "^(${CC:-cc}|cc|gcc|clang|ar|sed|install|ln) " "$log" >"$log.err"
		show "$log.err" 150 head
	fi
	return "$rc"
}

# uptodate BUILD-DIR TARGET: true when make has TARGET built from current sources.
uptodate() {
	[ -x "$2" ] && make --no-print-directory -q BUILD="$1" "$2" >/dev/null 2>&1
}

# Unit and simulation binaries, named from the sources so that stale binaries
# of deleted tests never run.
unit_bins=()
for src in tests/unit/test_*.c; do
	[ -e "$src" ] || continue
	name=${src##*/}
	unit_bins+=("tests/${name%.c}")
done
sim_bins=()
for src in tests/sim/*.c; do
	[ -e "$src" ] || continue
	name=${src##*/}
	sim_bins+=("tests/sim_${name%.c}")
done

# run_bins BUILD-DIR PREFIX BIN...: run each binary that is built and current.
run_bins() {
	local dir=$1 prefix=$2 b
	shift 2
	for b in "$@"; do
		if ! uptodate "$dir" "$dir/$b"; then
			fail "$prefix${b##*/}: not built (see the build step)"
			continue
		fi
		counted "$prefix${b##*/}" "${runner[@]}" "$dir/$b"
	done
}

step "build (make -j$JOBS all tests)"
build "build" BUILD="$BUILD" all tests

step "unit and simulation tests ($BUILD/tests)"
runner=()
if [ ${#unit_bins[@]} -eq 0 ] && [ ${#sim_bins[@]} -eq 0 ]; then
	skip "no tests/unit/test_*.c or tests/sim/*.c yet"
else
	run_bins "$BUILD" "" "${unit_bins[@]}" "${sim_bins[@]}"
fi

step "unit and simulation tests under AddressSanitizer + UndefinedBehaviorSanitizer ($ASAN_BUILD)"
if [ ${#unit_bins[@]} -eq 0 ]; then
	skip "no tests/unit/test_*.c yet"
else
	build "build with SAN=1" BUILD="$ASAN_BUILD" SAN=1 "${unit_bins[@]/#/$ASAN_BUILD/}" "${sim_bins[@]/#/$ASAN_BUILD/}"
	# ASan in GCC 12 / clang 14 cannot map its shadow memory when the kernel
	# randomises mmap with more than 28 bits; run without ASLR there.
	runner=()
	rnd=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
	if [ "$rnd" -gt 28 ] && setarch "$(uname -m)" -R true 2>/dev/null; then
		runner=(setarch "$(uname -m)" -R)
		echo "     (vm.mmap_rnd_bits=$rnd: running without ASLR)"
	fi
	export ASAN_OPTIONS=detect_leaks=1
	export UBSAN_OPTIONS=print_stacktrace=1
	run_bins "$ASAN_BUILD" "asan " "${unit_bins[@]}" "${sim_bins[@]}"
	unset ASAN_OPTIONS UBSAN_OPTIONS
	runner=()
fi

step "sans-I/O core and layer symbol checks"
newlog log
if make --no-print-directory BUILD="$BUILD" "$BUILD/core-symbols.ok" </dev/null >"$log" 2>&1; then
	pass "core objects reference no clock, fd, randomness or thread symbols"
else
	fail "core symbol check"
	show "$log" 20
fi
newlog log
if make --no-print-directory BUILD="$BUILD" "$BUILD/layers.ok" </dev/null >"$log" 2>&1; then
	pass "layers point one way: no object uses a symbol of a layer above its own (scripts/check-layers.sh)"
else
	fail "layer check"
	show "$log" 20
fi

step "exported symbols (scripts/check-exports.sh)"
newlog log
if ! make --no-print-directory BUILD="$BUILD" "$BUILD/libsynack.so" "$BUILD/libsynack.a" </dev/null >"$log" 2>&1; then
	fail "exports: $BUILD/libsynack.so and $BUILD/libsynack.a could not be built"
	show "$log" 20
elif scripts/check-exports.sh "$BUILD/libsynack.so" "$BUILD/libsynack.a" >"$log" 2>&1; then
	pass "libsynack.so and libsynack.a export only synack_*/SYNACK_*, every public function"
else
	fail "exports: a library exports a name outside synack_*/SYNACK_* or misses a public function"
	show "$log" 40
fi

step "test scripts (tests/scripts/test-*.sh)"
found=0
for s in tests/scripts/test-*.sh; do
	[ -e "$s" ] || continue
	found=1
	counted "${s##*/}" bash "$s"
done
[ "$found" -eq 1 ] || skip "no tests/scripts/test-*.sh yet"

# The command's own checks (the packetdrill suites, the demo, the kernel
# interop test less its 64 MiB bulk runs) once more with an ASan+UBSan build
# of synack: hostile scripts, every scenario, real peers under loss.
step "synack pkt, demo, interop, cli, tls and threads under AddressSanitizer + UndefinedBehaviorSanitizer"
if build "build synack with SAN=1" BUILD="$ASAN_BUILD" SAN=1 "$ASAN_BUILD/synack"; then
	rnd=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
	asan_run=()
	if [ "$rnd" -gt 28 ] && setarch "$(uname -m)" -R true 2>/dev/null; then
		asan_run=(setarch "$(uname -m)" -R)
	fi
	for s in tests/scripts/test-pkt.sh tests/scripts/test-demo.sh tests/scripts/test-interop.sh tests/scripts/test-cli.sh \
		tests/scripts/test-tls.sh tests/scripts/test-threads.sh; do
		[ -e "$s" ] || continue
		counted "asan ${s##*/}" env SYNACK="$PWD/$ASAN_BUILD/synack" ASAN_OPTIONS=detect_leaks=1 \
			"${asan_run[@]}" bash "$s"
	done
fi

step "demo pcap read by tshark"
pcap=$tmp/demo.pcap
newlog log
if [ ! -x "$BUILD/synack" ]; then
	fail "demo --pcap: $BUILD/synack was not built"
elif ! timeout -k 10 "$TIMEOUT" "$BUILD/synack" demo --pcap "$pcap" </dev/null >"$log" 2>&1; then
	fail "demo --pcap: $BUILD/synack demo --pcap FILE failed"
	show "$log"
elif [ ! -s "$pcap" ]; then
	fail "demo --pcap: no capture written"
else
	pass "demo --pcap writes a capture"
	# Checksum validation on, so that a bad checksum is an Error-level item.
	tsopt=(-n -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE)
	newlog exlog
	bad=
	if ! timeout 120 tshark "${tsopt[@]}" -r "$pcap" -q -z expert </dev/null >"$exlog" 2>"$log"; then
		bad="tshark -z expert failed"
	else
		# Sections look like "Errors (2)" then "  Frequency Group Protocol
		# Summary" rows; flag any Error row and any row in the Malformed group.
		bad=$(awk '
			/^[A-Za-z]+ \([0-9]+\)/ { sect = $1; next }
			$1 ~ /^[0-9]+$/ && NF >= 3 {
				if (sect == "Errors") print "error: " $0
				else if ($2 == "Malformed") print "malformed: " $0
			}
			/[Mm]alformed/ && !($1 ~ /^[0-9]+$/) { print "malformed: " $0 }
		' "$exlog")
		# The same question asked per frame, independently of that layout.
		nbad=$(timeout 120 tshark "${tsopt[@]}" -r "$pcap" \
			-Y '_ws.malformed || _ws.expert.severity == "Error"' </dev/null 2>>"$log" | wc -l)
		if [ "$nbad" -ne 0 ]; then
			bad="${bad:+$bad
}$nbad frame(s) match _ws.malformed or an Error-level expert item"
		fi
	fi
	if [ -z "$bad" ]; then
		pass "pcap: no Malformed and no Error-level expert items"
	else
		fail "pcap: tshark reports problems"
		printf '%s\n' "$bad" | sed 's/^/    /'
		show "$exlog" 30
		show "$log" 10
	fi

	# TCP flags: the three-way handshake first, then a FIN from each side
	# acknowledged by the other, and no RST. tcp.seq/tcp.ack are relative.
	newlog flog
	if ! timeout 120 tshark -n -r "$pcap" -Y tcp -T fields -E separator=/t \
		-e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport \
		-e tcp.flags -e tcp.seq -e tcp.ack -e tcp.len </dev/null >"$flog" 2>"$log"; then
		fail "pcap: tshark could not read the TCP fields"
		show "$log" 10
	else
		while read -r verdict what; do
			if [ "$verdict" = ok ]; then pass "pcap: $what"; else fail "pcap: $what"; fi
		done < <(awk -F '\t' '
			function has(f, bit) { return int(f / bit) % 2 }
			NR == 1 { cli = $1 ":" $2; srv = $3 ":" $4 }
			{
				src = $1 ":" $2; dst = $3 ":" $4
				if (!((src == cli && dst == srv) || (src == srv && dst == cli))) next
				n++
				fl = strtonum_hex($5); s = $6 + 0; a = $7 + 0; l = $8 + 0
				core = has(fl, 1) + 2 * has(fl, 2) + 4 * has(fl, 4) + 16 * has(fl, 16)
				if (n == 1) h1 = (src == cli && core == 2)
				if (n == 2) h2 = (src == srv && core == 18)
				if (n == 3) h3 = (src == cli && core == 16)
				if (has(fl, 4)) rst++
				if (has(fl, 1) && !(src in finend)) finend[src] = s + l + 1
				if (has(fl, 16) && (dst in finend) && a >= finend[dst]) acked[dst] = 1
			}
			function strtonum_hex(x,   i, c, v) {
				v = 0; x = tolower(x); sub(/^0x/, "", x)
				for (i = 1; i <= length(x); i++) {
					c = index("0123456789abcdef", substr(x, i, 1))
					if (c == 0) return -1
					v = v * 16 + c - 1
				}
				return v
			}
			END {
				if (n == 0) { print "fail no TCP segments in the capture"; exit }
				print (h1 && h2 && h3 ? "ok" : "fail") " three-way handshake: SYN, SYN-ACK, ACK first"
				print (cli in acked ? "ok" : "fail") " client FIN sent and acknowledged"
				print (srv in acked ? "ok" : "fail") " server FIN sent and acknowledged"
				print (rst ? "fail " rst " RST segment(s) in a graceful run" : "ok no RST")
			}
		' "$flog")
		if [ ! -s "$flog" ]; then
			show "$log" 10
		fi
	fi
fi

step "fuzz smoke run (make -f fuzz.mk smoke)"
if [ ! -f fuzz.mk ]; then
	skip "fuzz.mk not present yet"
else
	newlog log
	rc=0
	timeout -k 10 "$FUZZ_TIMEOUT" make --no-print-directory -f fuzz.mk smoke </dev/null >"$log" 2>&1 || rc=$?
	nfound=0
	nbad=0
	while read -r name execs crashes; do
		nfound=$((nfound + 1))
		if [ "$crashes" -eq 0 ] && [ "$execs" -gt 0 ]; then
			pass "fuzz $name: $execs executions, 0 crashes"
		else
			fail "fuzz $name: $execs executions, $crashes crashes"
			nbad=$((nbad + 1))
		fi
	done < <(sed -n -E 's/^fuzz ([^:]+): ([0-9]+) executions, ([0-9]+) crashes.*/\1 \2 \3/p' "$log")
	if [ "$rc" -ne 0 ] || [ "$nfound" -eq 0 ]; then
		if [ "$nfound" -eq 0 ]; then
			fail "fuzz smoke: no 'fuzz NAME: N executions, N crashes' lines ($(why "$rc" "$FUZZ_TIMEOUT"))"
		else
			fail "fuzz smoke: make -f fuzz.mk smoke failed ($(why "$rc" "$FUZZ_TIMEOUT"))"
		fi
		show "$log" 60
	elif [ "$nbad" -ne 0 ]; then
		show "$log" 60
	fi
fi

# The examples an embedder starts from, built against the public headers and
# libsynack.a only, and run (the TUN ones in a network namespace, as root).
step "format (make format-check: the tree matches .clang-format)"
newlog log
if scripts/check-format.sh >"$log" 2>&1; then
	if grep -q '^SKIP: ' "$log"; then
		skip "format check: $(sed -n 's/^SKIP: //p' "$log")"
	else
		pass "$(tail -n 1 "$log")"
	fi
else
	fail "format check: files differ from .clang-format (run make format)"
	show "$log" 20
fi

step "examples (make examples; examples/test-examples.sh)"
if build "build examples" BUILD="$BUILD" examples; then
	counted "test-examples.sh" env BUILD="$BUILD" bash examples/test-examples.sh
	# counted keeps the script's output in the newest log: show its SKIP lines.
	while read -r _ why; do skip "examples: $why"; done < <(grep -h '^SKIP: ' "$tmp/log.$nlog")
fi

step "install (make install DESTDIR=... PREFIX=/usr) and pkg-config"
dest=$tmp/dest
newlog log
if ! timeout -k 10 "$BUILD_TIMEOUT" make --no-print-directory BUILD="$BUILD" install DESTDIR="$dest" PREFIX=/usr </dev/null >"$log" 2>&1; then
	fail "make install"
	show "$log" 20
else
	missing=
	for f in include/synack/synack.h lib/libsynack.a lib/libsynack.so lib/libsynack.so.0 \
		lib/pkgconfig/synack.pc bin/synack; do
		[ -e "$dest/usr/$f" ] || missing="$missing $f"
	done
	if [ -z "$missing" ]; then pass "make install puts header, libraries, synack.pc and synack in place"; else fail "make install: missing$missing"; fi

	cat >"$tmp/hello.c" <<'EOF'
#include <synack/synack.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	synack_stack_config cfg;
	synack_stack_config_init(&cfg);
	const char *s = synack_tcp_state_name(SYNACK_TCP_ESTABLISHED);
	printf("synack %s: %s\n", SYNACK_VERSION, s ? s : "(null)");
	return s && strcmp(s, "ESTABLISHED") == 0 ? 0 : 1;
}
EOF
	# The .pc says prefix=/usr; point it at the DESTDIR copy instead.
	pc=(env PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" pkg-config --define-variable=prefix="$dest/usr")
	if ! flags=$("${pc[@]}" --cflags --libs synack 2>"$log"); then
		fail "pkg-config --cflags --libs synack"
		show "$log" 10
	else
		# shellcheck disable=SC2086 # pkg-config output is meant to be split
		if cc -o "$tmp/hello" "$tmp/hello.c" $flags >"$log" 2>&1 &&
			LD_LIBRARY_PATH="$dest/usr/lib" timeout 60 "$tmp/hello" >>"$log" 2>&1; then
			pass "program built with pkg-config flags runs against libsynack.so"
		else
			fail "program built with pkg-config flags against libsynack.so"
			show "$log" 30
		fi
		scflags=$("${pc[@]}" --cflags synack 2>/dev/null)
		slibs=$("${pc[@]}" --libs-only-l --static synack 2>/dev/null | sed 's/-lsynack//')
		# shellcheck disable=SC2086
		if cc -o "$tmp/hello-static" "$tmp/hello.c" $scflags "$dest/usr/lib/libsynack.a" $slibs >"$log" 2>&1 &&
			timeout 60 "$tmp/hello-static" >>"$log" 2>&1; then
			pass "program linked with libsynack.a runs"
		else
			fail "program linked with libsynack.a"
			show "$log" 30
		fi
	fi
fi

echo
if [ "$skipped" -gt 0 ]; then
	printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
else
	printf '%d passed, %d failed\n' "$passed" "$failed"
fi
[ "$failed" -eq 0 ]
